"""The open-data datasets of the proposals: ``propositions.csv`` (the listed proposals of
the public processes, ``participation.proposals.visibility``) and their public history
``historique-reponses.csv``."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from core.db import db
from participation.accounts.visibility import published_clause
from participation.opendata import services as opendata
from participation.opendata.services import AUTHOR_KIND, ID, Dataset, Field
from participation.proposals import services, visibility
from participation.proposals.models import Proposal, ProposalEvent

PROPOSAL_FIELDS = (
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
)
EVENT_FIELDS = (
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
)


def proposal_rows():
    labels = services.status_labels()
    comments = visibility.comment_count(published_clause)
    query = (
        visibility.public_proposals()
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
            opendata.author_kind(proposal.author),
            proposal.theme.name if proposal.theme else "",
            proposal.neighbourhood.name if proposal.neighbourhood else "",
            proposal.status.value,
            labels[proposal.status],
            proposal.status_reason if proposal.status.value == "rejected" else "",
            proposal.answer or "",
            opendata.iso(proposal.answered_at) if proposal.answer else "",
            proposal.supports_count,
            comment_count,
            "" if proposal.latitude is None else proposal.latitude,
            "" if proposal.longitude is None else proposal.longitude,
            opendata.iso(proposal.created_at),
            opendata.page_url("proposals.show", proposal_id=proposal.id),
        )


def event_rows():
    public = visibility.public_proposals().with_only_columns(Proposal.id).subquery()
    query = (
        sa.select(ProposalEvent)
        .where(
            ProposalEvent.proposal_id.in_(sa.select(public.c.id)),
            ProposalEvent.is_public.is_(True),
            ProposalEvent.kind.in_(visibility.PUBLIC_EVENT_KINDS),
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
            opendata.iso(event.created_at),
        )


opendata.register_dataset(
    Dataset(
        "propositions.csv",
        "Propositions des habitant·es et réponses officielles",
        PROPOSAL_FIELDS,
        proposal_rows,
    )
)
opendata.register_dataset(
    Dataset(
        "historique-reponses.csv",
        "Historique public des propositions (statuts et réponses)",
        EVENT_FIELDS,
        event_rows,
    )
)
