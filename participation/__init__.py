"""Everything inside one collectivité's space (tenant schema)."""

from __future__ import annotations

from flask import Flask

from core.db import db
from core.routing import TENANT_SITE
from core.security.auth import Realm, register_realm


def _load_user(user_id: int):
    from participation.accounts.models import User

    return db.session.get(User, user_id)


def init_app(app: Flask) -> None:
    from participation.accounts.models import User, UserSession
    from participation.views import bp

    register_realm(
        Realm(
            name="tenant",
            load=_load_user,
            login_view="accounts.login",
            two_factor_view="staff.two_factor",
            enrol_view="staff.two_factor_enrol",
            user_model=User,
            session_model=UserSession,
        )
    )
    app.register_blueprint(bp, subdomain=TENANT_SITE)
    from participation import accounts

    accounts.init_app(app)
    from participation.staff import init_app as staff_init_app

    staff_init_app(app)
    from participation.processes import init_app as processes_init_app

    processes_init_app(app)
    from participation.proposals import init_app as proposals_init_app

    proposals_init_app(app)
    from participation import debates, engagement

    debates.init_app(app)
    engagement.init_app(app)
    from participation import api, budgets, meetings, opendata, problems, surveys

    surveys.init_app(app)
    budgets.init_app(app)
    meetings.init_app(app)
    problems.init_app(app)
    api.init_app(app)
    opendata.init_app(app)
