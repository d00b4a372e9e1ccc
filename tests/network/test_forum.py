"""Forum: agents of member territories ask and answer; the question's author and the other
participants are told by e-mail (through the real SMTP server), never the one who wrote."""

from __future__ import annotations

from tests.support import platform_client, platform_user, text
from tests.support import post as post_platform
from tests.support.network import make_network


def _question_id(response) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)[:1500]
    return int(response.headers["Location"].rstrip("/").rsplit("/", 1)[-1])


def test_answers_notify_the_author_and_participants(net_app, member_tenant, make_tenant, mailbox):
    second_tenant = make_tenant()
    network = make_network(net_app, members=[member_tenant, second_tenant], public_sections=())
    asker_id, asker_email = platform_user(net_app, "member", tenant_id=member_tenant.id)
    helper_id, helper_email = platform_user(net_app, "member", tenant_id=second_tenant.id)
    third_id, third_email = platform_user(net_app, "member", tenant_id=second_tenant.id)
    asker = platform_client(net_app, asker_id)
    base = f"/reseaux/{network['slug']}/forum"
    question_id = _question_id(
        post_platform(
            asker,
            f"{base}/nouvelle-question",
            {"title": "Quel délai de réponse aux habitants ?", "body": "Trois mois ?"},
        )
    )
    assert not mailbox.messages  # asking notifies nobody

    helper = platform_client(net_app, helper_id)
    response = post_platform(helper, f"{base}/{question_id}/reponses", {"body": "Deux mois."})
    assert response.status_code == 302
    message = mailbox.wait_for_message_to(asker_email)
    assert "Quel délai de réponse aux habitants ?" in message["Subject"]
    body = mailbox.text_of(message)
    assert "a répondu à votre question" in body
    assert any(
        f"/reseaux/{network['slug']}/forum/{question_id}" in link
        for link in mailbox.links_in(message)
    )
    assert not mailbox.messages_to(helper_email)

    mailbox.clear()
    third = platform_client(net_app, third_id)
    post_platform(third, f"{base}/{question_id}/reponses", {"body": "Un mois chez nous."})
    mailbox.wait_for(lambda msgs: len(msgs) >= 2)
    assert mailbox.messages_to(asker_email) and mailbox.messages_to(helper_email)
    assert not mailbox.messages_to(third_email)
    assert "à laquelle vous avez participé" in mailbox.text_of(mailbox.messages_to(helper_email)[0])

    page = text(asker.get(f"{base}/{question_id}"))
    assert "Deux mois." in page and "Un mois chez nous." in page and "2 réponses" in page


def test_forum_is_for_member_agents(net_app, member_tenant, make_tenant, mailbox):
    network = make_network(net_app, members=[member_tenant], public_sections=("forum",))
    base = f"/reseaux/{network['slug']}/forum"
    outsider_id, _ = platform_user(net_app, "member", tenant_id=make_tenant().id)
    outsider = platform_client(net_app, outsider_id)
    assert outsider.get(base).status_code == 200  # public reading
    response = post_platform(
        outsider, f"{base}/nouvelle-question", {"title": "Intrus", "body": "Bonjour"}
    )
    assert response.status_code == 403
    assert "Intrus" not in text(outsider.get(base))
    anonymous = platform_client(net_app)
    response = post_platform(anonymous, f"{base}/nouvelle-question", {"title": "x", "body": "y"})
    assert response.status_code == 302 and "/connexion" in response.headers["Location"]

    members_only = make_network(net_app, members=[member_tenant], public_sections=())
    assert anonymous.get(f"/reseaux/{members_only['slug']}/forum").status_code == 403


def test_authors_and_coordination_delete_messages(net_app, member_tenant):
    coordinator_id, _ = platform_user(net_app, "coordinator")
    network = make_network(net_app, members=[member_tenant], coordinator_id=coordinator_id)
    asker_id, _ = platform_user(net_app, "member", tenant_id=member_tenant.id)
    other_id, _ = platform_user(net_app, "member", tenant_id=member_tenant.id)
    asker, other = platform_client(net_app, asker_id), platform_client(net_app, other_id)
    base = f"/reseaux/{network['slug']}/forum"
    question_id = _question_id(
        post_platform(asker, f"{base}/nouvelle-question", {"title": "Question", "body": "?"})
    )
    post_platform(other, f"{base}/{question_id}/reponses", {"body": "Réponse hors sujet"})
    import sqlalchemy as sa

    from core.db import db

    with net_app.app_context():
        answer_id = db.session.scalar(
            sa.text("SELECT id FROM public.network_forum_answers WHERE question_id = :q"),
            {"q": question_id},
        )
    # The asker may not remove somebody else's answer; the coordination may.
    url = f"{base}/{question_id}/reponses/{answer_id}/supprimer"
    assert post_platform(asker, url).status_code == 403
    assert post_platform(platform_client(net_app, coordinator_id), url).status_code == 302
    assert "Réponse hors sujet" not in text(asker.get(f"{base}/{question_id}"))
    assert post_platform(asker, f"{base}/{question_id}/supprimer").status_code == 302
    assert asker.get(f"{base}/{question_id}").status_code == 404
