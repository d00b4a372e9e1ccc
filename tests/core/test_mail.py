from __future__ import annotations

import smtplib
import socket
import uuid
from email.utils import parseaddr

import pytest
from flask import url_for
from jinja2 import ChoiceLoader, DictLoader
from rq.job import Job, JobStatus

from core import create_app
from core.db import db
from core.jobs import RETRY_POLICIES, PnyxWorker, get_queue, redis_connection
from core.mail import deliver_mail, render_mail, send_mail
from tests.support import PLATFORM, base_config
from tests.support.smtp import SMTPServer, html_of, links_in, text_of

TITLE = "Des bancs place de l'Église"
LINK = "https://saint-étienne.example/propositions/42"


def mail_context(**overrides) -> dict:
    return {"name": "Hélène", "title": TITLE, "link": LINK, **overrides}


def recipient() -> str:
    return f"habitant-{uuid.uuid4().hex[:8]}@example.org"


@pytest.fixture(autouse=True)
def _public_schema(app):
    """send_mail writes to the jobs outbox (public schema): the migrated database is needed."""
    return app


@pytest.fixture
def dead_port():
    """A port bound but not listening: connecting to it is refused, and nobody else gets it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


# -- rendering


def test_render_mail_takes_the_subject_from_its_block(app):
    with app.app_context():
        message = render_mail("test_message", to="x@example.org", **mail_context())
    assert message.subject == f"Votre proposition « {TITLE} » a été publiée"
    assert message.to == "x@example.org"
    assert "Bonjour Hélène," in message.text
    assert LINK in message.text
    # The subject is not repeated in the body.
    assert "a été publiée" not in message.text
    assert message.html is not None and 'lang="fr"' in message.html


def test_render_mail_escapes_the_html_part_only(app):
    with app.app_context():
        message = render_mail("test_message", **mail_context(name="<b>Léa</b>"))
    assert "Bonjour <b>Léa</b>," in message.text
    assert "&lt;b&gt;Léa&lt;/b&gt;" in message.html
    assert "<b>Léa</b>" not in message.html


def test_render_mail_without_an_html_template_is_text_only(app, monkeypatch):
    extra = DictLoader(
        {
            "mail/text_only.txt": '{% extends "mail/base.txt" %}'
            "{% block subject %}Rappel{% endblock %}{% block body %}Corps{% endblock %}",
            "mail/no_subject.txt": '{% extends "mail/base.txt" %}{% block body %}x{% endblock %}',
        }
    )
    monkeypatch.setattr(app.jinja_env, "loader", ChoiceLoader([extra, app.jinja_env.loader]))
    with app.app_context():
        message = render_mail("text_only")
        assert (message.subject, message.html) == ("Rappel", None)
        assert message.text.startswith("Corps")
        with pytest.raises(ValueError, match="subject"):
            render_mail("no_subject")


# -- the commit decides


def test_send_mail_delivers_only_after_the_commit(app, mailbox):
    to = recipient()
    with app.app_context():
        send_mail(to, "test_message", **mail_context())
        assert mailbox.messages == []
        db.session.commit()
        mailbox.wait_for_message_to(to)
        db.session.commit()  # a second commit does not send it again
    assert len(mailbox.messages) == 1


def test_send_mail_sends_nothing_when_the_transaction_rolls_back(app, mailbox):
    to = recipient()
    with app.app_context():
        send_mail(to, "test_message", **mail_context())
        db.session.rollback()
        db.session.commit()
        send_mail("autre@example.org", "test_message", **mail_context())
        db.session.commit()
    mailbox.wait_for_message_to("autre@example.org")
    assert mailbox.messages_to(to) == []
    assert len(mailbox.messages) == 1


def test_the_delivered_mail_is_complete_and_utf8(app, mailbox):
    to = recipient()
    unsubscribe = "<https://pnyx.test/desabonnement/abc>, <mailto:desabonnement@pnyx.test>"
    with app.app_context():
        send_mail(to, "test_message", headers={"List-Unsubscribe": unsubscribe}, **mail_context())
        db.session.commit()
    message = mailbox.wait_for_message_to(to)

    assert message["From"] == app.config["MAIL_FROM"]
    assert message["To"] == to
    assert message["Subject"] == f"Votre proposition « {TITLE} » a été publiée"
    # A long header is folded after its colon; the unfolded value keeps that space.
    assert message["List-Unsubscribe"].strip() == unsubscribe
    assert message["Message-ID"] and message["Date"]
    assert message.envelope_from == parseaddr(app.config["MAIL_FROM"])[1]
    assert message.envelope_to == (to,)

    assert message.get_content_type() == "multipart/alternative"
    text, html = message.get_body(("plain",)), message.get_body(("html",))
    assert text.get_content_charset() == html.get_content_charset() == "utf-8"
    assert "Votre proposition « Des bancs place de l'Église » est désormais" in text_of(message)
    assert "Hélène" in html_of(message) and f'href="{LINK}"' in html_of(message)
    assert links_in(message) == [LINK]


def test_links_built_in_the_request_are_absolute(app, mailbox):
    to = recipient()
    with app.test_request_context("/", base_url=f"http://{PLATFORM}"):
        send_mail(to, "test_message", **mail_context(link=url_for("platform.home", _external=True)))
        db.session.commit()
    assert links_in(mailbox.wait_for_message_to(to)) == [f"http://{PLATFORM}/"]


def test_a_header_with_a_line_break_is_refused_in_the_request(app, mailbox):
    with app.app_context():
        with pytest.raises(ValueError):
            send_mail("x@example.org\r\nBcc: tous@example.org", "test_message", **mail_context())
        db.session.commit()
    assert mailbox.messages == []


# -- delivery


def test_smtp_login_when_credentials_are_set(app, monkeypatch):
    to = recipient()
    with SMTPServer(credentials=("pnyx", "s3cret")) as server, app.app_context():
        monkeypatch.setitem(app.config, "SMTP_PORT", server.port)
        monkeypatch.setitem(app.config, "SMTP_USERNAME", "pnyx")
        monkeypatch.setitem(app.config, "SMTP_PASSWORD", "s3cret")
        deliver_mail(render_mail("test_message", to=to, **mail_context()).to_dict())
        assert server.wait_for_message_to(to).authenticated_as == "pnyx"

        monkeypatch.setitem(app.config, "SMTP_PASSWORD", "wrong")
        with pytest.raises(smtplib.SMTPAuthenticationError):
            deliver_mail(render_mail("test_message", to=to, **mail_context()).to_dict())
    assert len(server.messages) == 1


def test_delivery_raises_when_the_smtp_server_is_down(app, monkeypatch, dead_port):
    with app.app_context():
        message = render_mail("test_message", to=recipient(), **mail_context()).to_dict()
        monkeypatch.setitem(app.config, "SMTP_PORT", dead_port)
        with pytest.raises(ConnectionRefusedError):
            deliver_mail(message)


# -- through a real forked rq worker


def _async_app(database_url, redis_url, **overrides):
    return create_app(base_config(database_url, redis_url, RQ_ASYNC=True, **overrides))


def _work_default_queue(app) -> None:
    worker = PnyxWorker(
        [get_queue("default")], connection=redis_connection(), name=uuid.uuid4().hex
    )
    worker.flask_app = app
    worker.work(burst=True)


def test_a_forked_worker_delivers_the_committed_mail(database_url, redis_url, mailbox):
    app = _async_app(database_url, redis_url)
    to = recipient()
    with app.app_context():
        queue = get_queue("default")
        queue.empty()
        with app.test_request_context("/", base_url=f"http://{PLATFORM}"):
            send_mail(to, "test_message", **mail_context())
            assert queue.count == 0
            db.session.commit()
        assert queue.count == 1
        job = Job.fetch(queue.job_ids[0], connection=redis_connection())
        assert job.description == "deliver_mail(test_message)"  # no mail content in logs
        _work_default_queue(app)
        assert job.get_status(refresh=True) == JobStatus.FINISHED
        db.engine.dispose()
    message = mailbox.wait_for_message_to(to)
    assert message["Subject"] == f"Votre proposition « {TITLE} » a été publiée"
    assert len(mailbox.messages) == 1


def test_a_failed_delivery_is_scheduled_for_a_retry(database_url, redis_url, dead_port, mailbox):
    app = _async_app(database_url, redis_url, SMTP_PORT=dead_port)
    with app.app_context():
        queue = get_queue("default")
        queue.empty()
        send_mail(recipient(), "test_message", **mail_context())
        db.session.commit()
        job = Job.fetch(queue.job_ids[0], connection=redis_connection())
        try:
            _work_default_queue(app)
            job.refresh()
            # It failed (the only way to the retry schedule) and will be tried again.
            assert job.get_status() == JobStatus.SCHEDULED
            assert job.retries_left == RETRY_POLICIES["mail"].max - 1
            assert job.id in queue.scheduled_job_registry
        finally:
            job.delete(remove_from_queue=True)
            db.engine.dispose()
    assert mailbox.messages == []
