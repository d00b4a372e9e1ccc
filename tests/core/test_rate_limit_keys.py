"""Rate limits are keyed on the resolved site, never the raw Host header, and log-in and
password reset are limited per account whatever the client address (core.security.limits)."""

from __future__ import annotations

from tests.support import client_on as make_client
from tests.support import (
    create_user,
    host_client,
    random_address,
    unique_email,
)
from tests.support import csrf_in as csrf_token


def _post(client, path: str, data: dict):
    token = csrf_token(client.get(path).get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, **data})


def test_a_port_in_the_host_header_does_not_buy_a_new_budget(app, tenant):
    """``mulhouse.pnyx.localhost:20001`` is the same site as ``mulhouse.pnyx.localhost``."""
    address = random_address()
    statuses = []
    for port in range(20001, 20013):
        client = host_client(app, f"{tenant.primary_host}:{port}")
        client.environ_base["REMOTE_ADDR"] = address
        answer = _post(client, "/connexion", {"email": unique_email(), "password": "Mauvais-123"})
        statuses.append(answer.status_code)
    assert statuses[:10] == [200] * 10  # the form again, with the error
    assert statuses[10:] == [429, 429]
    # Upper case and a trailing dot are the same site too.
    client = host_client(app, tenant.primary_host.upper() + ".")
    client.environ_base["REMOTE_ADDR"] = address
    assert (
        _post(client, "/connexion", {"email": unique_email(), "password": "x"}).status_code == 429
    )


def test_the_platform_budget_is_not_bypassed_by_a_port_either(app):
    address = random_address()
    statuses = []
    for port in range(20001, 20013):
        client = host_client(app, f"pnyx.test:{port}")
        client.environ_base["REMOTE_ADDR"] = address
        answer = _post(client, "/connexion", {"email": unique_email(), "password": "x"})
        statuses.append(answer.status_code)
    assert statuses[:10] == [200] * 10
    assert statuses[10:] == [429, 429]


def test_reset_mails_to_one_account_are_limited_from_any_address(app, tenant, smtp_server):
    user = create_user(app, tenant)
    statuses = [
        _post(make_client(app, tenant), "/mot-de-passe-oublie", {"email": user.email}).status_code
        for _ in range(8)
    ]
    assert statuses[:3] == [302, 302, 302]
    assert statuses[3:] == [429] * 5
    # The same account typed differently is the same account.
    answer = _post(make_client(app, tenant), "/mot-de-passe-oublie", {"email": user.email.upper()})
    assert answer.status_code == 429
    # Another account is not affected.
    other = _post(make_client(app, tenant), "/mot-de-passe-oublie", {"email": unique_email()})
    assert other.status_code == 302


def test_failed_log_ins_on_one_account_are_limited_from_any_address(app, tenant):
    user = create_user(app, tenant)
    statuses = [
        _post(
            make_client(app, tenant), "/connexion", {"email": user.email, "password": "Faux-1"}
        ).status_code
        for _ in range(11)
    ]
    assert statuses[:10] == [200] * 10
    assert statuses[10] == 429
    # Another account from the same addresses is not affected.
    other = _post(
        make_client(app, tenant), "/connexion", {"email": unique_email(), "password": "x"}
    )
    assert other.status_code == 200


def test_successful_log_ins_do_not_use_up_the_account_budget(app, tenant):
    from tests.support import PASSWORD

    user = create_user(app, tenant)
    for _ in range(12):
        answer = _post(
            make_client(app, tenant), "/connexion", {"email": user.email, "password": PASSWORD}
        )
        assert answer.status_code == 302


def test_platform_log_in_is_limited_per_account(app):
    email = unique_email("operateur")
    statuses = []
    for _ in range(11):
        client = host_client(app, "pnyx.test")
        client.environ_base["REMOTE_ADDR"] = random_address()
        statuses.append(_post(client, "/connexion", {"email": email, "password": "x"}).status_code)
    assert statuses[:10] == [200] * 10
    assert statuses[10] == 429
