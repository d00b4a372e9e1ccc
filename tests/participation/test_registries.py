"""What the features register in the shared registries (issue 17 §4): the menus and the staff
home's cards (core/navigation.py), the sections of the process page
(participation/processes/sections.py) and the names of the audit log's actions
(core/audit.py). The registries themselves are tested in tests/core/test_registries.py."""

from __future__ import annotations

from types import SimpleNamespace

from core import audit, navigation

ANONYMOUS = SimpleNamespace(is_authenticated=False, is_staff=False)
CITIZEN = SimpleNamespace(is_authenticated=True, is_staff=False, staff_role=None)


def staff(role: str) -> SimpleNamespace:
    return SimpleNamespace(is_authenticated=True, is_staff=True, staff_role=role)


def endpoints(app, area: str, user) -> list[str]:
    with app.test_request_context():
        return [entry.endpoint for entry in navigation.nav_entries(area, user)]


def test_the_public_menu_lists_the_features_then_the_account_links(app):
    public = [
        "processes.index",
        "surveys.index",
        "budgets.index",
        "meetings.index",
        "problems.index",
    ]
    assert endpoints(app, "tenant", ANONYMOUS) == public
    account = ["accounts.profile", "engagement.notifications"]
    assert endpoints(app, "tenant", CITIZEN) == public + account
    assert endpoints(app, "tenant", staff("agent")) == [*public, "staff.home", *account]
    with app.test_request_context():
        labels = [str(e.label) for e in navigation.nav_entries("tenant", staff("agent"))]
    assert labels[:5] == [
        "Démarches",
        "Consultations",
        "Budgets participatifs",
        "Réunions",
        "Signalements",
    ]


def test_the_staff_menu_follows_the_roles(app):
    features = [
        "staff.home",
        "staff_processes.index",
        "staff_proposals.dashboard",
        "staff_debates.manage",
        "staff_surveys.index",
        "staff_budgets.index",
        "staff_meetings.index",
        "staff_problems.index",
        "staff_network.index",
    ]
    admin_pages = [
        "staff.team",
        "staff.services_list",
        "staff.neighbourhoods",
        "staff.settings",
        "staff.audit_log",
    ]
    security = ["staff.two_factor_enrol"]
    assert endpoints(app, "staff", staff("agent")) == features + security
    assert endpoints(app, "staff", staff("moderator")) == [
        *features,
        "staff_moderation.queue",
        *security,
    ]
    assert endpoints(app, "staff", staff("admin")) == [
        *features,
        "staff_moderation.queue",
        "billing_admin.index",
        *admin_pages,
        *security,
    ]
    with app.test_request_context():
        entries = {e.endpoint: e for e in navigation.registered_entries("staff")}
    assert entries["staff_proposals.dashboard"].is_current("staff_proposals.show")
    assert entries["staff.team"].is_current("staff.edit_member")
    assert not entries["staff.home"].is_current("staff.team")


def test_the_platform_menu(app):
    operator = SimpleNamespace(is_authenticated=True, role="operator")
    coordinator = SimpleNamespace(is_authenticated=True, role="coordinator")
    assert endpoints(app, "platform", ANONYMOUS) == ["network.index"]
    assert endpoints(app, "platform", coordinator) == ["network.index"]
    assert endpoints(app, "platform", operator) == [
        "network.index",
        "platform_accounts.operator_home",
    ]


def test_the_staff_home_cards_follow_the_roles(app):
    from participation.staff.home import StaffCard, staff_cards

    with app.test_request_context():
        admin_cards = staff_cards(staff("admin"))
        agent_cards = staff_cards(staff("agent"))
    assert [c.endpoint for c in admin_cards] == [
        "staff.team",
        "staff.services_list",
        "staff.neighbourhoods",
        "staff.settings",
        "staff.audit_log",
        "staff.two_factor_enrol",
        "participation.home",
    ]
    assert [c.endpoint for c in agent_cards] == ["staff.two_factor_enrol", "participation.home"]
    assert all(isinstance(c, StaffCard) and c.count is None for c in admin_cards)


def test_a_staff_card_can_carry_a_count(app):
    from flask import Flask

    from participation.staff.home import register_staff_card, staff_cards

    other = Flask(__name__)
    register_staff_card(other, "x.index", "X", 10, count=lambda: 3)
    with other.test_request_context():
        (card,) = staff_cards(staff("agent"))
    assert card.count() == 3
    with app.test_request_context():
        assert "x.index" not in [c.endpoint for c in staff_cards(staff("admin"))]


def test_the_process_page_sections_come_in_order(app):
    from participation.processes import sections

    with app.test_request_context():
        page = [(s.name, s.template) for s in sections.process_sections()]
        phases = [(s.name, s.template) for s in sections.phase_summaries()]
    assert page == [
        ("proposals", "proposals/_process_section.html"),
        ("debates", "debates/_process_section.html"),
        ("surveys", "surveys/_process_section.html"),
        ("budgets", "budgets/_process_section.html"),
        ("meetings", "meetings/_process_section.html"),
    ]
    assert phases == [
        ("surveys", "surveys/_phase_summary.html"),
        ("budgets", "budgets/_phase_summary.html"),
        ("meetings", "meetings/_phase_summary.html"),
    ]
    for _name, template in page + phases:
        app.jinja_env.get_template(template)  # each one exists


def test_a_section_gets_its_data_by_name():
    from flask import Flask

    from participation.processes import sections

    other = Flask(__name__)
    sections.init_app(other)
    sections.register_process_section(other, "late", "late.html", 20, lambda p: f"late {p}")
    sections.register_process_section(other, "early", "early.html", 10, lambda p: f"early {p}")
    sections.register_phase_summary(other, "early", "early_phase.html", 10, lambda p, ph: (p, ph))
    with other.test_request_context():
        assert [s.name for s in sections.process_sections()] == ["early", "late"]
        assert sections.process_section_data("late", 7) == "late 7"
        assert sections.phase_summary_data("early", 7, 2) == (7, 2)
        rendered = other.jinja_env.from_string(
            '{{ process_section_data("early", process) }}'
        ).render(process=3)
    assert rendered == "early 3"


def test_the_features_name_their_audit_actions(app):
    with app.test_request_context():
        names = {
            code: audit.action_label(code)
            for code in (
                "staff.invitation_created",
                "processes.process_published",
                "proposals.answered",
                "surveys.published",
                "budgets.published",
                "meetings.cancelled",
                "problems.assigned",
                "network.left",
                "network.metrics_sharing_updated",
            )
        }
        targets = [
            audit.target_label(t)
            for t in ("user", "process", "proposal", "survey", "budget", "meeting", "network")
        ]
    assert names["staff.invitation_created"] == "Invitation envoyée"
    assert names["budgets.published"] == "Budget participatif publié"
    assert names["network.metrics_sharing_updated"] == (
        "Indicateurs partagés avec un réseau modifiés"
    )
    assert all(label != code for code, label in names.items()), names
    assert targets == [
        "Compte",
        "Démarche",
        "Proposition",
        "Consultation",
        "Budget participatif",
        "Réunion publique",
        "Réseau",
    ]
