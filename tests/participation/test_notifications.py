"""Follows and notifications: fan-out by preference, immediate e-mails through the real SMTP
server with a one-click unsubscribe link (RFC 8058), the daily digest (never empty,
idempotent), and the notification centre."""

from __future__ import annotations

from urllib.parse import urlsplit

import sqlalchemy as sa

from core.db import db
from tests.participation.test_comments import (  # noqa: F401 - fixtures
    World,
    comment_on,
    new_comment_id,
    post,
    world_fixture,
)
from tests.support import text


def set_user(world: World, user_id: int, **values) -> None:
    from participation.accounts.models import User

    with world.context():
        user = db.session.get(User, user_id)
        for name, value in values.items():
            setattr(user, name, value)
        db.session.commit()


def notifications_of(world: World, user_id: int) -> list:
    from participation.engagement.models import Notification

    with world.context():
        rows = list(
            db.session.scalars(
                sa.select(Notification)
                .where(Notification.user_id == user_id)
                .order_by(Notification.id)
            )
        )
        for row in rows:
            db.session.expunge(row)
        return rows


def frequency_of(world: World, user_id: int) -> str:
    from participation.accounts.models import User

    with world.context():
        return db.session.get(User, user_id).notification_frequency.value


def follow(world: World, person, target_type: str, target_id: int) -> None:
    from participation.engagement import services

    with world.context():
        services.follow(person.id, target_type, target_id)
        db.session.commit()


def notify(world: World, target_type: str, target_id: int, **kwargs) -> list[int]:
    from participation.engagement import services

    with world.context():
        created = services.notify_followers(
            target_type,
            target_id,
            **{"kind": "comment", "title": "Du nouveau", "body": "Un texte", "url": "/debats/1"}
            | kwargs,
        )
        ids = [n.user_id for n in created]
        db.session.commit()
        return ids


def run_digests(world: World) -> int:
    from participation.engagement.tasks import send_daily_digests

    with world.app.app_context():
        return send_daily_digests(world.tenant.id)


# --------------------------------------------------------------------------- follows


def test_follow_and_unfollow_through_the_pages(world):
    from participation.engagement.services import is_following

    client, person = world.logged_in()
    data = {"target_type": "debate", "target_id": world.debate_id, "next": "/debats"}
    assert post(client, "/suivre", data).status_code == 303
    assert post(client, "/suivre", data).status_code == 303  # idempotent
    with world.context():
        assert is_following(person.id, "debate", world.debate_id)
    page = text(client.get(f"/debats/{world.debate_id}"))
    assert "Ne plus suivre" in page
    assert post(client, "/ne-plus-suivre", data).status_code == 303
    with world.context():
        assert not is_following(person.id, "debate", world.debate_id)
    assert "Suivre" in text(client.get(f"/debats/{world.debate_id}"))


def test_follow_refuses_unknown_or_unfollowable_targets(world):
    client, person = world.logged_in()
    for target_type, target_id in (("debate", 987654), ("comment", 1), ("bogus", 1)):
        response = post(client, "/suivre", {"target_type": target_type, "target_id": target_id})
        assert response.status_code == 303
    from participation.engagement.models import Follow

    with world.context():
        assert not db.session.scalars(sa.select(Follow).where(Follow.user_id == person.id)).all()
    assert world.client().post("/suivre").status_code in (302, 400)


# --------------------------------------------------------------------------- fan-out


def test_fan_out_respects_preferences(world, staff_smtp):
    from datetime import UTC, datetime

    people = {
        name: world.person()
        for name in ("immediate", "daily", "never", "no_comments", "blocked", "author", "stranger")
    }
    set_user(world, people["daily"].id, notification_frequency="daily")
    set_user(world, people["never"].id, notification_frequency="never")
    set_user(world, people["no_comments"].id, notify_comments=False)
    set_user(world, people["blocked"].id, blocked_at=datetime.now(UTC))
    for name, person in people.items():
        if name != "stranger":
            follow(world, person, "process", world.process_id)

    notified = notify(world, "process", world.process_id, exclude_user_id=people["author"].id)
    assert sorted(notified) == sorted(people[name].id for name in ("immediate", "daily", "never"))
    # A kind governed by another preference reaches "no_comments" too.
    answered = notify(
        world, "process", world.process_id, kind="answer", exclude_user_id=people["author"].id
    )
    assert people["no_comments"].id in answered

    # Only the immediate followers got e-mails (one per notification), at once.
    message = staff_smtp.wait_for_message_to(people["immediate"].email)
    assert message["Subject"] == "Du nouveau"
    assert len(staff_smtp.messages_to(people["immediate"].email)) == 2
    assert len(staff_smtp.messages_to(people["no_comments"].email)) == 1  # the answer only
    for name in ("daily", "never", "blocked", "author", "stranger"):
        assert not staff_smtp.messages_to(people[name].email), name
    emailed = [n.emailed_at is not None for n in notifications_of(world, people["immediate"].id)]
    assert emailed == [True, True]
    assert all(n.emailed_at is None for n in notifications_of(world, people["daily"].id))


def test_a_reply_notifies_the_parent_author_once(world):
    parent_client, parent_author = world.logged_in()
    parent = new_comment_id(comment_on(parent_client, "debate", world.debate_id, "Question ?"))
    replier, _ = world.logged_in()
    new_comment_id(comment_on(replier, "debate", world.debate_id, "Réponse !", parent))
    notes = notifications_of(world, parent_author.id)
    assert len(notes) == 1 and notes[0].kind == "reply"
    assert "a répondu à votre commentaire" in notes[0].title

    # Following the debate as well: still one notification for the next reply.
    follow(world, parent_author, "debate", world.debate_id)
    new_comment_id(comment_on(replier, "debate", world.debate_id, "Encore !", parent))
    assert len(notifications_of(world, parent_author.id)) == 2


def test_notify_user_respects_the_preference(world):
    from participation.engagement import services

    person = world.person()
    set_user(world, person.id, notify_answers=False, notification_frequency="never")
    with world.context():
        assert services.notify_user(person.id, kind="answer", title="Réponse") is None
        assert services.notify_user(person.id, kind="moderation", title="Modération") is not None
        # Only local paths are kept as links.
        note = services.notify_user(
            person.id, kind="process", title="Lien", url="https://evil.example/x"
        )
        assert note.url is None
        db.session.commit()


# --------------------------------------------------------------------------- e-mails


def test_immediate_email_has_a_working_one_click_unsubscribe(world, staff_smtp):
    person = world.person()
    follow(world, person, "debate", world.debate_id)
    notify(world, "debate", world.debate_id, title="Nouvel argument", url="/debats/1#argument-3")
    message = staff_smtp.wait_for_message_to(person.email)
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    header = message["List-Unsubscribe"]
    assert header.startswith("<http://") and header.endswith(">")
    unsubscribe_url = header[1:-1]
    assert unsubscribe_url in staff_smtp.links_in(message)
    assert f"http://{world.tenant.primary_host}/debats/1#argument-3" in staff_smtp.text_of(message)
    assert unsubscribe_url in staff_smtp.html_of(message)
    parts = urlsplit(unsubscribe_url)
    assert parts.netloc == world.tenant.primary_host and parts.path.startswith("/desabonnement/")

    # GET asks for confirmation and changes nothing.
    browser = world.client()
    page = browser.get(parts.path)
    assert page.status_code == 200 and "Confirmer le désabonnement" in text(page)
    assert page.headers["Cache-Control"] == "no-store"
    assert frequency_of(world, person.id) == "immediate"

    # RFC 8058: the mail provider posts, with no session and no CSRF token.
    provider = world.client()
    response = provider.post(parts.path, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert frequency_of(world, person.id) == "never"

    # From now on, no more e-mails (the notification centre still fills up).
    staff_smtp.clear()
    notify(world, "debate", world.debate_id, title="Encore un")
    assert notifications_of(world, person.id)[-1].title == "Encore un"
    assert not staff_smtp.messages_to(person.email)


def test_unsubscribe_tokens_are_signed_per_tenant(world, eng_app, make_tenant):
    from participation.engagement import services
    from tests.participation.test_comments import build_world

    person = world.person()
    with world.context():
        token = services.unsubscribe_token(person.id)
    assert world.client().post(f"/desabonnement/{token}x").status_code == 400
    other = build_world(eng_app, make_tenant)
    assert other.client().get(f"/desabonnement/{token}").status_code == 400
    assert other.client().post(f"/desabonnement/{token}").status_code == 400
    assert frequency_of(world, person.id) == "immediate"


def test_daily_digest_is_never_empty_and_idempotent(world, staff_smtp):
    daily = world.person()
    quiet = world.person()
    already_read = world.person()
    for person in (daily, quiet, already_read):
        set_user(world, person.id, notification_frequency="daily")
    for person in (daily, already_read):
        follow(world, person, "proposal", world.proposal_id)
    notify(world, "proposal", world.proposal_id, title="Premier", url="/q/1")
    notify(world, "proposal", world.proposal_id, title="Second", url="/q/2")
    from participation.engagement import services

    with world.context():
        services.mark_all_read(already_read.id)
        db.session.commit()
    assert not staff_smtp.messages_to(daily.email)  # nothing sent before the digest

    run_digests(world)
    message = staff_smtp.wait_for_message_to(daily.email)
    body = staff_smtp.text_of(message)
    assert "Premier" in body and "Second" in body
    assert "2 nouveautés" in message["Subject"]
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert all(n.emailed_at is not None for n in notifications_of(world, daily.id))
    assert not staff_smtp.messages_to(quiet.email)
    assert not staff_smtp.messages_to(already_read.email)

    # Run again: nothing new, nothing sent.
    run_digests(world)
    assert len(staff_smtp.messages_to(daily.email)) == 1

    # A new notification: the next digest has it alone.
    notify(world, "proposal", world.proposal_id, title="Troisième")
    run_digests(world)
    messages = staff_smtp.wait_for(lambda _: len(staff_smtp.messages_to(daily.email)) == 2 or None)
    assert messages
    last = staff_smtp.messages_to(daily.email)[-1]
    assert "Troisième" in staff_smtp.text_of(last) and "Premier" not in staff_smtp.text_of(last)


def test_digest_command(world, eng_app, staff_smtp):
    daily = world.person()
    set_user(world, daily.id, notification_frequency="daily")
    follow(world, daily, "debate", world.debate_id)
    notify(world, "debate", world.debate_id, title="Par la commande")
    result = eng_app.test_cli_runner().invoke(
        args=["engagement", "send-digests", "--tenant", world.tenant.slug, "--sync"]
    )
    assert result.exit_code == 0, result.output
    assert "digest(s) sent" in result.output
    assert "Par la commande" in staff_smtp.text_of(staff_smtp.wait_for_message_to(daily.email))

    # Without --sync the jobs are enqueued (run at once here: RQ_ASYNC is off in tests).
    notify(world, "debate", world.debate_id, title="Par la file")
    result = eng_app.test_cli_runner().invoke(
        args=["engagement", "send-digests", "--tenant", world.tenant.slug]
    )
    assert result.exit_code == 0 and "1 digest job(s) enqueued" in result.output, result.output
    staff_smtp.wait_for(lambda _: len(staff_smtp.messages_to(daily.email)) == 2 or None)
    assert "Par la file" in staff_smtp.text_of(staff_smtp.messages_to(daily.email)[-1])


# --------------------------------------------------------------------------- centre


def test_notification_centre(world):
    client, person = world.logged_in()
    other_client, other = world.logged_in()
    follow(world, person, "debate", world.debate_id)
    set_user(world, person.id, notification_frequency="never")
    notify(world, "debate", world.debate_id, title="Ancienne", url="/debats/1")
    notify(world, "debate", world.debate_id, title="Récente", url="/debats/1#x")
    first, second = notifications_of(world, person.id)

    home = text(client.get("/"))
    assert "Notifications (2 non lues)" in home
    page = text(client.get("/notifications"))
    assert page.index("Récente") < page.index("Ancienne")
    assert "2 notifications non lues." in page

    # Marking one read puts it after the unread one.
    assert post(client, f"/notifications/{second.id}/lue").status_code == 303
    page = text(client.get("/notifications"))
    assert page.index("Ancienne") < page.index("Récente")
    assert "Notifications (1 non lue)" in page

    # Someone else's notification: as if it did not exist.
    assert post(other_client, f"/notifications/{first.id}/lue").status_code == 404
    assert other_client.get(f"/notifications/{first.id}/ouvrir").status_code == 404

    # Opening it marks it read and goes to its page.
    response = client.get(f"/notifications/{first.id}/ouvrir")
    assert response.status_code == 303 and response.location.endswith("/debats/1")
    assert all(n.read_at for n in notifications_of(world, person.id))

    notify(world, "debate", world.debate_id, title="Troisième")
    assert post(client, "/notifications/tout-lire").status_code == 303
    assert all(n.read_at for n in notifications_of(world, person.id))
    assert "non lue" not in text(client.get("/"))
    assert world.client().get("/notifications").status_code == 302
