"""Authorisation matrix of the staff pages: every staff route of ``app.url_map`` × every
kind of visitor gets exactly the expected answer, and a refused POST writes nothing.

Visitors: anonymous, a citizen, an agent, a moderator, an admin (all of tenant A), the
admin of tenant B with their own session cookie replayed on A's host, and a platform
operator with their platform cookie replayed on A's host. Cookies are signed per site, so
the last two are strangers on A: sent to the log-in page, never let in.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

pytest.register_assert_rewrite("tests.participation.authz_matrix")

from core.db import db  # noqa: E402 - after the rewrite registration
from tests.participation.authz_matrix import (  # noqa: E402
    OPERATOR_COLUMNS,
    OPERATOR_STRANGERS,
    Matrix,
    assert_routes_listed,
    build_matrix,
    check_gets,
    check_refused_posts,
    expected_get,
    operator_post_refusal,
    signed_in_clients,
)
from tests.support import create_person, csrf_for, ensure_legal_documents, unique_email  # noqa: E402
from tests.support.staff import FINGERPRINT_TABLES  # noqa: E402

# Reached without a staff session by design: the invitation link and the second factor.
PUBLIC_ENDPOINTS = {"staff.accept_invitation", "staff.two_factor", "staff.two_factor_enrol"}

ALL_STAFF = frozenset({"admin", "moderator", "agent"})
ADMIN_ONLY = frozenset({"admin"})

#: Who may use each staff route (admins pass every check).
ALLOWED = {
    "staff.home": ALL_STAFF,
    "staff.regenerate_recovery_codes": ALL_STAFF,
    "staff.team": ADMIN_ONLY,
    "staff.invite": ADMIN_ONLY,
    "staff.revoke_invitation": ADMIN_ONLY,
    "staff.edit_member": ADMIN_ONLY,
    "staff.remove_member": ADMIN_ONLY,
    "staff.services_list": ADMIN_ONLY,
    "staff.edit_service": ADMIN_ONLY,
    "staff.delete_service": ADMIN_ONLY,
    "staff.neighbourhoods": ADMIN_ONLY,
    "staff.edit_neighbourhood": ADMIN_ONLY,
    "staff.delete_neighbourhood": ADMIN_ONLY,
    "staff.audit_log": ADMIN_ONLY,
    "staff.settings": ADMIN_ONLY,
}

COLUMNS = OPERATOR_COLUMNS
STRANGERS = OPERATOR_STRANGERS  # not logged in on A


def expected_staff_get(column: str, endpoint: str) -> int:
    # Strangers: 302 to A's log-in page; citizens and the wrong roles: 403.
    return expected_get(column, endpoint, ALLOWED, strangers=STRANGERS)


@pytest.fixture(scope="module")
def matrix(staff_app, make_tenant) -> Matrix:
    from core.security.totp import new_recovery_codes
    from participation.accounts.models import Invitation, Neighbourhood, Service, StaffRole, User
    from tenants.context import tenant_context

    app = staff_app
    tenant_a, tenant_b = make_tenant(), make_tenant()
    for tenant in (tenant_a, tenant_b):
        ensure_legal_documents(app, tenant)

    people = {
        "citizen": create_person(app, tenant_a, None),
        "agent": create_person(app, tenant_a, "agent", services=("Voirie",)),
        "moderator": create_person(app, tenant_a, "moderator"),
        "admin": create_person(app, tenant_a, "admin"),
    }
    target = create_person(app, tenant_a, "agent", services=("Voirie",))
    with app.app_context(), tenant_context(tenant_a):
        service = Service(name="Culture")
        neighbourhood = Neighbourhood(name="Dornach", position=1)
        invitation = Invitation(
            email=unique_email("invite"),
            role=StaffRole.MODERATOR,
            service_ids=[],
            token_digest="0" * 64,
            expires_at=sa_now_plus_days(7),
        )
        db.session.add_all([service, neighbourhood, invitation])
        for person in people.values():
            if person.role:
                db.session.get(User, person.id).recovery_codes = new_recovery_codes()[1]
        db.session.commit()
        ids = {
            "user_id": target.id,
            "service_id": service.id,
            "neighbourhood_id": neighbourhood.id,
            "invitation_id": invitation.id,
        }

    return build_matrix(
        app,
        tenant_a,
        tenant_b,
        clients=signed_in_clients(app, tenant_a, people),
        ids=ids,
        prefixes=("staff.",),
        home_on_b="/gestion/equipe",  # a real admin, at home on B
        tables=FINGERPRINT_TABLES,
        every_argument=True,
        exclude=PUBLIC_ENDPOINTS,
        token_first=True,
        operator=True,
    )


def sa_now_plus_days(days: int):
    from datetime import UTC, datetime, timedelta

    return datetime.now(UTC) + timedelta(days=days)


def test_every_staff_route_is_in_the_matrix(matrix):
    assert_routes_listed(
        matrix.urls, ALLOWED, "a staff route was added or removed: list who may use it in ALLOWED"
    )


@pytest.mark.parametrize("column", COLUMNS)
def test_get_answers_exactly_as_expected(matrix, column):
    check_gets(matrix, column, expected_staff_get, on_tenant_host=True)


POST_DATA = {
    "staff.invite": {"email": "pirate@exemple.fr", "role": "admin"},
    "staff.edit_member": {"role": "admin"},
    "staff.services_list": {"name": "Service pirate"},
    "staff.edit_service": {"name": "Culture piratée"},
    "staff.neighbourhoods": {"name": "Quartier pirate"},
    "staff.edit_neighbourhood": {"name": "Dornach piraté", "position": "7"},
    "staff.settings": {
        "site_name": "Espace piraté",
        "primary_colour": "#000000",
        "logo_url": "https://pirate.example/logo.png",
        "dpo_contact": "pirate@exemple.fr",
    },
    "staff.regenerate_recovery_codes": {"code": "123456"},
}


@pytest.mark.parametrize("column", COLUMNS)
def test_a_refused_post_is_refused_and_writes_nothing(matrix, column):
    check_refused_posts(
        matrix,
        column,
        ALLOWED,
        POST_DATA,
        may_post_everywhere={"admin"},
        refusal=operator_post_refusal,
    )


def test_the_refusals_are_not_a_csrf_accident(matrix):
    """Control: the same POSTs with the right role reach the view (forms re-shown)."""
    admin = matrix.clients["admin"]
    response = admin.post(
        matrix.urls["staff.services_list"],
        data={"csrf_token": csrf_for(admin), "name": ""},
    )
    assert response.status_code == 200 and "Indiquez le nom du service." in response.get_data(
        as_text=True
    )
    agent = matrix.clients["agent"]
    response = agent.post(
        matrix.urls["staff.regenerate_recovery_codes"],
        data={"csrf_token": csrf_for(agent), "code": "000000"},
    )
    assert response.status_code == 302 and urlsplit(response.location).path == (
        "/gestion/securite/double-authentification"
    )


def test_the_login_redirect_keeps_the_page_asked_for(matrix):
    response = matrix.clients["anonymous"].get(matrix.urls["staff.settings"])
    assert response.status_code == 302
    assert urlsplit(response.location).query == "next=/gestion/parametres"


def test_unknown_ids_are_checked_only_after_the_permissions(matrix):
    """A stranger or a wrong role cannot probe which ids exist: 404 is for admins only."""
    path = "/gestion/equipe/987654"
    assert matrix.clients["anonymous"].get(path).status_code == 302
    assert matrix.clients["citizen"].get(path).status_code == 403
    assert matrix.clients["moderator"].get(path).status_code == 403
    assert matrix.clients["admin"].get(path).status_code == 404
