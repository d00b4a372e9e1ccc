"""The open-data datasets of the debates and comments: ``debats.csv``, ``arguments.csv`` and
``commentaires.csv``, as ``participation.debates.visibility`` decides (arguments and
comments only when shown and not written by a blocked account)."""

from __future__ import annotations

from sqlalchemy.orm import joinedload

from core.db import db
from participation.accounts.visibility import published_clause
from participation.debates import visibility
from participation.debates.models import Argument, Debate
from participation.engagement.comments import Comment
from participation.opendata import services as opendata
from participation.opendata.services import AUTHOR_KIND, ID, Dataset, Field
from participation.proposals import visibility as proposal_visibility

DEBATE_FIELDS = (
    ID,
    Field("demarche_id", "entier", "La démarche."),
    Field("question", "texte", "Question posée."),
    Field("description", "texte", "Présentation (Markdown)."),
    Field("etat", "texte", "open (ouvert) ou closed (clos)."),
    Field("cree_le", "date-heure", "Date d'ouverture."),
    Field("url", "url", "Page du débat."),
)
ARGUMENT_FIELDS = (
    ID,
    Field("debat_id", "entier", "Le débat (debats.csv)."),
    Field("parent_id", "entier", "L'argument auquel celui-ci répond ; vide sinon."),
    Field("cote", "texte", "pour ou contre."),
    AUTHOR_KIND,
    Field("texte", "texte", "Texte (Markdown)."),
    Field("cree_le", "date-heure", "Date."),
)
COMMENT_FIELDS = (
    ID,
    Field("cible_type", "texte", "demarche, proposition ou debat."),
    Field("cible_id", "entier", "Identifiant de la cible dans le fichier correspondant."),
    Field("parent_id", "entier", "Le commentaire auquel celui-ci répond ; vide sinon."),
    AUTHOR_KIND,
    Field("texte", "texte", "Texte (Markdown)."),
    Field("cree_le", "date-heure", "Date."),
)


def debate_rows():
    for debate in db.session.scalars(visibility.debates_of_public_processes().order_by(Debate.id)):
        yield (
            debate.id,
            debate.process_id,
            debate.question,
            debate.description or "",
            debate.state.value,
            opendata.iso(debate.created_at),
            opendata.page_url("debates.show", debate_id=debate.id),
        )


def argument_rows():
    query = (
        visibility.arguments_of_public_debates()
        .where(published_clause(Argument))
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
            opendata.author_kind(argument.author),
            argument.body,
            opendata.iso(argument.created_at),
        )


def comment_rows():
    # Only comments on listed proposals: those of propositions.csv.
    query = (
        visibility.comments_on_public_targets(proposal_visibility.listed_clause)
        .where(published_clause(Comment))
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
            opendata.author_kind(comment.author),
            comment.body,
            opendata.iso(comment.created_at),
        )


opendata.register_dataset(Dataset("debats.csv", "Débats", DEBATE_FIELDS, debate_rows))
opendata.register_dataset(
    Dataset("arguments.csv", "Arguments pour et contre des débats", ARGUMENT_FIELDS, argument_rows)
)
opendata.register_dataset(Dataset("commentaires.csv", "Commentaires", COMMENT_FIELDS, comment_rows))
