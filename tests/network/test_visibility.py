"""Who sees which section: members, coordinators, evaluators and operators see everything;
anybody else only the public sections, and the section menu hides the others. Also the
demo seed (idempotent) and the s0004 migration against the models."""

from __future__ import annotations

import html

import pytest
import sqlalchemy as sa

from core.db import db
from tests.support import platform_client, platform_user
from tests.support.network import make_network

SECTION_PATHS = {
    "members": "/membres",
    "library": "/pratiques",
    "forum": "/forum",
}


@pytest.fixture(scope="module")
def people(net_app, make_tenant):
    member_tenant, outsider_tenant = make_tenant(), make_tenant()
    coordinator_id, _ = platform_user(net_app, "coordinator")
    evaluator_id, _ = platform_user(net_app, "coordinator")
    return {
        "member_tenant": member_tenant,
        "coordinator": coordinator_id,
        "evaluator": evaluator_id,
        "member": platform_user(net_app, "member", member_tenant.id)[0],
        "outsider": platform_user(net_app, "member", outsider_tenant.id)[0],
        "operator": platform_user(net_app, "operator")[0],
    }


@pytest.mark.parametrize("public", [(), ("members",), ("library", "forum")])
def test_sections_follow_the_public_setting(net_app, people, public):
    network = make_network(
        net_app,
        members=[people["member_tenant"]],
        public_sections=public,
        coordinator_id=people["coordinator"],
        evaluator_id=people["evaluator"],
    )
    base = f"/reseaux/{network['slug']}"
    for who in ("anonymous", "outsider", "member", "coordinator", "evaluator", "operator"):
        client = platform_client(net_app, None if who == "anonymous" else people[who])
        insider = who not in ("anonymous", "outsider")
        home = client.get(base).get_data(as_text=True)
        for section, path in SECTION_PATHS.items():
            visible = insider or section in public
            status = client.get(base + path).status_code
            assert status == (200 if visible else 403), (who, section, public)
            # The section menu links exactly the sections the visitor may open.
            assert (f'href="{base}{path}"' in home) == visible, (who, section, public)


def test_unknown_network_is_a_french_404(net_app):
    response = platform_client(net_app).get("/reseaux/nexiste-pas/pratiques")
    assert response.status_code == 404
    assert "Ce réseau n'existe pas." in html.unescape(response.get_data(as_text=True))


def test_network_pages_do_not_exist_on_tenant_hosts(net_app, people):
    from tests.support import client_on

    network = make_network(net_app, members=[people["member_tenant"]])
    client = client_on(net_app, people["member_tenant"])
    assert client.get(f"/reseaux/{network['slug']}").status_code == 404


def test_member_home_lists_its_networks(net_app, people):
    network = make_network(net_app, members=[people["member_tenant"]], name="Réseau de l'accueil")
    page = platform_client(net_app, people["member"]).get("/espace").get_data(as_text=True)
    assert "Réseau de l&#39;accueil" in page and f"/reseaux/{network['slug']}" in page


def test_demo_seed_is_idempotent(net_app):
    from network.core.demo import NETWORK_SLUG, seed_network
    from network.forum.demo import seed_threads
    from network.library.demo import seed_practices
    from tenants.demo import seed_tenants
    from tenants.platform.demo import seed_platform_accounts

    with net_app.app_context():
        list(seed_tenants())
        list(seed_platform_accounts())
        first = [*seed_network(), *seed_practices(), *seed_threads()]
        second = [*seed_network(), *seed_practices(), *seed_threads()]
        counts = db.session.execute(
            sa.text(
                "SELECT (SELECT count(*) FROM public.network_memberships m"
                "        WHERE m.network_id = n.id AND m.status = 'active') AS members,"
                " (SELECT count(*) FROM public.network_practices p WHERE p.network_id = n.id)"
                "        AS practices,"
                " (SELECT count(*) FROM public.network_practices p WHERE p.network_id = n.id"
                "        AND p.outcome = 'failure') AS failures,"
                " (SELECT count(*) FROM public.network_practices p WHERE p.network_id = n.id"
                "        AND p.process_template IS NOT NULL) AS templates,"
                " (SELECT count(*) FROM public.network_forum_questions q"
                "        WHERE q.network_id = n.id) AS threads"
                " FROM public.networks n WHERE n.slug = :s"
            ),
            {"s": NETWORK_SLUG},
        ).one()
    assert first == second
    assert counts.members == 3 and counts.practices == 8
    assert counts.failures == 1 and counts.templates == 1 and counts.threads == 3
    page = platform_client(net_app).get(f"/reseaux/{NETWORK_SLUG}/pratiques")
    assert "Conseils de quartier en visioconférence" in page.get_data(as_text=True)


def test_the_migration_matches_the_models(net_app):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from network.core.models import Network, NetworkMembership, NetworkRole
    from network.forum.models import ForumAnswer, ForumQuestion
    from network.library.models import (
        Practice,
        PracticeAdoption,
        PracticeAttachment,
        PracticeComment,
    )
    from tenants.models import Tenant
    from tenants.platform.models import PlatformUser

    mine = (
        Network,
        NetworkRole,
        NetworkMembership,
        Practice,
        PracticeAttachment,
        PracticeComment,
        PracticeAdoption,
        ForumQuestion,
        ForumAnswer,
    )
    convention = {**db.metadata.naming_convention, "ix": "ix_public_%(column_0_label)s"}
    metadata = sa.MetaData(naming_convention=convention)
    for model in (Tenant, PlatformUser, *mine):
        model.__table__.to_metadata(
            metadata, schema=None, referred_schema_fn=lambda *args: sa.schema.BLANK_SCHEMA
        )
    names = {model.__tablename__ for model in mine}

    def include_object(obj, name, type_, reflected, compare_to):
        table = obj if type_ == "table" else getattr(obj, "table", None)
        return table is None or table.name in names

    with net_app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={"include_object": include_object, "compare_type": True},
        )
        diff = compare_metadata(context, metadata)
    assert diff == []
