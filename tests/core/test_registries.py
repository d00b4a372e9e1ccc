"""The lower layer's registries on their own: the menus (core/navigation.py) and the names of
the audit log's actions (core/audit.py). The entries the features register are checked in
tests/participation/test_registries.py."""

from __future__ import annotations

from types import SimpleNamespace

from flask import Flask

from core import audit, navigation

ANONYMOUS = SimpleNamespace(is_authenticated=False)
MEMBER = SimpleNamespace(is_authenticated=True)


def _app() -> Flask:
    app = Flask(__name__)
    navigation.init_app(app)
    return app


def test_entries_come_in_order_whatever_the_order_of_registration():
    app = _app()
    navigation.register_nav_entry(app, "menu", "b.index", "B", 20)
    navigation.register_nav_entry(app, "menu", "c.index", "C", 30)
    navigation.register_nav_entry(app, "menu", "a.index", "A", 10)
    navigation.register_nav_entry(app, "menu", "a2.index", "A2", 10)  # same order: by endpoint
    entries = navigation.registered_entries("menu", app)
    assert [e.endpoint for e in entries] == ["a.index", "a2.index", "b.index", "c.index"]
    assert navigation.registered_entries("other", app) == []


def test_registering_again_replaces_and_apps_do_not_share_their_links():
    app, other = _app(), _app()
    navigation.register_nav_entry(app, "menu", "a.index", "Old", 10)
    navigation.register_nav_entry(app, "menu", "a.index", "New", 5)
    assert [(e.label, e.order) for e in navigation.registered_entries("menu", app)] == [("New", 5)]
    assert navigation.registered_entries("menu", other) == []


def test_an_entry_is_shown_to_whom_its_rule_allows():
    app = _app()
    navigation.register_nav_entry(app, "menu", "public.index", "Public", 10)
    navigation.register_nav_entry(
        app, "menu", "account.index", "Account", 20, visible=navigation.signed_in
    )
    with app.test_request_context():
        seen = {
            name: [e.endpoint for e in navigation.nav_entries("menu", user)]
            for name, user in (("anonymous", ANONYMOUS), ("member", MEMBER))
        }
    assert seen == {"anonymous": ["public.index"], "member": ["public.index", "account.index"]}


def test_the_current_page_is_the_endpoint_or_any_endpoint_of_a_blueprint():
    own = navigation.NavEntry("staff.settings", "Settings", 10)
    assert own.is_current("staff.settings")
    assert not own.is_current("staff.settings_other") and not own.is_current(None)
    blueprint = navigation.NavEntry("staff_x.index", "X", 10, current=("staff_x.",))
    assert blueprint.is_current("staff_x.index") and blueprint.is_current("staff_x.edit")
    assert not blueprint.is_current("staff_x_other.index")
    listed = navigation.NavEntry("staff.team", "Team", 10, current=("staff.team", "staff.invite"))
    assert listed.is_current("staff.invite") and not listed.is_current("staff.home")


def test_a_badge_is_computed_only_when_asked():
    calls = []

    def badge():
        calls.append(1)
        return "2 non lues"

    entry = navigation.NavEntry("x.index", "X", 10, badge=badge)
    assert calls == []
    assert entry.badge_text() == "2 non lues" and calls == [1]
    assert navigation.NavEntry("y.index", "Y", 10).badge_text() is None


def test_templates_loop_over_the_links_of_their_area():
    app = _app()
    navigation.register_nav_entry(app, "menu", "second", "Deux", 20)
    navigation.register_nav_entry(app, "menu", "first", "Un", 10)
    for endpoint in ("first", "second"):
        app.add_url_rule(f"/{endpoint}", endpoint, lambda: "")
    template = (
        '{% for e in nav_entries("menu") %}<a href="{{ url_for(e.endpoint) }}"'
        '{% if e.is_current(request.endpoint) %} aria-current="page"{% endif %}>'
        "{{ e.label }}</a>{% endfor %}"
    )
    with app.test_request_context("/second"):
        html = app.jinja_env.from_string(template).render()
    assert html == '<a href="/first">Un</a><a href="/second" aria-current="page">Deux</a>'


def test_audit_labels_are_looked_up_by_code_and_the_first_name_wins():
    audit.register_audit_labels(
        {"registry_test.thing_done": "Chose faite"}, {"registry_test_thing": "Chose"}
    )
    audit.register_audit_labels({"registry_test.thing_done": "Autre nom"})
    assert audit.action_label("registry_test.thing_done") == "Chose faite"
    assert audit.target_label("registry_test_thing") == "Chose"
    # An action or a target nobody named shows its code.
    assert audit.action_label("registry_test.unknown") == "registry_test.unknown"
    assert audit.target_label("registry_test_unknown") == "registry_test_unknown"
    audit.register_audit_labels(targets={"registry_test_other": "Autre"})
    assert audit.target_label("registry_test_other") == "Autre"
