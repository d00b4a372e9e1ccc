"""Compute one tenant's figures from its own schema and store them in the public snapshot
table. Runs inside ``tenants.context.tenant_context`` (the session's ``search_path`` is the
tenant's schema, then ``public``): raw SQL, a handful of statements per tenant.

Tables that other features may not have created yet (surveys, budgets) are looked up first:
a missing table or column gives "no data" for its metrics, never an error.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import sqlalchemy as sa

from core import clock
from core.db import db
from network.benchmarks.metrics import METRICS, representativeness_index
from tenants.context import TenantRef

PARIS = clock.PARIS
MONTHS = 12  # the window: this month and the eleven before

OPTIONAL_TABLES = ("survey_responses", "budgets", "budget_voters", "budget_ballots")
TIME_COLUMNS = ("submitted_at", "voted_at", "cast_at", "cast_hour", "created_at")
USER_COLUMNS = ("user_id", "respondent_id", "voter_id", "author_id")


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def window(today: date | None = None) -> tuple[date, date, list[date]]:
    """(first month, first day after the window, the months in order)."""
    today = today or clock.paris_today()
    last = month_start(today)
    first = add_months(last, -(MONTHS - 1))
    return first, add_months(last, 1), [add_months(first, i) for i in range(MONTHS)]


@dataclass
class Figures:
    """Per period (a month, or None for the whole window): value and base of each metric."""

    values: dict[tuple[str, date | None], tuple[float | None, int]] = field(default_factory=dict)

    def put(self, metric: str, period: date | None, value: float | None, base: int) -> None:
        self.values[(metric, period)] = (None if value is None else float(value), int(base))


def _optional_columns(schema: str) -> dict[str, set[str]]:
    rows = db.session.execute(
        sa.text(
            """
            SELECT c.relname, a.attname
              FROM pg_class c
              JOIN pg_namespace n ON n.oid = c.relnamespace
              JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
             WHERE n.nspname = :schema AND c.relname = ANY(:tables) AND c.relkind = 'r'
            """
        ),
        {"schema": schema, "tables": list(OPTIONAL_TABLES)},
    )
    columns: dict[str, set[str]] = defaultdict(set)
    for table, column in rows:
        columns[table].add(column)
    return columns


def _first(candidates: tuple[str, ...], available: set[str]) -> str | None:
    return next((c for c in candidates if c in available), None)


def _month(expr: str) -> str:
    return f"date_trunc('month', {expr} AT TIME ZONE 'Europe/Paris')::date"


def _statement(columns: dict[str, set[str]], applicable: set[str]) -> str:
    """One SELECT for every figure of the tenant (a single round trip: the refresh of
    hundreds of tenants is bound by round trips on a busy machine). Each part returns
    ``part, all_months, all_brackets, month, bracket, n1, n2, n3, n4, x``."""
    survey_time = _first(TIME_COLUMNS, columns.get("survey_responses", set()))
    survey_user = _first(USER_COLUMNS, columns.get("survey_responses", set()))
    # Budget votes: the voters register (one row per voter, with the account when there is
    # one) when it exists, else the anonymous ballots themselves.
    ballot_table = next(
        (t for t in ("budget_voters", "budget_ballots") if t in columns), "budget_ballots"
    )
    ballot_time = _first(TIME_COLUMNS, columns.get(ballot_table, set()))
    ballot_user = _first(USER_COLUMNS, columns.get(ballot_table, set()))
    if "survey_responses" in columns and survey_time is None:
        applicable.discard("survey_responses")
    if (
        ballot_time is None
        or "budget_id" not in columns.get(ballot_table, set())
        or "eligible_population" not in columns.get("budgets", set())
    ):
        applicable.discard("budget_turnout")

    acts = [
        "SELECT author_id, created_at, 1 FROM proposals WHERE hidden_at IS NULL "
        "AND created_at >= :start AND created_at < :end",
        "SELECT user_id, created_at, 0 FROM supports WHERE created_at >= :start "
        "AND created_at < :end",
        "SELECT author_id, created_at, 1 FROM comments WHERE hidden_at IS NULL "
        "AND deleted_at IS NULL AND created_at >= :start AND created_at < :end",
        "SELECT author_id, created_at, 1 FROM arguments WHERE hidden_at IS NULL "
        "AND deleted_at IS NULL AND created_at >= :start AND created_at < :end",
    ]
    if "survey_responses" in applicable:
        acts.append(
            f"SELECT {survey_user or 'NULL::integer'}, {survey_time}, 1 FROM survey_responses "
            f"WHERE {survey_time} >= :start AND {survey_time} < :end"
        )
    if "budget_turnout" in applicable and ballot_user:
        acts.append(
            f"SELECT {ballot_user}, {ballot_time}, 0 FROM {ballot_table} "
            f"WHERE {ballot_time} >= :start AND {ballot_time} < :end"
        )
    parts = [
        # Participants (distinct, non-staff), contributions and their authors, by age.
        """
        SELECT 'people' AS part, GROUPING(month) AS all_months,
               GROUPING(bracket) AS all_brackets, month, bracket,
               count(DISTINCT user_id) AS n1, coalesce(sum(contribution), 0) AS n2,
               count(DISTINCT user_id) FILTER (WHERE contribution = 1) AS n3,
               NULL::bigint AS n4, NULL::float8 AS x
          FROM people
         GROUP BY GROUPING SETS ((month), (), (month, bracket), (bracket))
        """,
        # Proposals filed: answered, retained, realised.
        f"""
        SELECT 'proposals', GROUPING(month), 1, month, NULL,
               count(*), count(*) FILTER (WHERE answered_at IS NOT NULL),
               count(*) FILTER (WHERE status IN ('accepted', 'done')),
               count(*) FILTER (WHERE status = 'done'), NULL
          FROM (SELECT {_month("created_at")} AS month, answered_at, status
                  FROM proposals
                 WHERE created_at >= :start AND created_at < :end
                   AND hidden_at IS NULL AND withdrawn_at IS NULL) p
         GROUP BY GROUPING SETS ((month), ())
        """,
        # Answers given: the median delay, in days.
        f"""
        SELECT 'answers', GROUPING(month), 1, month, NULL, count(*), NULL, NULL, NULL,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY days)
          FROM (SELECT {_month("answered_at")} AS month,
                       extract(epoch FROM answered_at - created_at) / 86400.0 AS days
                  FROM proposals
                 WHERE answered_at >= :start AND answered_at < :end
                   AND hidden_at IS NULL) a
         GROUP BY GROUPING SETS ((month), ())
        """,
    ]
    if "survey_responses" in applicable:
        parts.append(
            f"""
            SELECT 'surveys', GROUPING(month), 1, month, NULL, count(*), NULL, NULL, NULL, NULL
              FROM (SELECT {_month(survey_time)} AS month FROM survey_responses
                     WHERE {survey_time} >= :start AND {survey_time} < :end) s
             GROUP BY GROUPING SETS ((month), ())
            """
        )
    if "budget_turnout" in applicable:
        parts.append(
            f"""
            SELECT 'budget', 0, 1, {_month("b." + ballot_time)}, NULL, b.budget_id, count(*),
                   max(g.eligible_population), NULL, NULL
              FROM {ballot_table} b JOIN budgets g ON g.id = b.budget_id
             WHERE b.{ballot_time} >= :start AND b.{ballot_time} < :end
               AND g.eligible_population > 0
             GROUP BY 4, 6
            """
        )
    return f"""
        WITH acts(user_id, at, contribution) AS ({" UNION ALL ".join(acts)}),
        people AS (
          SELECT {_month("a.at")} AS month, a.user_id, a.contribution,
                 CASE WHEN u.demographics_consent_at IS NOT NULL THEN u.age_bracket END
                   AS bracket
            FROM acts a LEFT JOIN users u ON u.id = a.user_id
           WHERE u.id IS NULL OR u.staff_role IS NULL
        )
        {" UNION ALL ".join(parts)}
    """


def _share(part: int, whole: int) -> float | None:
    return 100.0 * part / whole if whole else None


def compute_figures(tenant: TenantRef, today: date | None = None) -> tuple[Figures, set[str]]:
    """Every metric for the window's months and for the whole window; also the metrics that
    apply to this tenant (those whose tables exist)."""
    first, end, months = window(today)
    start_ts = datetime(first.year, first.month, 1, tzinfo=PARIS).astimezone(UTC)
    end_ts = datetime(end.year, end.month, 1, tzinfo=PARIS).astimezone(UTC)
    columns = _optional_columns(tenant.schema)
    applicable = {m.key for m in METRICS if all(t in columns for t in m.needs)}
    statement = _statement(columns, applicable)
    rows = db.session.execute(sa.text(statement), {"start": start_ts, "end": end_ts}).all()

    parts: dict[str, dict] = defaultdict(dict)
    brackets: dict[date | None, dict[str, int]] = defaultdict(dict)
    budget_rows = []
    for row in rows:
        period = None if row.all_months else row.month
        if row.part == "people" and not row.all_brackets:
            if row.bracket is not None:
                brackets[period][row.bracket] = row.n1
        elif row.part == "budget":
            budget_rows.append(row)
        else:
            parts[row.part][period] = row

    figures = Figures()
    population = tenant.population or 0
    for period in (*months, None):
        people = parts["people"].get(period)
        participants, contributions, contributors = (
            (people.n1, people.n2, people.n3) if people else (0, 0, 0)
        )
        figures.put("participants", period, participants, participants)
        figures.put("contributions", period, contributions, contributors)
        per_1000 = 1000.0 * participants / population if population > 0 else None
        figures.put("participants_per_1000", period, per_1000, participants)
        ages = brackets.get(period, {})
        adults = sum(n for bracket, n in ages.items() if bracket != "0-17")
        figures.put("representativeness", period, representativeness_index(ages), adults)

        r = parts["proposals"].get(period)
        proposals, answered, retained, realised = (r.n1, r.n2, r.n3, r.n4) if r else (0, 0, 0, 0)
        figures.put("answered_share", period, _share(answered, proposals), proposals)
        figures.put("retained_share", period, _share(retained, proposals), proposals)
        figures.put("realised_share", period, _share(realised, retained), retained)

        a = parts["answers"].get(period)
        figures.put(
            "median_days_to_answer",
            period,
            float(a.x) if a is not None and a.x is not None else None,
            a.n1 if a else 0,
        )
        if "survey_responses" in applicable:
            responses = parts["surveys"].get(period)
            count = responses.n1 if responses else 0
            figures.put("survey_responses", period, count, count)

    if "budget_turnout" in applicable:
        ballots: dict[date | None, int] = defaultdict(int)
        eligible: dict[date | None, dict[int, int]] = defaultdict(dict)
        for r in budget_rows:
            for period in (r.month, None):
                ballots[period] += r.n2
                eligible[period][r.n1] = r.n3
        for period in (*months, None):
            voters = sum(eligible[period].values()) if period in eligible else 0
            turnout = 100.0 * ballots[period] / voters if voters else None
            figures.put("budget_turnout", period, turnout, ballots.get(period, 0))
    return figures, applicable


# One statement for the whole tenant (arrays, not one INSERT per figure; the delete of the
# figures that no longer exist in the same round trip): refreshing hundreds of tenants is
# bound by round trips otherwise. An unchanged figure is not rewritten.
_STORE = sa.text(
    """
    WITH new AS (
      SELECT f.metric, f.period, f.span, f.value, f.base_count
        FROM unnest(CAST(:metrics AS text[]), CAST(:periods AS date[]),
                    CAST(:spans AS text[]), CAST(:figure_values AS numeric[]),
                    CAST(:bases AS integer[])) AS f(metric, period, span, value, base_count)
    ), gone AS (
      DELETE FROM public.tenant_metric_snapshots s
       WHERE s.tenant_id = :tenant_id AND s.period >= :first
         AND NOT EXISTS (SELECT 1 FROM new n WHERE n.metric = s.metric
                            AND n.period = s.period AND n.span = s.span)
    )
    INSERT INTO public.tenant_metric_snapshots
           (tenant_id, metric, period, span, value, base_count, computed_at)
    SELECT :tenant_id, metric, period, span, value, base_count, now() FROM new
    ON CONFLICT (tenant_id, metric, period, span) DO UPDATE
       SET value = EXCLUDED.value, base_count = EXCLUDED.base_count,
           computed_at = EXCLUDED.computed_at
     WHERE (tenant_metric_snapshots.value, tenant_metric_snapshots.base_count)
           IS DISTINCT FROM (EXCLUDED.value, EXCLUDED.base_count)
    """
)


def store_figures(tenant_id: int, figures: Figures, applicable: set[str], today=None) -> int:
    """Replace the window's snapshots of ``tenant_id`` (older months stay: the history)."""
    first, _end, months = window(today)
    last = months[-1]
    metrics, periods, spans, values, bases = [], [], [], [], []
    for (metric, period), (value, base) in figures.values.items():
        if metric not in applicable:
            continue
        metrics.append(metric)
        periods.append(period or last)
        spans.append("month" if period else "year")
        values.append(None if value is None else round(value, 4))
        bases.append(base)
    db.session.execute(
        _STORE,
        {
            "tenant_id": tenant_id,
            "first": first,
            "metrics": metrics,
            "periods": periods,
            "spans": spans,
            "figure_values": values,
            "bases": bases,
        },
    )
    return len(metrics)


def refresh_tenant(tenant: TenantRef, today: date | None = None) -> int:
    """Compute and store; the caller commits (inside the tenant context)."""
    figures, applicable = compute_figures(tenant, today)
    return store_figures(tenant.id, figures, applicable, today)
