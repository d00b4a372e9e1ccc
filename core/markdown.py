"""Markdown written by users and staff, rendered to HTML that is safe to show.

markdown-it renders with raw HTML disabled; nh3 (Ammonia) then keeps only an allow-list of
tags and attributes, and forces ``rel="nofollow noopener noreferrer"`` on links. Both
layers, because a renderer bug must not become an XSS.
"""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
_md.enable(["table", "strikethrough"])

ALLOWED_TAGS = {
    "p",
    "br",
    "strong",
    "em",
    "del",
    "s",
    "a",
    "ul",
    "ol",
    "li",
    "blockquote",
    "code",
    "pre",
    "h2",
    "h3",
    "h4",
    "hr",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}}
URL_SCHEMES = {"http", "https", "mailto"}


def render_markdown(text: str | None) -> Markup:
    html = _md.render(text or "")
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="nofollow noopener noreferrer",
    )
    return Markup(clean)  # noqa: S704 - sanitised by nh3 just above


def plain_text(text: str | None, limit: int | None = None) -> str:
    """Markdown reduced to plain text (e-mails, excerpts, meta descriptions)."""
    stripped = nh3.clean(_md.render(text or ""), tags=set()).strip()
    stripped = " ".join(stripped.split())
    if limit and len(stripped) > limit:
        return stripped[: limit - 1].rstrip() + "…"
    return stripped


def init_app(app) -> None:
    app.jinja_env.filters["markdown"] = render_markdown
    app.jinja_env.filters["plain_text"] = plain_text
