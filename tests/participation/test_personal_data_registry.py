"""The personal-data registry (issue 13 §3): every registered section is in "Télécharger mes
données", every erasure rule runs with "Supprimer mon compte", and the catalogue of both
schemas is covered — a table added without an export and an erasure rule fails here."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from core.db import db
from tests.support import create_user


def _world(user_id: int, other_id: int) -> dict:
    """One of everything a citizen leaves behind, flushed in the caller's transaction."""
    from participation.budgets.models import (
        BallotChannel,
        Budget,
        CensusEntry,
        Eligibility,
        EligibilityStatus,
        Voter,
    )
    from participation.engagement.models import Follow
    from participation.meetings.models import Meeting, MeetingRegistration, RegistrationStatus
    from participation.problems.models import ProblemCategory, ProblemReport
    from participation.processes.models import Process
    from participation.proposals.models import Proposal, Support

    tag = uuid.uuid4().hex[:6]
    process = Process(title=f"Berges de l'Ill {tag}")
    db.session.add(process)
    db.session.flush()
    proposal = Proposal(
        process_id=process.id,
        author_id=user_id,
        title="Des bancs à l'ombre quai des Pêcheurs",
        body="Trois bancs sous les platanes.",
        latitude=47.7471,
        longitude=7.3389,
        image_path="0123456789abcdef0123456789abcdef.jpg",
    )
    db.session.add(proposal)
    db.session.flush()
    db.session.add(Support(proposal_id=proposal.id, user_id=user_id))
    db.session.add(Follow(user_id=user_id, target_type="proposal", target_id=proposal.id))
    category = ProblemCategory(name=f"Voirie {tag}")
    db.session.add(category)
    db.session.flush()
    report = ProblemReport(
        category_id=category.id,
        reporter_id=user_id,
        description="Nid-de-poule devant le 12 rue du Sauvage",
        address="12 rue du Sauvage, Mulhouse",
        latitude=47.7459,
        longitude=7.3381,
        image_name="fedcba9876543210fedcba9876543210.jpg",
    )
    budget = Budget(
        title=f"Budget participatif {tag}",
        submission_starts_on=date(2025, 1, 1),
        submission_ends_on=date(2025, 2, 1),
        vote_starts_on=date(2025, 3, 1),
        vote_ends_on=date(2025, 3, 31),
        implementation_starts_on=date(2025, 5, 1),
    )
    db.session.add_all([report, budget])
    db.session.flush()
    census = CensusEntry(
        budget_id=budget.id,
        full_name="Yasmine Benali",
        normalised_name="benali yasmine",
        birth_date=date(1990, 5, 17),
    )
    db.session.add(census)
    db.session.flush()
    eligibility = Eligibility(
        budget_id=budget.id,
        user_id=user_id,
        full_name="Yasmine Benali",
        birth_date=date(1990, 5, 17),
        resident=True,
        status=EligibilityStatus.APPROVED,
        census_entry_id=census.id,
    )
    voter = Voter(
        budget_id=budget.id,
        user_id=user_id,
        census_entry_id=census.id,
        channel=BallotChannel.ONLINE,
    )
    starts = datetime.now(UTC) + timedelta(days=10)
    meeting = Meeting(
        title=f"Atelier berges {tag}",
        starts_at=starts,
        ends_at=starts + timedelta(hours=2),
        capacity=1,
        address="Maison du quartier Drouot, Mulhouse",
        published_at=datetime.now(UTC),
    )
    db.session.add_all([eligibility, voter, meeting])
    db.session.flush()
    mine = MeetingRegistration(
        meeting_id=meeting.id, user_id=user_id, status=RegistrationStatus.CONFIRMED
    )
    db.session.add(mine)
    db.session.flush()
    waiting = MeetingRegistration(
        meeting_id=meeting.id, user_id=other_id, status=RegistrationStatus.WAITING
    )
    db.session.add(waiting)
    db.session.flush()
    return {
        "proposal": proposal.id,
        "report": report.id,
        "budget": budget.id,
        "eligibility": eligibility.id,
        "voter": voter.id,
        "census": census.id,
        "meeting": meeting.id,
        "waiting": waiting.id,
    }


@pytest.fixture
def citizens(app, tenant_a):
    return create_user(app, tenant_a, display_name="Yasmine Benali"), create_user(app, tenant_a)


def test_the_export_holds_every_registered_section(app, tenant_a, citizens):
    from participation.accounts.models import User
    from participation.accounts.tasks import build_archive
    from tenants.context import tenant_context

    user, other = citizens
    with app.app_context(), tenant_context(tenant_a):
        ids = _world(user.id, other.id)
        buffer = io.BytesIO()
        written = build_archive(db.session.get(User, user.id), buffer)
        db.session.rollback()
    with zipfile.ZipFile(buffer) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    data = {name: json.loads(raw) for name, raw in files.items() if name.endswith(".json")}
    for name in (
        "profil.json",
        "propositions.json",
        "signalements.json",
        "budgets_participatifs.json",
        "reunions.json",
        "suivis_notifications_signalements.json",
    ):
        assert name in written, name
    proposal = data["propositions.json"]["propositions"][0]
    assert proposal["id"] == ids["proposal"]
    assert proposal["position"] == {"latitude": 47.7471, "longitude": 7.3389}
    assert proposal["image"].endswith(".jpg")
    assert data["propositions.json"]["soutiens"][0]["proposition"] == ids["proposal"]
    report = data["signalements.json"]["signalements"][0]
    assert report["position"]["latitude"] == 47.7459 and report["photo"].endswith(".jpg")
    assert report["adresse"] == "12 rue du Sauvage, Mulhouse"
    budgets = data["budgets_participatifs.json"]
    assert budgets["eligibilite"][0]["nom_complet"] == "Yasmine Benali"
    assert budgets["eligibilite"][0]["date_de_naissance"] == "1990-05-17"
    assert budgets["liste_electorale"][0]["naissance"] == "1990-05-17"
    assert len(budgets["registre_des_votants"]) == 1
    assert data["reunions.json"]["inscriptions"][0]["statut"] == "confirmed"
    assert "budgets_participatifs.json" in files["LISEZMOI.txt"].decode()


def test_erasure_runs_every_rule_and_frees_the_meeting_seat(app, tenant_a, citizens):
    from participation.accounts import services
    from participation.accounts.models import User
    from participation.budgets.models import CensusEntry, Eligibility, Voter
    from participation.engagement.models import Follow
    from participation.meetings.models import MeetingRegistration, RegistrationStatus
    from participation.problems.models import ProblemReport
    from tenants.context import tenant_context

    user, other = citizens
    with app.app_context(), tenant_context(tenant_a):
        ids = _world(user.id, other.id)
        services.delete_account(db.session.get(User, user.id))
        db.session.expire_all()
        assert db.session.get(Eligibility, ids["eligibility"]) is None
        voter = db.session.get(Voter, ids["voter"])
        assert voter.user_id is None and voter.voter_label is None
        assert voter.census_entry_id == ids["census"]  # one vote per census entry still holds
        assert db.session.get(CensusEntry, ids["census"]) is not None
        assert not db.session.scalars(
            sa.select(MeetingRegistration).where(MeetingRegistration.user_id == user.id)
        ).all()
        promoted = db.session.get(MeetingRegistration, ids["waiting"])
        assert promoted.status == RegistrationStatus.CONFIRMED and promoted.promoted_at
        assert db.session.get(ProblemReport, ids["report"]).is_anonymous is True
        assert not db.session.scalars(sa.select(Follow).where(Follow.user_id == user.id)).all()
        stored = db.session.get(User, user.id)
        assert stored.email is None and stored.display_name == User.ANONYMOUS_NAME
        db.session.rollback()


# --------------------------------------------------------------------------- the catalogue


def _uncovered(tables, scope: str, registry, not_personal: dict[str, str]) -> dict[str, set]:
    from core.personal_data import Erasure, personal_columns

    problems: dict[str, set] = {}
    for table in tables:
        allowed = {key.split(".", 1)[1] for key in not_personal if key.split(".")[0] == table.name}
        wanted = personal_columns(table, scope) - allowed
        if not wanted:
            continue
        covered = registry.covered_columns(table.name)
        missing = wanted - covered
        for entry, rule in registry.tables().get(table.name, []):
            if entry.export is None or (rule.erasure != Erasure.KEEP and entry.erase is None):
                missing |= set(rule.columns)
        if missing:
            problems[table.name] = missing
    return problems


def _tenant_tables(metadata):
    return [t for t in metadata.tables.values() if t.schema == "tenant"]


def _platform_tables(metadata):
    return [t for t in metadata.tables.values() if t.schema in (None, "public")]


def test_every_personal_column_of_the_tenant_schema_is_registered(app, tenant_a):
    from participation.accounts.personal_data import TENANT_NOT_PERSONAL, registry

    assert _uncovered(_tenant_tables(db.metadata), "tenant", registry, TENANT_NOT_PERSONAL) == {}
    # Every allow-list entry names a real column and gives a reason.
    for key, reason in TENANT_NOT_PERSONAL.items():
        table, column = key.split(".")
        assert column in db.metadata.tables[f"tenant.{table}"].columns and reason


def test_a_table_added_without_rules_fails_the_catalogue_test(app):
    from participation.accounts.personal_data import TENANT_NOT_PERSONAL, registry

    metadata = sa.MetaData()
    for table in _tenant_tables(db.metadata):
        table.to_metadata(metadata)
    sa.Table(
        "petitions",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("signer_id", sa.Integer, sa.ForeignKey("tenant.users.id")),
        sa.Column("postal_address", sa.String(300)),
        sa.Column("motive", sa.Text),  # not caught by name: only the two columns above
        schema="tenant",
    )
    problems = _uncovered(_tenant_tables(metadata), "tenant", registry, TENANT_NOT_PERSONAL)
    assert problems == {"petitions": {"signer_id", "postal_address"}}


def test_the_provisioned_schema_has_no_table_outside_the_models(app, tenant_a):
    """The walk above reads the models; a table made by a migration only would escape it."""
    with app.app_context(), db.engine.connect() as conn:
        names = set(
            conn.execute(
                sa.text("SELECT table_name FROM information_schema.tables WHERE table_schema = :s"),
                {"s": f"t_{tenant_a.id}"},
            ).scalars()
        )
    modelled = {t.name for t in _tenant_tables(db.metadata)}
    assert names - modelled - {"alembic_version"} == set()


def test_every_personal_column_of_the_public_schema_is_registered(app):
    from core.personal_data import PLATFORM_NOT_PERSONAL, platform_registry

    problems = _uncovered(
        _platform_tables(db.metadata), "platform", platform_registry, PLATFORM_NOT_PERSONAL
    )
    assert problems == {}
    metadata = sa.MetaData()
    for table in _platform_tables(db.metadata):
        table.to_metadata(metadata)
    sa.Table(
        "network_event_attendees",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("phone", sa.String(30)),
    )
    assert _uncovered(
        _platform_tables(metadata), "platform", platform_registry, PLATFORM_NOT_PERSONAL
    ) == {"network_event_attendees": {"phone"}}
