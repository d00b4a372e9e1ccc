"""Plan limits: values, French messages with the way up, and the enforcement of the
number of open démarches whatever the code path that publishes them."""

from __future__ import annotations

import pytest

from core.db import db
from tests.support.billing import subscribe


def test_limits_come_from_the_plan(billing_app, make_tenant):
    from billing.limits import feature_enabled, limit_for

    small = make_tenant(provision=False)
    big = make_tenant(provision=False)
    unbilled = make_tenant(provision=False)
    subscribe(billing_app, small, "commune-xs-month")
    subscribe(billing_app, big, "commune-l-year")
    with billing_app.app_context():
        assert limit_for(small.id, "open_processes") == 2
        assert feature_enabled(small.id, "budget_module") is False
        assert limit_for(big.id, "open_processes") is None  # unlimited
        assert feature_enabled(big.id, "budget_module") is True
        # A tenant without a subscription (made by an operator) has no limits.
        assert limit_for(unbilled.id, "open_processes") is None
        assert feature_enabled(unbilled.id, "budget_module") is True
        assert feature_enabled(small.id, "a_future_feature") is True


def test_exceeding_a_limit_explains_it_in_french_with_the_upgrade(billing_app, make_tenant):
    from billing.limits import PlanLimitExceeded, ensure_within_limit

    tenant = make_tenant(provision=False)
    subscribe(billing_app, tenant, "commune-xs-month")
    with billing_app.test_request_context("/"):
        ensure_within_limit(tenant.id, "open_processes", 1)  # a second one is fine
        with pytest.raises(PlanLimitExceeded) as caught:
            ensure_within_limit(tenant.id, "open_processes", 2)
    message = str(caught.value)
    assert message.startswith(
        "Votre offre « Commune de moins de 3 500 habitants — mensuel » permet 2 démarches "
        "ouvertes en même temps au plus, et vous en avez déjà 2."
    )
    assert "L'offre « Commune de 3 500 à 20 000 habitants — mensuel » le permet" in message
    assert "Administration › Abonnement (/gestion/abonnement)" in message
    assert caught.value.key == "open_processes" and caught.value.limit == 2


def test_a_missing_feature_names_the_plan_that_has_it(billing_app, make_tenant):
    from billing.limits import PlanLimitExceeded, ensure_feature, require_feature

    tenant = make_tenant(provision=False)
    subscribe(billing_app, tenant, "commune-s-year")
    with billing_app.test_request_context("/"):
        with pytest.raises(PlanLimitExceeded, match="ne comprend pas le budget participatif"):
            ensure_feature(tenant.id, "budget_module")
        try:
            ensure_feature(tenant.id, "budget_module")
        except PlanLimitExceeded as exc:
            assert "« Commune de 20 000 à 100 000 habitants — annuel » le permet" in str(exc)

        from flask import g

        from tenants.context import load_tenant_ref

        g.tenant = load_tenant_ref(tenant.id)
        view = require_feature("budget_module")(lambda: "budget")
        with pytest.raises(PlanLimitExceeded):
            view()
        assert require_feature("custom_domain")(lambda: "domain")() == "domain"


def test_the_top_plan_suggests_talking_to_us(billing_app, make_tenant):
    from billing.limits import PlanLimitExceeded, ensure_within_limit
    from billing.services import get_plan

    tenant = make_tenant(provision=False)
    subscribe(billing_app, tenant, "commune-l-month")
    with billing_app.test_request_context("/"):
        plan = get_plan("commune-l-month")
        plan.limits = {**plan.limits, "staff_members": 50}
        db.session.flush()
        with pytest.raises(PlanLimitExceeded, match="offre sur mesure"):
            ensure_within_limit(tenant.id, "staff_members", 50)
        db.session.rollback()


def test_an_uncaught_limit_is_a_403_page_with_the_message(billing_app):
    from billing.limits import PlanLimitExceeded

    with billing_app.test_request_context("/", headers={"Accept": "text/html"}):
        response = billing_app.make_response(
            billing_app.handle_user_exception(PlanLimitExceeded("Limite atteinte.", "x"))
        )
    assert response.status_code == 403
    assert "Limite atteinte." in response.get_data(as_text=True)


def _publish(app, tenant, title: str):
    from participation.processes.models import Process, ProcessState
    from tenants.context import tenant_context

    with app.app_context(), tenant_context(tenant):
        db.session.add(Process(title=title, state=ProcessState.PUBLISHED))
        db.session.commit()


def _draft_then_publish(app, tenant, title: str):
    from participation.processes.models import Process, ProcessState
    from tenants.context import tenant_context

    with app.app_context(), tenant_context(tenant):
        process = Process(title=title, state=ProcessState.DRAFT)
        db.session.add(process)
        db.session.commit()
        process.state = ProcessState.PUBLISHED
        db.session.commit()


def test_publishing_beyond_the_plan_is_refused_whatever_the_code_path(billing_app, billing_tenant):
    from billing import services
    from billing.limits import PlanLimitExceeded, count_open_processes
    from tenants.context import tenant_context

    subscribe(billing_app, billing_tenant, "commune-xs-month")
    _publish(billing_app, billing_tenant, "Budget des écoles")
    _draft_then_publish(billing_app, billing_tenant, "Plan vélo")
    with pytest.raises(PlanLimitExceeded, match="permet 2 démarches"):
        _publish(billing_app, billing_tenant, "Troisième démarche")
    with pytest.raises(PlanLimitExceeded, match="vous en avez déjà 2"):
        _draft_then_publish(billing_app, billing_tenant, "Quatrième démarche")
    with billing_app.app_context(), tenant_context(billing_tenant):
        assert count_open_processes() == 2
        # Drafts and edits of published démarches are not limited.
        from participation.processes.models import Process

        for process in db.session.query(Process):
            process.summary = "Mis à jour"
        db.session.commit()

    # After an upgrade, the third one goes through.
    with billing_app.app_context():
        services.change_plan(billing_tenant.id, "commune-s-month", actor_id=None)
        db.session.commit()
    _publish(billing_app, billing_tenant, "Troisième démarche")
    with billing_app.app_context(), tenant_context(billing_tenant):
        assert count_open_processes() == 3


def test_usage_counts_open_processes_and_staff(billing_app, billing_tenant):
    from billing.limits import usage
    from tenants.context import tenant_context
    from tests.support import create_person

    create_person(billing_app, billing_tenant, "admin")
    _publish(billing_app, billing_tenant, "Une démarche")
    with billing_app.app_context(), tenant_context(billing_tenant):
        assert usage() == {"open_processes": 1, "staff_members": 1}
