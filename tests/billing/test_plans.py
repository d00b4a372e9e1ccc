"""Plans (seeded data, strata, VAT), the SIRET check, the trial, and the migration."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from core.db import db

# --------------------------------------------------------------------------- plans


@pytest.mark.parametrize(
    ("kind", "population", "tier"),
    [
        ("commune", 0, "commune-xs"),
        ("commune", 3_499, "commune-xs"),
        ("commune", 3_500, "commune-s"),
        ("commune", 19_999, "commune-s"),
        ("commune", 20_000, "commune-m"),
        ("commune", 99_999, "commune-m"),
        ("commune", 100_000, "commune-l"),
        ("commune", 2_100_000, "commune-l"),
        ("epci", 250_000, "epci"),
        ("departement", 800_000, "departement"),
        ("region", 5_000_000, "region"),
    ],
)
def test_plan_for_population_follows_the_strata(billing_app, kind, population, tier):
    from billing.services import plan_for_population

    with billing_app.app_context():
        monthly = plan_for_population(kind, population)
        yearly = plan_for_population(kind, population, "year")
        assert monthly.tier == tier and monthly.interval == "month"
        assert yearly.tier == tier and yearly.interval == "year"
        assert monthly.code == f"{tier}-month"
        # Ten months for a year: two months free.
        assert yearly.price_cents_excl_vat == monthly.price_cents_excl_vat * 10


def test_prices_are_excluding_vat_with_french_vat_at_20_percent(billing_app):
    from billing.models import vat_cents
    from billing.services import get_plan

    with billing_app.app_context():
        plan = get_plan("commune-xs-month")
        assert plan.price_cents_excl_vat == 4_900
        assert plan.vat_cents == 980
        assert plan.price_cents_incl_vat == 5_880
        assert plan.monthly_cents_excl_vat == 4_900
        assert get_plan("commune-xs-year").monthly_cents_excl_vat == 4_083  # 490 € / 12
    assert vat_cents(1) == 0 and vat_cents(3) == 1  # half up to the cent


def test_seeding_twice_changes_nothing_and_keeps_the_operators_edits(billing_app):
    from billing.catalogue import default_plans, seed_plans
    from billing.models import Plan
    from billing.services import get_plan

    with billing_app.app_context():
        plan = get_plan("region-year")
        original = plan.price_cents_excl_vat
        plan.price_cents_excl_vat = original + 100
        db.session.commit()
        assert seed_plans() == []
        db.session.commit()
        assert get_plan("region-year").price_cents_excl_vat == original + 100
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Plan)) >= len(
            default_plans()
        )
        get_plan("region-year").price_cents_excl_vat = original
        db.session.commit()


def test_an_inactive_plan_is_no_longer_offered(billing_app):
    from billing.services import get_plan, plan_for_population

    with billing_app.app_context():
        get_plan("epci-month").active = False
        db.session.flush()
        assert plan_for_population("epci", 50_000) is None
        db.session.rollback()
        assert plan_for_population("epci", 50_000).code == "epci-month"


def test_upgrade_path_points_to_the_next_stratum(billing_app):
    from billing.services import get_plan, upgrade_for

    with billing_app.app_context():
        assert upgrade_for(get_plan("commune-xs-month"), "open_processes").code == "commune-s-month"
        assert upgrade_for(get_plan("commune-s-year"), "budget_module").code == "commune-m-year"
        assert upgrade_for(get_plan("commune-l-month"), "open_processes") is None


# --------------------------------------------------------------------------- SIRET


MULHOUSE_SIREN = "216802249"


@pytest.fixture
def siret_app(billing_app):
    with billing_app.test_request_context("/"):
        yield


def test_a_valid_siret_is_normalised(siret_app):
    from billing.siret import complete_siret, validate_siret

    siret = complete_siret(MULHOUSE_SIREN)
    spaced = f"{siret[:3]} {siret[3:6]} {siret[6:9]} {siret[9:]}"
    assert validate_siret(spaced, MULHOUSE_SIREN) == siret
    assert validate_siret(siret.replace("", ".")[1:-1]) == siret


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "Indiquez le numéro SIRET"),
        ("2168022490001", "exactement 14 chiffres (vous en avez saisi 13)"),
        ("216802249000123", "exactement 14 chiffres (vous en avez saisi 15)"),
        ("21680224900O1X", "ne contient que des chiffres"),
        ("２１６８０２２４９０００１５", "ne contient que des chiffres"),  # full-width digits
    ],
)
def test_a_siret_must_have_14_ascii_digits(siret_app, value, message):
    from billing.siret import SiretError, validate_siret

    with pytest.raises(SiretError, match=re.escape(message)):
        validate_siret(value)


def test_the_luhn_key_catches_a_typo(siret_app):
    from billing.siret import SiretError, complete_siret, validate_siret

    siret = complete_siret(MULHOUSE_SIREN)
    typo = siret[:-1] + str((int(siret[-1]) + 1) % 10)
    with pytest.raises(SiretError, match="clé de contrôle"):
        validate_siret(typo)
    swapped = siret[:9] + siret[10] + siret[9] + siret[11:]
    if swapped != siret:
        with pytest.raises(SiretError, match="clé de contrôle"):
            validate_siret(swapped)


def test_the_siren_must_be_the_collectivites(siret_app):
    from billing.siret import SiretError, complete_siret, validate_siret

    other = complete_siret("217500016")  # Paris
    with pytest.raises(SiretError, match=r"devraient être son SIREN, 216802249"):
        validate_siret(other, MULHOUSE_SIREN)


def test_la_poste_sirets_use_the_sum_of_digits_rule(siret_app):
    from billing.siret import SiretError, luhn_valid, validate_siret

    # A La Poste establishment: not a Luhn number, but its digits add up to 35.
    la_poste = "35600000049837"
    assert not luhn_valid(la_poste)
    assert sum(map(int, la_poste)) % 5 == 0
    assert validate_siret(la_poste, "356000000") == la_poste
    # The exception is La Poste's alone.
    with pytest.raises(SiretError, match="clé de contrôle"):
        validate_siret("35700000049836")
    # And a La Poste number whose digits do not add up to a multiple of 5 is refused.
    with pytest.raises(SiretError, match="clé de contrôle"):
        validate_siret("35600000049838")


def test_luhn_on_known_numbers():
    from billing.siret import luhn_valid

    assert luhn_valid("73282932000074")  # a published SIRET
    assert not luhn_valid("73282932000075")


# --------------------------------------------------------------------------- trial


def test_start_trial_picks_the_plan_of_the_stratum_and_is_idempotent(billing_app, make_tenant):
    from billing import services

    tenant = make_tenant(provision=False)
    with billing_app.app_context():
        sub = services.start_trial(tenant.id)
        db.session.commit()
        expected = services.plan_for_population("commune", tenant.population)
        assert sub.plan_id == expected.id
        assert sub.state == "trialing"
        days = (sub.trial_ends_at - sub.state_changed_at).days
        assert days == billing_app.config["BILLING_TRIAL_DAYS"] == 30
        again = services.start_trial(tenant.id, "commune-l-year")
        assert again.id == sub.id and again.plan_id == expected.id


def test_start_trial_with_a_chosen_plan(billing_app, make_tenant):
    from billing import services

    tenant = make_tenant(provision=False)
    with billing_app.app_context():
        sub = services.start_trial(tenant.id, "commune-m-year")
        assert sub.plan.code == "commune-m-year"
        db.session.rollback()


def test_start_trial_refuses_a_plan_of_another_kind(billing_app, make_tenant):
    from billing import services

    tenant = make_tenant(provision=False)
    with billing_app.test_request_context("/"):
        with pytest.raises(services.BillingError, match="pas destinée à ce type"):
            services.start_trial(tenant.id, "region-month")
        db.session.rollback()


# --------------------------------------------------------------------------- schema


def test_the_migration_matches_the_models(billing_app):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from billing.models import Invoice, Plan, StripeEvent, Subscription
    from tenants.models import Tenant

    convention = {**db.metadata.naming_convention, "ix": "ix_public_%(column_0_label)s"}
    metadata = sa.MetaData(naming_convention=convention)
    models = (Tenant, Plan, Subscription, Invoice, StripeEvent)
    for model in models:
        model.__table__.to_metadata(
            metadata, schema=None, referred_schema_fn=lambda *args: sa.schema.BLANK_SCHEMA
        )
    names = {m.__tablename__ for m in models[1:]}

    def include_object(obj, name, type_, reflected, compare_to):
        table = obj if type_ == "table" else getattr(obj, "table", None)
        return table is None or table.name in names

    with billing_app.app_context(), db.engine.connect() as conn:
        checks = {
            c["name"] for c in sa.inspect(conn).get_check_constraints("subscriptions", "public")
        }
        context = MigrationContext.configure(
            conn,
            opts={
                "include_object": include_object,
                "compare_type": True,
                "compare_server_default": True,
            },
        )
        diff = compare_metadata(context, metadata)
    assert {"ck_subscriptions_state", "ck_subscriptions_siret_format"} <= checks
    assert diff == [], diff


def test_the_database_refuses_an_unknown_state(billing_app, make_tenant):
    from sqlalchemy.exc import IntegrityError

    tenant = make_tenant(provision=False)
    with billing_app.app_context():
        plan_id = db.session.scalar(sa.text("SELECT id FROM public.plans LIMIT 1"))
        with pytest.raises(IntegrityError, match="ck_subscriptions_state"):
            db.session.execute(
                sa.text(
                    "INSERT INTO public.subscriptions (tenant_id, plan_id, state)"
                    " VALUES (:t, :p, 'free')"
                ),
                {"t": tenant.id, "p": plan_id},
            )
        db.session.rollback()
