"""Outgoing e-mail: rendered in the request, delivered by an rq job after the commit.

A mail is a pair of templates, ``templates/mail/<name>.txt`` (required, with a
``{% block subject %}``) and ``templates/mail/<name>.html`` (optional), both extending
``mail/base.*``. :func:`send_mail` renders them at once, while ``url_for`` and the current
tenant are at hand, and enqueues :func:`deliver_mail` for when the transaction that decided
the mail commits (docs/architecture.md, "Jobs: the outbox"): a rolled-back action sends nothing.

The job receives a plain dict, so it survives serialisation and retries; Message-ID and Date
are fixed at send time, so a retried delivery is the same message, not a new one. Once the
SMTP server has accepted it, its Message-ID is recorded (``public.sent_mails``): a retried or
duplicated job finds it there and sends nothing (core/outbox.py, docs/features/jobs.md).

Settings: MAIL_FROM, SMTP_HOST, SMTP_PORT, and optionally SMTP_STARTTLS, SMTP_USERNAME,
SMTP_PASSWORD.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import smtplib
import ssl
from dataclasses import dataclass, field
from email import policy as email_policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

import sqlalchemy as sa
from flask import current_app, render_template
from jinja2 import TemplateNotFound

from core.db import db
from core.jobs import enqueue_after_commit, job

log = logging.getLogger(__name__)

SMTP_TIMEOUT = 10
_NEWLINES = re.compile(r"\s*[\r\n]+\s*")


@dataclass(slots=True)
class Message:
    to: str
    subject: str
    text: str
    html: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Message:
        return cls(**data)


def render_mail(template: str, **context) -> Message:
    """Render ``mail/<template>.txt`` (and ``.html`` if it exists) with ``context``.

    ``to`` in the context is both the recipient and a variable the templates may show.
    """
    env = current_app.jinja_env
    text_name = f"mail/{template}.txt"
    subject = _render_subject(env.get_template(text_name), context)
    context = {"subject": subject, **context}
    text = render_template(text_name, **context)
    try:
        html_template = env.get_template(f"mail/{template}.html")
    except TemplateNotFound:
        html = None
    else:
        html = render_template(html_template, **context)
    return Message(to=context.get("to", ""), subject=subject, text=text, html=html)


def _render_subject(template, context: dict) -> str:
    block = template.blocks.get("subject")
    if block is None:
        raise ValueError(f"{template.name} has no {{% block subject %}}")
    variables = dict(context)
    current_app.update_template_context(variables)
    subject = "".join(block(template.new_context(variables))).strip()
    # A subject written over several lines in the template is one header line.
    subject = _NEWLINES.sub(" ", subject)
    if not subject:
        raise ValueError(f"{template.name} renders an empty subject")
    return subject


def send_mail(to: str, template: str, *, headers: dict | None = None, **context) -> None:
    """Render the mail now and deliver it once the current transaction commits."""
    message = render_mail(template, to=to, **context)
    mail_from = current_app.config["MAIL_FROM"]
    extra = dict(headers or {})
    extra.setdefault("Message-ID", make_msgid(domain=_domain_of(mail_from)))
    extra.setdefault("Date", formatdate(localtime=True))
    message = dataclasses.replace(message, headers=extra)
    # Build it once here: a bad address or header fails in the request, not in a job
    # that would retry it for minutes.
    build_email(message, mail_from)
    enqueue_after_commit(
        deliver_mail,
        message.to_dict(),
        queue="default",
        # Retries: the "mail" policy of core.queues.RETRY_POLICIES.
        # rq logs the description: the default one would be the whole mail, links included.
        description=f"deliver_mail({template})",
    )


# RFC 2369/8058 headers are read by mail providers as they are: the default policy turns a
# value with a word over 78 characters (any real unsubscribe URL) into RFC 2047 encoded-words,
# which providers do not decode, and one-click unsubscribe breaks. They are written as plain
# header values (folded only between URLs), under a policy that never refolds raw values.
_PLAIN_HEADERS = frozenset({"list-unsubscribe", "list-unsubscribe-post"})
_POLICY = email_policy.default.clone(refold_source="none")


def _plain_header_value(name: str, value: str) -> str:
    if re.search(r"[\r\n]", value) or not value.isascii():
        raise ValueError(f"{name} must be one line of ASCII")
    # Fold between the URLs of the list (RFC 2369 allows whitespace there, not inside one).
    return re.sub(r">\s*,\s*<", ">,\n <", value.strip())


def build_email(message: Message, mail_from: str) -> EmailMessage:
    email = EmailMessage(policy=_POLICY)
    email["From"] = mail_from
    email["To"] = message.to
    email["Subject"] = message.subject
    for name, value in message.headers.items():
        if name.lower() in _PLAIN_HEADERS:
            email.set_raw(name, _plain_header_value(name, value))
            continue
        email[name] = value
    if "Date" not in email:
        email["Date"] = formatdate(localtime=True)
    if "Message-ID" not in email:
        email["Message-ID"] = make_msgid(domain=_domain_of(mail_from))
    # Quoted-printable: 7-bit safe for any relay, still readable in the raw source.
    email.set_content(message.text, cte="quoted-printable")
    if message.html:
        email.add_alternative(message.html, subtype="html", cte="quoted-printable")
    return email


def _domain_of(mail_from: str) -> str | None:
    address = parseaddr(mail_from)[1]
    try:
        return Address(addr_spec=address).domain or None
    except (ValueError, IndexError):
        return None


@job
def deliver_mail(message: dict) -> str:
    """Send one mail through the SMTP server, once per Message-ID; any failure raises, so
    rq retries it.

    The record and the sending share a transaction holding an advisory lock on the
    Message-ID: two copies of the job running at once send one mail, and a worker killed
    mid-send records nothing (the retry sends it: at least once, never twice once
    recorded)."""
    config = current_app.config
    email = build_email(Message.from_dict(message), config["MAIL_FROM"])
    message_id = str(email["Message-ID"])
    with db.engine.begin() as conn:
        conn.execute(
            sa.text("SELECT pg_advisory_xact_lock(hashtextextended(:id, 0))"), {"id": message_id}
        )
        already = conn.execute(
            sa.text("SELECT 1 FROM public.sent_mails WHERE message_id = :id"), {"id": message_id}
        ).first()
        if already is not None:
            log.info("mail %s already sent: not sent again", message_id)
            return "already-sent"
        _send(email, config)
        conn.execute(
            sa.text(
                "INSERT INTO public.sent_mails (message_id) VALUES (:id)"
                " ON CONFLICT (message_id) DO NOTHING"
            ),
            {"id": message_id},
        )
    log.info("mail %s delivered", message_id)
    return "sent"


def _send(email: EmailMessage, config) -> None:
    with smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"], timeout=SMTP_TIMEOUT) as smtp:
        if config.get("SMTP_STARTTLS", False):
            smtp.starttls(context=ssl.create_default_context())
        username = config.get("SMTP_USERNAME", "")
        if username:
            smtp.login(username, config.get("SMTP_PASSWORD", ""))
        smtp.send_message(email)
