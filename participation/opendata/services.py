"""The open-data bundle of one tenant: a ZIP of CSV files (UTF-8, comma-separated, one
header line), a data dictionary and the Licence Ouverte 2.0.

What goes in is what the public pages show, minus every personal datum: no e-mail, no
display name, no identifier of an account. A contribution says whether it comes from a
citizen or from the collectivité's team, nothing more. Hidden and deleted contributions,
draft processes, withdrawn proposals and the contributions of blocked accounts are left
out; internal events (assignments) too.

Each dataset is declared once (:class:`Dataset`), with its fields, their type and meaning:
the dictionary is written from the same declaration as the CSV, so they cannot disagree.
Other packages add theirs with :func:`register_dataset`.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import aliased, joinedload, selectinload

from core import clock
from core.csvexport import open_data_csv
from core.db import db
from participation.accounts.models import User
from participation.debates.models import Argument, Debate
from participation.engagement.comments import Comment
from participation.processes import services as process_services
from participation.processes.models import Process, ProcessState
from participation.proposals import services as proposal_services
from participation.proposals.models import Proposal, ProposalEvent, ProposalEventKind
from tenants.context import TenantRef, current_tenant
from tenants.urls import tenant_url

LICENCE_PATH = Path(__file__).with_name("licence-ouverte-2.0.txt")
MANIFEST = "bundle.json"
PUBLIC_PROCESS_STATES = (ProcessState.PUBLISHED, ProcessState.ARCHIVED)
PUBLIC_EVENT_KINDS = (
    ProposalEventKind.CREATED,
    ProposalEventKind.STATUS,
    ProposalEventKind.ANSWER,
    ProposalEventKind.THRESHOLD,
    ProposalEventKind.WITHDRAWN,
)
CITIZEN, TEAM = "citoyen", "collectivite"


@dataclass(frozen=True)
class Field:
    name: str
    type: str  # entier, texte, date, date-heure, décimal, booléen, url
    meaning: str


@dataclass(frozen=True)
class Dataset:
    filename: str
    title: str
    fields: tuple[Field, ...]
    rows: Callable[[], Iterable[tuple]]


DATASETS: list[Dataset] = []


def register_dataset(dataset: Dataset) -> None:
    """Add (or replace, by file name) a dataset of the bundle."""
    DATASETS[:] = [d for d in DATASETS if d.filename != dataset.filename]
    DATASETS.append(dataset)


# --------------------------------------------------------------------------- helpers


def iso(value: date | datetime | None) -> str:
    return value.isoformat() if value is not None else ""


def _author_kind(user: User | None) -> str:
    return TEAM if user is not None and user.staff_role is not None else CITIZEN


def _not_blocked(author_id_column):
    return ~sa.exists().where(User.id == author_id_column, User.blocked_at.is_not(None))


def _visible(model):
    return sa.and_(
        model.deleted_at.is_(None), model.hidden_at.is_(None), _not_blocked(model.author_id)
    )


def _url(endpoint: str, **values) -> str:
    return tenant_url(current_tenant(), endpoint, **values)


def _public_processes():
    return (
        sa.select(Process)
        .where(Process.state.in_(PUBLIC_PROCESS_STATES))
        .options(
            selectinload(Process.phases),
            joinedload(Process.theme),
            joinedload(Process.neighbourhood),
        )
        .order_by(Process.id)
    )


def _public_proposals():
    return (
        sa.select(Proposal)
        .join(Process, Process.id == Proposal.process_id)
        .where(
            Process.state.in_(PUBLIC_PROCESS_STATES),
            Proposal.hidden_at.is_(None),
            Proposal.withdrawn_at.is_(None),
            _not_blocked(Proposal.author_id),
        )
    )


# --------------------------------------------------------------------------- datasets


def _process_rows():
    today = clock.paris_today()
    for process in db.session.scalars(_public_processes()):
        overview = process_services.process_overview(process, today)
        yield (
            process.id,
            process.title,
            process.summary or "",
            process.description or "",
            process.state.value,
            overview.status.value,
            process.theme.name if process.theme else "",
            process.neighbourhood.name if process.neighbourhood else "",
            iso(overview.starts_on),
            iso(overview.ends_on),
            iso(process.published_at),
            _url("processes.show", process_id=process.id),
        )


def _phase_rows():
    for process in db.session.scalars(_public_processes()):
        for phase in process.phases:
            yield (
                phase.id,
                process.id,
                phase.position,
                phase.kind.value,
                phase.title,
                iso(phase.starts_on),
                iso(phase.ends_on),
                " ".join(process_services.phase_actions(phase)),
            )


def _proposal_rows():
    labels = proposal_services.status_labels()
    comments = (
        sa.select(sa.func.count(Comment.id))
        .where(Comment.proposal_id == Proposal.id, _visible(Comment))
        .correlate(Proposal)
        .scalar_subquery()
    )
    query = (
        _public_proposals()
        .add_columns(comments)
        .options(
            joinedload(Proposal.author),
            joinedload(Proposal.theme),
            joinedload(Proposal.neighbourhood),
        )
        .order_by(Proposal.id)
        .execution_options(yield_per=500)
    )
    for proposal, comment_count in db.session.execute(query):
        yield (
            proposal.id,
            proposal.process_id,
            proposal.title,
            proposal.body,
            _author_kind(proposal.author),
            proposal.theme.name if proposal.theme else "",
            proposal.neighbourhood.name if proposal.neighbourhood else "",
            proposal.status.value,
            labels[proposal.status],
            proposal.status_reason if proposal.status.value == "rejected" else "",
            proposal.answer or "",
            iso(proposal.answered_at) if proposal.answer else "",
            proposal.supports_count,
            comment_count,
            "" if proposal.latitude is None else proposal.latitude,
            "" if proposal.longitude is None else proposal.longitude,
            iso(proposal.created_at),
            _url("proposals.show", proposal_id=proposal.id),
        )


def _event_rows():
    public = _public_proposals().with_only_columns(Proposal.id).subquery()
    query = (
        sa.select(ProposalEvent)
        .where(
            ProposalEvent.proposal_id.in_(sa.select(public.c.id)),
            ProposalEvent.is_public.is_(True),
            ProposalEvent.kind.in_(PUBLIC_EVENT_KINDS),
        )
        .order_by(ProposalEvent.proposal_id, ProposalEvent.created_at, ProposalEvent.id)
        .execution_options(yield_per=1000)
    )
    for event in db.session.scalars(query):
        yield (
            event.proposal_id,
            event.kind.value,
            event.from_status or "",
            event.to_status or "",
            event.body or "",
            iso(event.created_at),
        )


def _debate_rows():
    query = (
        sa.select(Debate)
        .join(Process, Process.id == Debate.process_id)
        .where(Process.state.in_(PUBLIC_PROCESS_STATES))
        .order_by(Debate.id)
    )
    for debate in db.session.scalars(query):
        yield (
            debate.id,
            debate.process_id,
            debate.question,
            debate.description or "",
            debate.state.value,
            iso(debate.created_at),
            _url("debates.show", debate_id=debate.id),
        )


def _argument_rows():
    query = (
        sa.select(Argument)
        .join(Debate, Debate.id == Argument.debate_id)
        .join(Process, Process.id == Debate.process_id)
        .where(Process.state.in_(PUBLIC_PROCESS_STATES), _visible(Argument))
        .options(joinedload(Argument.author))
        .order_by(Argument.id)
        .execution_options(yield_per=1000)
    )
    for argument in db.session.scalars(query):
        yield (
            argument.id,
            argument.debate_id,
            argument.parent_id or "",
            argument.side.value,
            _author_kind(argument.author),
            argument.body,
            iso(argument.created_at),
        )


def _comment_rows():
    on_proposal = aliased(Proposal)
    on_debate = aliased(Debate)
    owner = sa.func.coalesce(Comment.process_id, on_proposal.process_id, on_debate.process_id)
    query = (
        sa.select(Comment)
        .outerjoin(on_proposal, on_proposal.id == Comment.proposal_id)
        .outerjoin(on_debate, on_debate.id == Comment.debate_id)
        .join(Process, Process.id == owner)
        .where(
            Process.state.in_(PUBLIC_PROCESS_STATES),
            _visible(Comment),
            sa.or_(
                Comment.proposal_id.is_(None),
                sa.and_(
                    on_proposal.hidden_at.is_(None),
                    on_proposal.withdrawn_at.is_(None),
                    _not_blocked(on_proposal.author_id),
                ),
            ),
        )
        .options(joinedload(Comment.author))
        .order_by(Comment.id)
        .execution_options(yield_per=1000)
    )
    for comment in db.session.scalars(query):
        if comment.proposal_id is not None:
            target = ("proposition", comment.proposal_id)
        elif comment.debate_id is not None:
            target = ("debat", comment.debate_id)
        else:
            target = ("demarche", comment.process_id)
        yield (
            comment.id,
            *target,
            comment.parent_id or "",
            _author_kind(comment.author),
            comment.body,
            iso(comment.created_at),
        )


ID = Field("id", "entier", "Identifiant, stable, dans cet espace de participation.")
AUTHOR_KIND = Field(
    "auteur_type",
    "texte",
    "« citoyen » ou « collectivite » (équipe de la collectivité). Aucune donnée sur la "
    "personne n'est publiée.",
)

for _dataset in (
    Dataset(
        "demarches.csv",
        "Démarches publiées et archivées",
        (
            ID,
            Field("titre", "texte", "Titre de la démarche."),
            Field("resume", "texte", "Résumé."),
            Field("description", "texte", "Description (Markdown)."),
            Field("etat", "texte", "« published » (publiée) ou « archived » (archivée)."),
            Field(
                "statut",
                "texte",
                "« open » (en cours), « upcoming » (à venir) ou « finished » (terminée), "
                "au jour de l'export.",
            ),
            Field("theme", "texte", "Thème."),
            Field("quartier", "texte", "Quartier concerné ; vide : tout le territoire."),
            Field("debut", "date", "Premier jour de la première phase (AAAA-MM-JJ)."),
            Field("fin", "date", "Dernier jour de la dernière phase."),
            Field("publiee_le", "date-heure", "Date de publication (ISO 8601, UTC)."),
            Field("url", "url", "Page de la démarche."),
        ),
        _process_rows,
    ),
    Dataset(
        "phases.csv",
        "Phases des démarches",
        (
            ID,
            Field("demarche_id", "entier", "La démarche (demarches.csv)."),
            Field("position", "entier", "Ordre dans le calendrier."),
            Field(
                "type",
                "texte",
                "information, contributions, analysis, vote, results, implementation ou other.",
            ),
            Field("titre", "texte", "Titre de la phase."),
            Field("debut", "date", "Premier jour."),
            Field("fin", "date", "Dernier jour."),
            Field(
                "actions",
                "texte",
                "Actions ouvertes, séparées par des espaces : propose, support, comment, debate.",
            ),
        ),
        _phase_rows,
    ),
    Dataset(
        "propositions.csv",
        "Propositions des habitant·es et réponses officielles",
        (
            ID,
            Field("demarche_id", "entier", "La démarche (demarches.csv)."),
            Field("titre", "texte", "Titre."),
            Field("texte", "texte", "Texte de la proposition (Markdown)."),
            AUTHOR_KIND,
            Field("theme", "texte", "Thème."),
            Field("quartier", "texte", "Quartier."),
            Field("statut", "texte", "received, studying, accepted, rejected ou done."),
            Field(
                "statut_libelle",
                "texte",
                "Libellé du statut affiché sur le site (« Reçue », « À l'étude »…).",
            ),
            Field("motif", "texte", "Motif d'une proposition non retenue."),
            Field("reponse", "texte", "Réponse officielle de la collectivité (Markdown)."),
            Field("reponse_le", "date-heure", "Date de la réponse officielle."),
            Field("soutiens", "entier", "Nombre de soutiens."),
            Field("commentaires", "entier", "Nombre de commentaires visibles."),
            Field("latitude", "décimal", "Latitude WGS 84, si la proposition est localisée."),
            Field("longitude", "décimal", "Longitude WGS 84."),
            Field("creee_le", "date-heure", "Date de dépôt."),
            Field("url", "url", "Page de la proposition."),
        ),
        _proposal_rows,
    ),
    Dataset(
        "historique-reponses.csv",
        "Historique public des propositions (statuts et réponses)",
        (
            Field("proposition_id", "entier", "La proposition (propositions.csv)."),
            Field(
                "type",
                "texte",
                "created (dépôt), status (changement de statut), answer (réponse publiée), "
                "threshold (seuil de soutiens atteint), withdrawn (retrait).",
            ),
            Field("ancien_statut", "texte", "Statut avant un changement."),
            Field("nouveau_statut", "texte", "Statut après un changement."),
            Field("texte", "texte", "Texte de la réponse ou du motif (Markdown)."),
            Field("date", "date-heure", "Date de l'événement."),
        ),
        _event_rows,
    ),
    Dataset(
        "debats.csv",
        "Débats",
        (
            ID,
            Field("demarche_id", "entier", "La démarche."),
            Field("question", "texte", "Question posée."),
            Field("description", "texte", "Présentation (Markdown)."),
            Field("etat", "texte", "open (ouvert) ou closed (clos)."),
            Field("cree_le", "date-heure", "Date d'ouverture."),
            Field("url", "url", "Page du débat."),
        ),
        _debate_rows,
    ),
    Dataset(
        "arguments.csv",
        "Arguments pour et contre des débats",
        (
            ID,
            Field("debat_id", "entier", "Le débat (debats.csv)."),
            Field("parent_id", "entier", "L'argument auquel celui-ci répond ; vide sinon."),
            Field("cote", "texte", "pour ou contre."),
            AUTHOR_KIND,
            Field("texte", "texte", "Texte (Markdown)."),
            Field("cree_le", "date-heure", "Date."),
        ),
        _argument_rows,
    ),
    Dataset(
        "commentaires.csv",
        "Commentaires",
        (
            ID,
            Field("cible_type", "texte", "demarche, proposition ou debat."),
            Field("cible_id", "entier", "Identifiant de la cible dans le fichier correspondant."),
            Field("parent_id", "entier", "Le commentaire auquel celui-ci répond ; vide sinon."),
            AUTHOR_KIND,
            Field("texte", "texte", "Texte (Markdown)."),
            Field("cree_le", "date-heure", "Date."),
        ),
        _comment_rows,
    ),
):
    register_dataset(_dataset)


# --------------------------------------------------------------------------- the bundle


def bundle_folder(tenant_id: int) -> Path:
    base = current_app.config.get("OPENDATA_FOLDER") or str(
        Path(current_app.instance_path) / "opendata"
    )
    return Path(base) / f"t{int(tenant_id)}"


def bundle_name(tenant: TenantRef) -> str:
    return f"donnees-ouvertes-{tenant.slug}.zip"


def _csv_bytes(dataset: Dataset) -> tuple[bytes, int]:
    # Citizens wrote these texts and anyone opens the files in a spreadsheet: the shared
    # writer neutralises formulas (CSV injection), as in the staff exports.
    text, count = open_data_csv([field.name for field in dataset.fields], dataset.rows())
    return text.encode("utf-8"), count


def _dictionary() -> bytes:
    text, _count = open_data_csv(
        ["fichier", "champ", "type", "description"],
        (
            [dataset.filename, field.name, field.type, field.meaning]
            for dataset in DATASETS
            for field in dataset.fields
        ),
    )
    return text.encode("utf-8")


def _readme(tenant: TenantRef, built_at: datetime, counts: dict[str, int]) -> bytes:
    lines = [
        f"Données ouvertes de l'espace de participation de {tenant.name}",
        "",
        f"Produites le {built_at.isoformat()} par Pnyx.",
        "Licence : Licence Ouverte / Open Licence version 2.0 (Etalab), voir LICENCE.txt.",
        "Attribution : « " + tenant.name + " — espace de participation Pnyx ».",
        "",
        "Fichiers CSV en UTF-8, séparateur virgule, une ligne d'en-tête. Dates ISO 8601.",
        "Le dictionnaire des données (dictionnaire-des-donnees.csv) décrit chaque champ.",
        "Aucune donnée personnelle : ni nom, ni adresse e-mail, ni identifiant de compte.",
        "Les contributions masquées par la modération ou supprimées n'y figurent pas.",
        "",
    ]
    lines += [f"{name} : {count} ligne(s)" for name, count in counts.items()]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def build_bundle(tenant: TenantRef | None = None) -> dict:
    """Write the tenant's bundle (inside its context) and return its manifest.

    Written to a temporary file and renamed: a download never sees half a bundle."""
    tenant = tenant or current_tenant()
    built_at = datetime.now(UTC).replace(microsecond=0)
    folder = bundle_folder(tenant.id)
    folder.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    handle, temporary = tempfile.mkstemp(dir=folder, suffix=".part")
    try:
        with (
            os.fdopen(handle, "wb") as raw,
            zipfile.ZipFile(raw, "w", compression=zipfile.ZIP_DEFLATED) as archive,
        ):
            for dataset in DATASETS:
                data, counts[dataset.filename] = _csv_bytes(dataset)
                archive.writestr(dataset.filename, data)
            archive.writestr("dictionnaire-des-donnees.csv", _dictionary())
            archive.writestr("LICENCE.txt", LICENCE_PATH.read_bytes())
            archive.writestr("LISEZMOI.txt", _readme(tenant, built_at, counts))
        target = folder / bundle_name(tenant)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    manifest = {
        "file": target.name,
        "built_at": built_at.isoformat(),
        "size": target.stat().st_size,
        "counts": counts,
    }
    manifest_tmp = folder / (MANIFEST + ".part")
    manifest_tmp.write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    os.replace(manifest_tmp, folder / MANIFEST)
    return manifest


def current_bundle(tenant: TenantRef) -> dict | None:
    """The manifest of the tenant's last bundle, None if none was built yet."""
    folder = bundle_folder(tenant.id)
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not (folder / manifest.get("file", "")).is_file():
        return None
    manifest["built_at"] = datetime.fromisoformat(manifest["built_at"])
    return manifest
