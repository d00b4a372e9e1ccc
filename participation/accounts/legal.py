"""Terms of use and participation charter: default French texts, provisioning, rendering.

Every new tenant starts with version 1 of both documents (a provisioning hook, idempotent).
The collectivité can publish new versions later; users then accept them again.

Bodies are a small subset of Markdown (``##`` headings, paragraphs, ``-`` lists,
``**bold**``, ``[links](https://…)``), escaped first and sanitised again with nh3.
"""

from __future__ import annotations

import re

import nh3
import sqlalchemy as sa
from markupsafe import Markup, escape

from core.db import db
from participation.accounts.models import LegalDocument, LegalDocumentKind
from tenants import cache as tenant_values
from tenants.provisioning import provisioning_hooks

TERMS_TITLE = "Conditions générales d'utilisation"
CHARTER_TITLE = "Charte de participation"

TERMS_V1 = """\
## Objet

Ces conditions encadrent l'utilisation de la plateforme de participation citoyenne de \
{name}. Elles s'appliquent à toute personne qui crée un compte ou contribue.

## Votre compte

- Un compte est personnel : une personne, un compte.
- Votre adresse e-mail doit être confirmée avant la première connexion.
- Vous êtes responsable de la confidentialité de votre mot de passe.
- Vous pouvez télécharger vos données et supprimer votre compte à tout moment depuis \
la page « Mon compte ».

## Vos contributions

Les propositions, commentaires et votes que vous publiez sont publics et restent \
visibles sous votre nom d'affichage. Vous gardez vos droits sur vos textes et accordez à \
{name} le droit de les afficher et de les citer dans le cadre de la démarche de \
participation.

Si vous supprimez votre compte, vos contributions publiques restent en ligne, sous le \
nom « Participant·e anonyme ».

## Modération

Toute contribution doit respecter la charte de participation. La collectivité peut \
masquer une contribution qui ne la respecte pas, et suspendre un compte en cas d'abus \
répétés.

## Données personnelles

Le traitement de vos données est décrit sur la page « Confidentialité ». Aucune donnée \
n'est vendue ni utilisée à des fins publicitaires.

## Évolution des conditions

Ces conditions peuvent évoluer. Vous serez alors invité·e à accepter la nouvelle \
version lors de votre prochaine visite.
"""

CHARTER_V1 = """\
## Pourquoi une charte ?

La plateforme de {name} est un espace de dialogue entre habitantes, habitants et \
collectivité. Cette charte fixe quelques règles simples pour que chacun puisse \
s'exprimer sereinement.

## Je m'engage à

- **Respecter les autres** : pas d'insulte, de moquerie, de menace ni de propos \
discriminatoires.
- **Rester dans le sujet** : mes contributions portent sur la démarche en cours.
- **Argumenter** : je critique des idées, jamais des personnes.
- **Être honnête** : je ne publie pas de fausses informations et je ne me fais pas passer \
pour quelqu'un d'autre.
- **Protéger la vie privée** : je ne publie aucune donnée personnelle d'autrui \
(adresse, téléphone, photo…).
- **Participer en mon nom** : un seul compte par personne, pas de vote multiple.

## Modération

Les contributions sont modérées par les équipes de {name}. Une contribution contraire à \
la charte ou à la loi peut être masquée ; son auteur en est informé. Vous pouvez \
signaler tout contenu qui vous semble inapproprié.
"""

DEFAULT_DOCUMENTS = (("terms", TERMS_TITLE, TERMS_V1), ("charter", CHARTER_TITLE, CHARTER_V1))

_INSERT = sa.text(
    "INSERT INTO legal_documents (kind, version, title, body) VALUES (:kind, 1, :title, :body)"
    " ON CONFLICT (kind, version) DO NOTHING"
)


def insert_default_legal_documents(conn: sa.Connection, collectivite_name: str) -> None:
    """Version 1 of the terms and the charter, unless already there. The search_path of
    ``conn`` must be the tenant's schema."""
    conn.execute(
        _INSERT,
        [
            {"kind": kind, "title": title, "body": body.format(name=collectivite_name)}
            for kind, title, body in DEFAULT_DOCUMENTS
        ],
    )


# --------------------------------------------------------------------------- caching

# The legal gate runs before every page of a logged-in user: the current versions are read
# once per process and tenant, and dropped when a document is published (tenants.cache).
tenant_values.watch(LegalDocument)


def cached_current_versions(load):
    """``load()`` (the current version of each document) through the per-tenant cache."""
    return tenant_values.cached("legal_versions", load)


def _provision_legal_documents(conn: sa.Connection, tenant: sa.Row) -> None:
    insert_default_legal_documents(conn, tenant.name)


if _provision_legal_documents not in provisioning_hooks:
    provisioning_hooks.append(_provision_legal_documents)


# --------------------------------------------------------------------------- rendering

ALLOWED_TAGS = {"h2", "h3", "h4", "p", "ul", "ol", "li", "strong", "em", "a", "br"}
_HEADING = re.compile(r"^(#{1,3})\s+(.*)$")
_BULLET = re.compile(r"^[-*]\s+")
_NUMBERED = re.compile(r"^\d+[.)]\s+")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_EMPHASIS = re.compile(r"(?<![*\w])\*(?!\s)(.+?)(?<!\s)\*(?![*\w])")
_LINK = re.compile(r"\[([^\]]+)\]\(((?:https?://|mailto:|/)[^)\s]+)\)")


def _inline(text: str) -> str:
    html = str(escape(text))
    html = _LINK.sub(r'<a href="\2">\1</a>', html)
    html = _BOLD.sub(r"<strong>\1</strong>", html)
    return _EMPHASIS.sub(r"<em>\1</em>", html)


def _list_items(lines: list[str], marker: re.Pattern) -> list[str]:
    """Items of a list block; a line without a marker continues the previous item."""
    items: list[str] = []
    for line in lines:
        if marker.match(line):
            items.append(marker.sub("", line, count=1))
        elif items:
            items[-1] += " " + line.strip()
    return items


def render_markdown(text: str) -> Markup:
    """HTML for a legal document body. ``#`` and ``##`` give <h2> (the page has the <h1>)."""
    text = (text or "").replace("\r\n", "\n")
    # A heading is a block of its own even without blank lines around it.
    text = re.sub(r"^(#{1,3}\s.*)$", r"\n\1\n", text, flags=re.MULTILINE)
    blocks = re.split(r"\n\s*\n", text.strip())
    parts: list[str] = []
    for block in blocks:
        lines = [line.rstrip() for line in block.split("\n") if line.strip()]
        if not lines:
            continue
        heading = _HEADING.match(lines[0])
        if heading and len(lines) == 1:
            level = max(2, len(heading.group(1)))
            parts.append(f"<h{level}>{_inline(heading.group(2))}</h{level}>")
        elif _BULLET.match(lines[0]):
            items = _list_items(lines, _BULLET)
            parts.append("<ul>" + "".join(f"<li>{_inline(i)}</li>" for i in items) + "</ul>")
        elif _NUMBERED.match(lines[0]):
            items = _list_items(lines, _NUMBERED)
            parts.append("<ol>" + "".join(f"<li>{_inline(i)}</li>" for i in items) + "</ol>")
        else:
            parts.append("<p>" + _inline(" ".join(line.strip() for line in lines)) + "</p>")
    html = nh3.clean(
        "\n".join(parts),
        tags=ALLOWED_TAGS,
        attributes={"a": {"href"}},
        url_schemes={"http", "https", "mailto"},
    )
    return Markup(html)  # noqa: S704 - escaped above, then sanitised by nh3


def current_legal_documents() -> dict[LegalDocumentKind, LegalDocument]:
    """The latest published version of each kind of document."""
    latest = (
        sa.select(LegalDocument.kind, sa.func.max(LegalDocument.version).label("version"))
        .group_by(LegalDocument.kind)
        .subquery()
    )
    rows = db.session.scalars(
        sa.select(LegalDocument).join(
            latest,
            sa.and_(LegalDocument.kind == latest.c.kind, LegalDocument.version == latest.c.version),
        )
    )
    return {doc.kind: doc for doc in rows}
