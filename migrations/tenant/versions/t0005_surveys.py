"""Consultations and surveys: questionnaires, sections, questions, responses.

Anonymity is structural: in an anonymous survey ``survey_responses.user_id`` is NULL (a
trigger refuses anything else) and the only link to the account is a row of
``survey_participations`` (survey, user) with no timestamp and no response id, which
exists only to refuse a second response.

Revision ID: t0005
Revises: t0004
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "t0005"
down_revision = "t0004"
branch_labels = None
depends_on = None

S = "tenant"

QUESTION_KINDS = (
    "single",
    "multiple",
    "scale",
    "ranking",
    "short_text",
    "long_text",
    "number",
    "date",
)


def _ts():
    return [
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
    ]


def _fk(column, table, ondelete, name_table):
    return sa.ForeignKeyConstraint(
        [column],
        [f"tenant.{table}.id"],
        name=f"fk_{name_table}_{column}_{table}",
        ondelete=ondelete,
    )


def upgrade() -> None:
    op.create_table(
        "surveys",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("summary", sa.String(500), nullable=False, server_default=""),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("process_id", sa.Integer),
        sa.Column("phase_id", sa.Integer),
        sa.Column("state", sa.String(20), nullable=False, server_default="draft"),
        sa.Column("is_anonymous", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("opens_on", sa.Date, nullable=False),
        sa.Column("closes_on", sa.Date, nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True)),
        sa.Column("results_published_at", sa.DateTime(timezone=True)),
        sa.Column("outcome", sa.Text, nullable=False, server_default=""),
        sa.Column("outcome_published_at", sa.DateTime(timezone=True)),
        sa.Column("created_by_id", sa.Integer),
        *_ts(),
        sa.PrimaryKeyConstraint("id", name="pk_surveys"),
        _fk("process_id", "processes", "SET NULL", "surveys"),
        _fk("phase_id", "phases", "SET NULL", "surveys"),
        _fk("created_by_id", "users", "SET NULL", "surveys"),
        sa.CheckConstraint("closes_on >= opens_on", name="ck_surveys_dates_in_order"),
        sa.CheckConstraint("state IN ('draft', 'published')", name="ck_surveys_state"),
        schema=S,
    )
    op.create_index("ix_surveys_process_id", "surveys", ["process_id"], schema=S)
    op.create_index("ix_surveys_phase_id", "surveys", ["phase_id"], schema=S)

    op.create_table(
        "survey_sections",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("survey_id", sa.Integer, nullable=False),
        sa.Column("position", sa.Integer, nullable=False, server_default="0"),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.PrimaryKeyConstraint("id", name="pk_survey_sections"),
        _fk("survey_id", "surveys", "CASCADE", "survey_sections"),
        schema=S,
    )
    op.create_index("ix_survey_sections_survey_id", "survey_sections", ["survey_id"], schema=S)

    op.create_table(
        "survey_questions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("survey_id", sa.Integer, nullable=False),
        sa.Column("section_id", sa.Integer),
        sa.Column("position", sa.Integer, nullable=False, server_default="0"),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("text", sa.String(500), nullable=False),
        sa.Column("help_text", sa.String(1000), nullable=False, server_default=""),
        sa.Column("is_required", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("max_choices", sa.Integer),
        sa.Column("scale_min_label", sa.String(80), nullable=False, server_default=""),
        sa.Column("scale_max_label", sa.String(80), nullable=False, server_default=""),
        sa.Column("condition_option_id", sa.Integer),
        sa.PrimaryKeyConstraint("id", name="pk_survey_questions"),
        _fk("survey_id", "surveys", "CASCADE", "survey_questions"),
        _fk("section_id", "survey_sections", "SET NULL", "survey_questions"),
        sa.CheckConstraint(
            "kind IN (" + ", ".join(f"'{k}'" for k in QUESTION_KINDS) + ")",
            name="ck_survey_questions_kind",
        ),
        sa.CheckConstraint(
            "max_choices IS NULL OR max_choices >= 1", name="ck_survey_questions_max_choices"
        ),
        schema=S,
    )
    op.create_index("ix_survey_questions_survey_id", "survey_questions", ["survey_id"], schema=S)

    op.create_table(
        "survey_options",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("question_id", sa.Integer, nullable=False),
        sa.Column("position", sa.Integer, nullable=False, server_default="0"),
        sa.Column("label", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_survey_options"),
        _fk("question_id", "survey_questions", "CASCADE", "survey_options"),
        schema=S,
    )
    op.create_index("ix_survey_options_question_id", "survey_options", ["question_id"], schema=S)
    # Created after both tables exist (a question's condition is an option of another one).
    op.create_foreign_key(
        "fk_survey_questions_condition_option_id_survey_options",
        "survey_questions",
        "survey_options",
        ["condition_option_id"],
        ["id"],
        ondelete="SET NULL",
    )

    # The network benchmarks read (survey_id, submitted_at): one row per response.
    op.create_table(
        "survey_responses",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("survey_id", sa.Integer, nullable=False),
        sa.Column("user_id", sa.Integer),
        sa.Column("channel", sa.String(20), nullable=False, server_default="web"),
        sa.Column(
            "submitted_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.Column("edited_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("id", name="pk_survey_responses"),
        _fk("survey_id", "surveys", "CASCADE", "survey_responses"),
        _fk("user_id", "users", "CASCADE", "survey_responses"),
        # One response per account (identified mode); NULLs (anonymous) never collide.
        sa.UniqueConstraint("survey_id", "user_id", name="uq_survey_responses_survey_id"),
        sa.CheckConstraint("channel IN ('web', 'paper')", name="ck_survey_responses_channel"),
        schema=S,
    )
    op.create_index(
        "ix_survey_responses_survey_submitted",
        "survey_responses",
        ["survey_id", "submitted_at"],
        schema=S,
    )
    op.execute(
        """
        CREATE FUNCTION survey_responses_anonymity() RETURNS trigger LANGUAGE plpgsql
        SET search_path FROM CURRENT AS $$
        BEGIN
          IF NEW.user_id IS NOT NULL
             AND (SELECT is_anonymous FROM surveys WHERE id = NEW.survey_id) THEN
            RAISE EXCEPTION 'an anonymous survey response cannot name its author'
              USING ERRCODE = 'check_violation';
          END IF;
          RETURN NEW;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER survey_responses_anonymity BEFORE INSERT OR UPDATE ON survey_responses "
        "FOR EACH ROW EXECUTE FUNCTION survey_responses_anonymity()"
    )

    # "This account has answered": no timestamp, no response id (nothing to join on).
    op.create_table(
        "survey_participations",
        sa.Column("survey_id", sa.Integer, nullable=False),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("survey_id", "user_id", name="pk_survey_participations"),
        _fk("survey_id", "surveys", "CASCADE", "survey_participations"),
        _fk("user_id", "users", "CASCADE", "survey_participations"),
        schema=S,
    )
    op.create_index(
        "ix_survey_participations_user_id", "survey_participations", ["user_id"], schema=S
    )

    op.create_table(
        "survey_answers",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("response_id", sa.Integer, nullable=False),
        sa.Column("question_id", sa.Integer, nullable=False),
        sa.Column("option_id", sa.Integer),
        sa.Column("rank", sa.SmallInteger),
        sa.Column("number_value", sa.Numeric),
        sa.Column("date_value", sa.Date),
        sa.Column("text_value", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_survey_answers"),
        _fk("response_id", "survey_responses", "CASCADE", "survey_answers"),
        _fk("question_id", "survey_questions", "CASCADE", "survey_answers"),
        _fk("option_id", "survey_options", "CASCADE", "survey_answers"),
        sa.CheckConstraint("rank IS NULL OR rank >= 1", name="ck_survey_answers_rank_positive"),
        schema=S,
    )
    op.create_index("ix_survey_answers_response_id", "survey_answers", ["response_id"], schema=S)
    # Results are aggregated per question (and option): this index serves them, and
    # covers the per-option counts and rank sums (index-only scans).
    op.create_index(
        "ix_survey_answers_question_option",
        "survey_answers",
        ["question_id", "option_id"],
        postgresql_include=["rank", "response_id"],
        schema=S,
    )


def downgrade() -> None:
    op.drop_table("survey_answers", schema=S)
    op.drop_table("survey_participations", schema=S)
    op.execute("DROP TRIGGER IF EXISTS survey_responses_anonymity ON survey_responses")
    op.drop_table("survey_responses", schema=S)
    op.execute("DROP FUNCTION IF EXISTS survey_responses_anonymity()")
    op.drop_constraint("fk_survey_questions_condition_option_id_survey_options", "survey_questions")
    op.drop_table("survey_options", schema=S)
    op.drop_table("survey_questions", schema=S)
    op.drop_table("survey_sections", schema=S)
    op.drop_table("surveys", schema=S)
