"""Signalements: reporting (address without JavaScript, map point, photo without EXIF),
triage by the service (statuses forward only, rejection with a public reason, closed
reports stay closed), the reporter notified at each step (centre and e-mail), audit,
public list and map data, moderation, categories."""

from __future__ import annotations

import io
import uuid

import pytest
import sqlalchemy as sa
from PIL import Image

from core.db import db
from tests.support import (
    client_on,
    csrf_for,
    signed_in,
    text,
)
from tests.support.participation import citizen, notifications_of, read, service_id, staff
from tests.support.staff import audit_rows

VOIRIE = "Voirie"
ECLAIRAGE = "Éclairage public"


def make_category(app, tenant, name=None, service="Voirie", active=True) -> int:
    from participation.problems.models import ProblemCategory

    sid = service_id(app, tenant, service) if service else None

    def create():
        category = ProblemCategory(
            name=name or f"Catégorie {uuid.uuid4().hex[:6]}", service_id=sid, is_active=active
        )
        db.session.add(category)
        db.session.commit()
        return category.id

    return read(app, tenant, create)


def report_row(app, tenant, report_id: int) -> dict:
    from participation.problems.models import ProblemReport

    def load():
        r = db.session.get(ProblemReport, report_id)
        return {
            "status": r.status.value,
            "status_reason": r.status_reason,
            "service_id": r.service_id,
            "address": r.address,
            "latitude": r.latitude,
            "longitude": r.longitude,
            "image_name": r.image_name,
            "hidden_at": r.hidden_at,
            "reporter_id": r.reporter_id,
            "resolved_at": r.resolved_at,
            "events": [(e.kind.value, e.to_status, e.body, e.is_public) for e in r.events],
        }

    return read(app, tenant, load)


def count_reports(app, tenant) -> int:
    from participation.problems.models import ProblemReport

    return read(
        app,
        tenant,
        lambda: db.session.scalar(sa.select(sa.func.count()).select_from(ProblemReport)),
    )


def post_report(client, **data):
    return client.post(
        "/signalements/nouveau",
        data={"csrf_token": csrf_for(client), **data},
        content_type="multipart/form-data",
    )


def new_id(response) -> int:
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    return int(response.location.rstrip("/").rsplit("/", 1)[1])


def jpeg_with_gps() -> bytes:
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (47.0, 44.0, 59.0), 3: "E", 4: (7.0, 20.0, 21.0)}
    out = io.BytesIO()
    Image.new("RGB", (30, 20), (90, 90, 90)).save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


@pytest.fixture
def uploads_dir(proposals_app, tmp_path):
    previous = proposals_app.config.get("UPLOAD_FOLDER")
    proposals_app.config["UPLOAD_FOLDER"] = str(tmp_path)
    yield tmp_path
    proposals_app.config["UPLOAD_FOLDER"] = previous


@pytest.fixture
def site(proposals_app, tenant):
    category = make_category(proposals_app, tenant, "Nid-de-poule " + uuid.uuid4().hex[:8])
    return proposals_app, tenant, category


# --------------------------------------------------------------------------- reporting


def test_a_citizen_reports_with_an_address_only_as_without_javascript(site):
    app, tenant, category = site
    person = citizen(app, tenant)
    client = signed_in(app, tenant, person)
    page = client.get("/signalements/nouveau")
    assert page.status_code == 200
    html = text(page)
    assert 'name="address"' in html and 'type="hidden"' in html and 'name="latitude"' in html
    response = post_report(
        client,
        category_id=str(category),
        description="Un nid-de-poule profond devant le numéro 12.",
        address="12 rue de la Sinne",
        latitude="",
        longitude="",
    )
    report_id = new_id(response)
    row = report_row(app, tenant, report_id)
    assert row["status"] == "new" and row["address"] == "12 rue de la Sinne"
    assert row["latitude"] is None and row["reporter_id"] == person.id
    assert row["service_id"] == service_id(app, tenant, VOIRIE)  # the category's service
    assert row["events"] == [("created", "new", None, True)]
    shown = text(client.get(f"/signalements/{report_id}"))
    assert "12 rue de la Sinne" in shown and "Nouveau" in shown and person.display_name in shown


def test_a_map_point_is_enough_and_is_checked(site):
    app, tenant, category = site
    client = signed_in(app, tenant, citizen(app, tenant))
    report_id = new_id(
        post_report(
            client,
            category_id=str(category),
            description="Lampadaire en panne depuis une semaine.",
            latitude="47.7465",
            longitude="7.3389",
        )
    )
    row = report_row(app, tenant, report_id)
    assert (row["latitude"], row["longitude"], row["address"]) == (47.7465, 7.3389, None)
    before = count_reports(app, tenant)
    for data, message in (
        ({}, "Indiquez où se trouve le problème"),
        ({"latitude": "47.7"}, "latitude et la longitude"),
        ({"latitude": "95", "longitude": "7"}, "entre -90 et 90"),
        ({"latitude": "abc", "longitude": "7"}, "n'est pas valable"),
    ):
        response = post_report(
            client, category_id=str(category), description="Un problème bien réel ici.", **data
        )
        assert response.status_code == 200 and message in text(response), data
    assert count_reports(app, tenant) == before


def test_the_form_refuses_bad_categories_and_descriptions(site):
    app, tenant, category = site
    inactive = make_category(app, tenant, active=False)
    client = signed_in(app, tenant, citizen(app, tenant))
    before = count_reports(app, tenant)
    cases = (
        ({"description": "Un vrai problème ici.", "address": "Place"}, "Choisissez une catégorie"),
        (
            {"category_id": str(inactive), "description": "Un vrai problème.", "address": "x"},
            "Choisissez une catégorie",
        ),
        (
            {"category_id": "999999", "description": "Un vrai problème.", "address": "x"},
            "catégorie",
        ),
        ({"category_id": str(category), "description": "court", "address": "x"}, "10 caractères"),
        ({"category_id": str(category), "description": "", "address": "x"}, "Décrivez le problème"),
    )
    for data, message in cases:
        response = post_report(client, **data)
        assert response.status_code == 200 and message in text(response), data
    assert count_reports(app, tenant) == before
    # An inactive category is not offered.
    page = text(client.get("/signalements/nouveau"))
    assert f'value="{inactive}"' not in page and f'value="{category}"' in page


def test_reporting_needs_an_account(site):
    app, tenant, category = site
    anonymous = client_on(app, tenant)
    before = count_reports(app, tenant)
    assert anonymous.get("/signalements/nouveau").status_code == 302
    response = post_report(
        anonymous, category_id=str(category), description="Un vrai problème ici.", address="x"
    )
    assert response.status_code == 302 and "/connexion" in response.location
    assert count_reports(app, tenant) == before


def test_the_photo_is_stored_without_exif_and_served_to_this_tenant_only(
    site, uploads_dir, make_tenant
):
    app, tenant, category = site
    client = signed_in(app, tenant, citizen(app, tenant))
    original = jpeg_with_gps()
    response = client.post(
        "/signalements/nouveau",
        data={
            "csrf_token": csrf_for(client),
            "category_id": str(category),
            "description": "Dépôt sauvage au coin de la rue.",
            "address": "Rue du Sauvage",
            "photo": (io.BytesIO(original), "IMG_0001.jpg"),
        },
        content_type="multipart/form-data",
    )
    report_id = new_id(response)
    name = report_row(app, tenant, report_id)["image_name"]
    assert name and name != "IMG_0001.jpg" and name.endswith(".jpg")
    stored = list(uploads_dir.glob(f"t{tenant.id}/images/*.jpg"))
    assert [p.name for p in stored] == [name]
    assert b"Exif" not in stored[0].read_bytes()
    photo = client_on(app, tenant).get(f"/signalements/{report_id}/photo")
    assert photo.status_code == 200 and photo.mimetype == "image/jpeg"
    assert not Image.open(io.BytesIO(photo.data)).getexif().get_ifd(0x8825)
    # Another tenant has no report with this id, and no file with this name.
    other = make_tenant()
    assert client_on(app, other).get(f"/signalements/{report_id}/photo").status_code == 404


def test_a_file_that_is_not_an_image_is_refused_and_nothing_is_kept(site, uploads_dir):
    app, tenant, category = site
    client = signed_in(app, tenant, citizen(app, tenant))
    before = count_reports(app, tenant)
    response = client.post(
        "/signalements/nouveau",
        data={
            "csrf_token": csrf_for(client),
            "category_id": str(category),
            "description": "Dépôt sauvage au coin de la rue.",
            "address": "Rue du Sauvage",
            "photo": (io.BytesIO(b"<svg onload='alert(1)'></svg>"), "photo.jpg"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 200 and "PNG, JPEG ou WebP" in text(response)
    assert count_reports(app, tenant) == before
    assert not list(uploads_dir.glob("**/*.*"))


def test_a_too_large_upload_is_cut_short_with_a_french_page(site, uploads_dir):
    app, tenant, category = site
    app.config["MAX_IMAGE_BYTES"] = 10_000
    try:
        client = signed_in(app, tenant, citizen(app, tenant))
        response = client.post(
            "/signalements/nouveau",
            data={
                "csrf_token": csrf_for(client),
                "category_id": str(category),
                "description": "Dépôt sauvage au coin de la rue.",
                "address": "Rue",
                "photo": (io.BytesIO(b"\xff\xd8\xff" + b"0" * 400_000), "big.jpg"),
            },
            content_type="multipart/form-data",
        )
        assert response.status_code == 413 and "trop volumineuse" in text(response)
    finally:
        app.config["MAX_IMAGE_BYTES"] = None


def test_the_service_address_is_told_of_a_new_report(proposals_app, tenant, smtp):
    from participation.accounts.models import Service

    app = proposals_app
    name = f"Propreté {uuid.uuid4().hex[:6]}"
    address = f"proprete.{uuid.uuid4().hex[:6]}@ville.example.fr"
    sid = service_id(app, tenant, name)

    def set_email():
        db.session.get(Service, sid).email = address
        db.session.commit()

    read(app, tenant, set_email)
    category = make_category(app, tenant, service=name)
    report_id = _report(
        app, tenant, category, citizen(app, tenant), latitude="47.1", longitude="7.2"
    )
    mail = smtp.wait_for_message_to(address)
    assert f"n° {report_id}" in mail["Subject"]
    body = mail.get_body(preferencelist=("plain",)).get_content()
    assert f"/gestion/signalements/{report_id}" in body and "Rue des Fleurs" in body


# --------------------------------------------------------------------------- triage


def _report(app, tenant, category, person, **extra) -> int:
    client = signed_in(app, tenant, person)
    data = {
        "category_id": str(category),
        "description": "Lampadaire en panne rue des Fleurs.",
        "address": "Rue des Fleurs",
    }
    data.update(extra)
    return new_id(post_report(client, **data))


def _status(client, report_id: int, status: str, comment: str = ""):
    return client.post(
        f"/gestion/signalements/{report_id}/statut",
        data={"csrf_token": csrf_for(client), "status": status, "comment": comment},
    )


def test_the_service_moves_the_report_on_and_the_reporter_is_told_each_time(site, smtp):
    app, tenant, category = site
    reporter = citizen(app, tenant)
    report_id = _report(app, tenant, category, reporter)
    agent, agent_person = staff(app, tenant, "agent", services=(VOIRIE,))
    page = agent.get(f"/gestion/signalements/{report_id}")
    assert page.status_code == 200 and "Lampadaire en panne" in text(page)
    steps = [
        ("acknowledged", "Nous avons bien reçu votre signalement.", "Pris en charge"),
        ("in_progress", "Une équipe passe jeudi.", "En cours"),
        ("resolved", "L'ampoule est changée.", "Résolu"),
    ]
    for status, comment, _label in steps:
        response = _status(agent, report_id, status, comment)
        assert response.status_code == 303, text(response)[:1500]
    row = report_row(app, tenant, report_id)
    assert row["status"] == "resolved" and row["resolved_at"] is not None
    assert [e[1] for e in row["events"]] == ["new", "acknowledged", "in_progress", "resolved"]
    notes = notifications_of(app, tenant, reporter.id)
    assert [n["kind"] for n in notes] == ["status.problem"] * 3
    assert [n["url"] for n in notes] == [f"/signalements/{report_id}"] * 3
    assert all(label in n["title"] for n, (_s, _c, label) in zip(notes, steps, strict=True))
    assert notes[1]["body"] == "Une équipe passe jeudi."
    mails = smtp.wait_for(lambda _: len(smtp.messages_to(reporter.email)) >= 3 or None)
    assert mails
    public = text(client_on(app, tenant).get(f"/signalements/{report_id}"))
    assert "Une équipe passe jeudi." in public and "Résolu" in public
    audit = [
        r
        for r in audit_rows(app, tenant, "problems.status_changed")
        if r["target_id"] == str(report_id)
    ]
    assert [r["details"]["to"] for r in audit] == ["acknowledged", "in_progress", "resolved"]
    assert all(r["actor_id"] == agent_person.id for r in audit)
    # Closed: nothing moves any more.
    response = _status(agent, report_id, "in_progress")
    assert response.status_code == 200 and "clos" in text(response)


def test_no_step_back_and_rejection_needs_a_public_reason(site):
    app, tenant, category = site
    reporter = citizen(app, tenant)
    report_id = _report(app, tenant, category, reporter)
    admin, _person = staff(app, tenant, "admin")
    assert _status(admin, report_id, "in_progress").status_code == 303  # a step may be skipped
    response = _status(admin, report_id, "acknowledged")
    assert response.status_code == 200 and "étape précédente" in text(response)
    response = _status(admin, report_id, "rejected", "")
    assert response.status_code == 200 and "publique et obligatoire" in text(response)
    assert report_row(app, tenant, report_id)["status"] == "in_progress"
    reason = "Cette voie est privée : contactez le syndic."
    assert _status(admin, report_id, "rejected", reason).status_code == 303
    row = report_row(app, tenant, report_id)
    assert row["status"] == "rejected" and row["status_reason"] == reason
    assert reason in text(client_on(app, tenant).get(f"/signalements/{report_id}"))
    assert _status(admin, report_id, "resolved").status_code == 200


def test_the_reporter_preferences_govern_the_email_not_the_notification(site, smtp):
    from participation.accounts.models import NotificationFrequency, User

    app, tenant, category = site
    reporter = citizen(app, tenant)

    def never():
        db.session.get(User, reporter.id).notification_frequency = NotificationFrequency.NEVER
        db.session.commit()

    read(app, tenant, never)
    report_id = _report(app, tenant, category, reporter)
    admin, _ = staff(app, tenant, "admin")
    assert _status(admin, report_id, "acknowledged", "Vu.").status_code == 303
    assert len(notifications_of(app, tenant, reporter.id)) == 1
    assert smtp.messages_to(reporter.email) == []


def test_an_agent_handles_only_the_reports_of_their_services(site):
    app, tenant, category = site
    report_id = _report(app, tenant, category, citizen(app, tenant))
    other, _ = staff(app, tenant, "agent", services=(ECLAIRAGE,))
    assert other.get(f"/gestion/signalements/{report_id}").status_code == 403
    assert _status(other, report_id, "acknowledged").status_code == 403
    assert f"N° {report_id}" not in text(other.get("/gestion/signalements/"))
    assert report_row(app, tenant, report_id)["status"] == "new"
    # A moderator sends it to the lighting service: now the other agent has it.
    moderator, moderator_person = staff(app, tenant, "moderator")
    lighting = service_id(app, tenant, ECLAIRAGE)
    response = moderator.post(
        f"/gestion/signalements/{report_id}/service",
        data={"csrf_token": csrf_for(moderator), "service_id": str(lighting)},
    )
    assert response.status_code == 303
    assert report_row(app, tenant, report_id)["service_id"] == lighting
    assert other.get(f"/gestion/signalements/{report_id}").status_code == 200
    assert f"N° {report_id}" in text(other.get("/gestion/signalements/"))
    rows = [
        r for r in audit_rows(app, tenant, "problems.assigned") if r["target_id"] == str(report_id)
    ]
    assert rows and rows[-1]["actor_id"] == moderator_person.id
    assert rows[-1]["details"]["to"] == lighting
    # An agent cannot hand it to a service that is not theirs.
    response = other.post(
        f"/gestion/signalements/{report_id}/service",
        data={"csrf_token": csrf_for(other), "service_id": str(service_id(app, tenant, VOIRIE))},
    )
    assert response.status_code == 200
    assert report_row(app, tenant, report_id)["service_id"] == lighting


# --------------------------------------------------------------------------- public pages


def test_the_public_list_shows_points_names_and_hides_moderated_reports(site):
    app, tenant, category = site
    named = citizen(app, tenant, display_name=f"Léa Martin {uuid.uuid4().hex[:4]}")
    shy = citizen(app, tenant, display_name=f"Paul Discret {uuid.uuid4().hex[:4]}")
    shown_id = _report(app, tenant, category, named, latitude="47.75", longitude="7.34")
    anonymous_id = _report(app, tenant, category, shy, anonymous="y")
    hidden_id = _report(app, tenant, category, named, description="Un texte insultant à masquer.")
    moderator, _ = staff(app, tenant, "moderator")
    response = moderator.post(
        f"/gestion/signalements/{hidden_id}/masquer",
        data={"csrf_token": csrf_for(moderator), "reason": "Propos injurieux"},
    )
    assert response.status_code == 303
    assert report_row(app, tenant, hidden_id)["hidden_at"] is not None
    visitor = client_on(app, tenant)
    page = visitor.get("/signalements")
    assert page.status_code == 200
    html = text(page)
    assert f"/signalements/{shown_id}" in html and f"/signalements/{anonymous_id}" in html
    assert f'/signalements/{hidden_id}"' not in html and "insultant" not in html
    assert 'data-lat="47.750000"' in html and 'data-lon="7.340000"' in html
    assert named.display_name in html and shy.display_name not in html
    assert "Participant·e anonyme" in html
    assert "leaflet/leaflet.js" in html and "<script>" not in html
    # The map is an enhancement: hidden until the script shows it.
    assert 'id="carte" class="problem-map" hidden' in html
    response = visitor.get(f"/signalements/{hidden_id}")
    assert response.status_code == 404 and "masqué par la modération" in text(response)
    assert moderator.get(f"/signalements/{hidden_id}").status_code == 200  # staff still see it
    # Restored, it is public again.
    moderator.post(
        f"/gestion/signalements/{hidden_id}/afficher",
        data={"csrf_token": csrf_for(moderator), "reason": "Texte corrigé"},
    )
    assert visitor.get(f"/signalements/{hidden_id}").status_code == 200
    assert {r["action"] for r in audit_rows(app, tenant) if r["target_id"] == str(hidden_id)} >= {
        "problems.hidden",
        "problems.restored",
    }


def test_public_filters_and_escaping(site):
    app, tenant, category = site
    other_category = make_category(app, tenant, "Tags " + uuid.uuid4().hex[:8])
    person = citizen(app, tenant)
    script_id = _report(
        app,
        tenant,
        other_category,
        person,
        description="<script>alert('x')</script> un tag sur le mur",
    )
    visitor = client_on(app, tenant)
    html = visitor.get(f"/signalements?categorie={other_category}").get_data(as_text=True)
    assert f"/signalements/{script_id}" in html
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    html = visitor.get(f"/signalements?categorie={other_category}&statut=resolved").get_data(
        as_text=True
    )
    assert f"/signalements/{script_id}" not in html
    assert visitor.get("/signalements?page=999").status_code == 404
    assert visitor.get("/signalements?statut=nimportequoi").status_code == 200


def test_the_csp_lets_the_map_load_openstreetmap_tiles(site):
    """The tile host of problems.js must be allowed by img-src (``https:`` or the host)."""
    import re
    from pathlib import Path

    import participation.problems as package

    app, tenant, _category = site
    script = (Path(package.__file__).parent / "static" / "problems.js").read_text()
    host = re.search(r'TILES = "https://([^/]+)/', script).group(1)
    assert host.endswith("openstreetmap.org")
    csp = client_on(app, tenant).get("/signalements").headers["Content-Security-Policy"]
    img = next(part for part in csp.split(";") if part.strip().startswith("img-src")).split()
    allowed = "https:" in img or f"https://{host}" in img
    parent = host.split(".", 1)[1]
    allowed = allowed or f"https://*.{parent}" in img
    assert allowed, (host, img)
    assert "script-src 'self'" in csp


def test_leaflet_is_served_from_the_package(site):
    app, tenant, _category = site
    visitor = client_on(app, tenant)
    for path in (
        "leaflet/leaflet.js",
        "leaflet/leaflet.css",
        "leaflet/images/marker-icon.png",
        "leaflet/LICENSE",
        "problems.js",
    ):
        response = visitor.get(f"/signalements-static/{path}")
        assert response.status_code == 200, path
        response.close()


# --------------------------------------------------------------------------- categories


def test_an_admin_manages_the_categories_and_it_is_audited(site):
    app, tenant, _category = site
    admin, admin_person = staff(app, tenant, "admin")
    voirie = service_id(app, tenant, VOIRIE)
    name = f"Mobilier urbain {uuid.uuid4().hex[:8]}"
    response = admin.post(
        "/gestion/signalements/categories/nouvelle",
        data={
            "csrf_token": csrf_for(admin),
            "name": name,
            "description": "Bancs, poubelles",
            "service_id": str(voirie),
            "position": "3",
            "is_active": "y",
        },
    )
    assert response.status_code == 303
    from participation.problems.models import ProblemCategory

    category_id = read(
        app,
        tenant,
        lambda: db.session.scalar(
            sa.select(ProblemCategory.id).where(ProblemCategory.name == name)
        ),
    )
    assert category_id
    response = admin.post(
        "/gestion/signalements/categories/nouvelle",
        data={"csrf_token": csrf_for(admin), "name": name.upper(), "service_id": ""},
    )
    assert response.status_code == 200 and "déjà ce nom" in text(response)
    response = admin.post(
        f"/gestion/signalements/categories/{category_id}",
        data={"csrf_token": csrf_for(admin), "name": name, "service_id": "", "position": "1"},
    )
    assert response.status_code == 303
    assert (
        read(app, tenant, lambda: db.session.get(ProblemCategory, category_id).is_active) is False
    )
    rows = [r for r in audit_rows(app, tenant) if r["target_type"] == "problem_category"]
    assert [r["action"] for r in rows if r["target_id"] == str(category_id)] == [
        "problems.category_created",
        "problems.category_updated",
    ]
    assert rows[-1]["actor_id"] == admin_person.id
    moderator, _ = staff(app, tenant, "moderator")
    assert moderator.get("/gestion/signalements/categories").status_code == 403


# --------------------------------------------------------------------------- schema


def test_the_migrations_match_the_models(proposals_app, tenant):
    """t0007 and t0008 create exactly what the models declare (columns, types, defaults,
    indexes, constraints), in a real tenant schema."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from participation.meetings.models import Meeting, MeetingProposal, MeetingRegistration
    from participation.problems.models import ProblemCategory, ProblemReport, ProblemReportEvent

    schema = tenant.schema
    models = (
        ProblemCategory,
        ProblemReport,
        ProblemReportEvent,
        Meeting,
        MeetingRegistration,
        MeetingProposal,
    )
    # ``index=True`` names: the ORM's label would carry the schema, the migration does not.
    convention = {**db.metadata.naming_convention, "ix": "ix_%(table_name)s_%(column_0_name)s"}
    metadata = sa.MetaData(naming_convention=convention)
    # Every tenant table, so that foreign keys resolve; only ours are compared.
    for table in db.metadata.sorted_tables:
        if table.schema == "tenant":
            table.to_metadata(metadata, schema=schema, referred_schema_fn=lambda *args: schema)
    names = {m.__tablename__ for m in models}

    def include_name(name, type_, parent_names):
        return name == schema if type_ == "schema" else True

    def include_object(obj, name, type_, reflected, compare_to):
        table = obj if type_ == "table" else getattr(obj, "table", None)
        return table is None or table.name in names

    with proposals_app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "include_schemas": True,
                "include_name": include_name,
                "include_object": include_object,
                "compare_type": True,
                "compare_server_default": True,
            },
        )
        diff = compare_metadata(context, metadata)
        checks = {
            c["name"]
            for table in ("problem_reports", "meetings")
            for c in sa.inspect(conn).get_check_constraints(table, schema)
        }
    assert diff == [], "\n".join(map(str, diff))
    assert {
        "ck_problem_reports_rejection_has_reason",
        "ck_problem_reports_has_location",
        "ck_meetings_has_place",
        "ck_meetings_capacity_positive",
    } <= checks
