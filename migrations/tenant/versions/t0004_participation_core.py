"""Participation core: themes, processes, phases, proposals, supports, timeline, debates,
arguments, comments, follows, notifications, reports; users can be blocked.

Revision ID: t0004
Revises: t0003
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import TSVECTOR

revision = "t0004"
down_revision = "t0003"
branch_labels = None
depends_on = None

S = "tenant"


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


def _moderation():
    return [
        sa.Column("edited_at", sa.DateTime(timezone=True)),
        sa.Column("deleted_at", sa.DateTime(timezone=True)),
        sa.Column("hidden_at", sa.DateTime(timezone=True)),
        sa.Column("hidden_reason", sa.Text),
    ]


def upgrade() -> None:
    # ALTER statements are not schema-translated by Alembic: unqualified, they land in the
    # tenant schema through the search_path the runner sets.
    op.add_column("users", sa.Column("blocked_at", sa.DateTime(timezone=True)))
    op.add_column("users", sa.Column("blocked_reason", sa.Text))

    op.create_table(
        "themes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("position", sa.Integer, nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("id", name="pk_themes"),
        sa.UniqueConstraint("name", name="uq_themes_name"),
        schema=S,
    )
    op.create_table(
        "processes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("summary", sa.String(500), nullable=False, server_default=""),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("theme_id", sa.Integer),
        sa.Column("neighbourhood_id", sa.Integer),
        sa.Column("image_path", sa.String(300)),
        sa.Column("image_alt", sa.String(300)),
        sa.Column("state", sa.String(20), nullable=False, server_default="draft"),
        sa.Column("support_threshold", sa.Integer),
        sa.Column("published_at", sa.DateTime(timezone=True)),
        sa.Column("created_by_id", sa.Integer),
        *_ts(),
        sa.PrimaryKeyConstraint("id", name="pk_processes"),
        _fk("theme_id", "themes", "SET NULL", "processes"),
        _fk("neighbourhood_id", "neighbourhoods", "SET NULL", "processes"),
        _fk("created_by_id", "users", "SET NULL", "processes"),
        sa.CheckConstraint(
            "state IN ('draft', 'published', 'archived')", name="ck_processes_state"
        ),
        schema=S,
    )
    op.create_table(
        "phases",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("process_id", sa.Integer, nullable=False),
        sa.Column("position", sa.Integer, nullable=False, server_default="0"),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("starts_on", sa.Date, nullable=False),
        sa.Column("ends_on", sa.Date, nullable=False),
        sa.Column("allows_propose", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("allows_support", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("allows_comment", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("allows_debate", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.PrimaryKeyConstraint("id", name="pk_phases"),
        _fk("process_id", "processes", "CASCADE", "phases"),
        sa.CheckConstraint("ends_on >= starts_on", name="ck_phases_dates_in_order"),
        sa.CheckConstraint(
            "kind IN ('information', 'contributions', 'analysis', 'vote', 'results', "
            "'implementation', 'other')",
            name="ck_phases_kind",
        ),
        schema=S,
    )
    op.create_index("ix_phases_process_id", "phases", ["process_id"], schema=S)

    op.create_table(
        "proposals",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("process_id", sa.Integer, nullable=False),
        sa.Column("author_id", sa.Integer),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("theme_id", sa.Integer),
        sa.Column("neighbourhood_id", sa.Integer),
        sa.Column("image_path", sa.String(300)),
        sa.Column("latitude", sa.Float),
        sa.Column("longitude", sa.Float),
        sa.Column("status", sa.String(20), nullable=False, server_default="received"),
        sa.Column("status_reason", sa.Text),
        sa.Column("answer", sa.Text),
        sa.Column("answered_at", sa.DateTime(timezone=True)),
        sa.Column("answered_by_id", sa.Integer),
        sa.Column("service_id", sa.Integer),
        sa.Column("assignee_id", sa.Integer),
        sa.Column("due_on", sa.Date),
        sa.Column("supports_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("edited_at", sa.DateTime(timezone=True)),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True)),
        sa.Column("hidden_at", sa.DateTime(timezone=True)),
        sa.Column("hidden_reason", sa.Text),
        sa.Column(
            "search_vector",
            TSVECTOR,
            sa.Computed(
                "setweight(to_tsvector('french', coalesce(title, '')), 'A') || "
                "setweight(to_tsvector('french', coalesce(body, '')), 'B')",
                persisted=True,
            ),
        ),
        *_ts(),
        sa.PrimaryKeyConstraint("id", name="pk_proposals"),
        _fk("process_id", "processes", "CASCADE", "proposals"),
        _fk("author_id", "users", "SET NULL", "proposals"),
        _fk("theme_id", "themes", "SET NULL", "proposals"),
        _fk("neighbourhood_id", "neighbourhoods", "SET NULL", "proposals"),
        _fk("answered_by_id", "users", "SET NULL", "proposals"),
        _fk("service_id", "services", "SET NULL", "proposals"),
        _fk("assignee_id", "users", "SET NULL", "proposals"),
        sa.CheckConstraint("supports_count >= 0", name="ck_proposals_supports_count_positive"),
        sa.CheckConstraint(
            "status <> 'rejected' OR status_reason IS NOT NULL",
            name="ck_proposals_rejection_has_reason",
        ),
        sa.CheckConstraint(
            "status IN ('received', 'studying', 'accepted', 'rejected', 'done')",
            name="ck_proposals_status",
        ),
        schema=S,
    )
    op.create_index(
        "ix_proposals_search", "proposals", ["search_vector"], postgresql_using="gin", schema=S
    )
    op.create_index(
        "ix_proposals_process_created", "proposals", ["process_id", "created_at"], schema=S
    )
    op.create_index("ix_proposals_author_id", "proposals", ["author_id"], schema=S)
    op.create_index("ix_proposals_service_id", "proposals", ["service_id"], schema=S)

    op.create_table(
        "supports",
        sa.Column("proposal_id", sa.Integer, nullable=False),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("proposal_id", "user_id", name="pk_supports"),
        _fk("proposal_id", "proposals", "CASCADE", "supports"),
        _fk("user_id", "users", "CASCADE", "supports"),
        schema=S,
    )
    op.create_index("ix_supports_user_id", "supports", ["user_id"], schema=S)
    # The count follows the rows in the same transaction, whatever the code path: exact
    # under concurrency (the row lock on the proposal serialises the increments). The
    # function keeps the search_path it was created with (this tenant's schema), so it
    # updates this schema's proposals whatever the caller's search_path.
    op.execute(
        """
        CREATE FUNCTION supports_count_trigger() RETURNS trigger LANGUAGE plpgsql
        SET search_path FROM CURRENT AS $$
        BEGIN
          IF TG_OP = 'INSERT' THEN
            UPDATE proposals SET supports_count = supports_count + 1 WHERE id = NEW.proposal_id;
          ELSIF TG_OP = 'DELETE' THEN
            UPDATE proposals SET supports_count = supports_count - 1 WHERE id = OLD.proposal_id;
          END IF;
          RETURN NULL;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER supports_count AFTER INSERT OR DELETE ON supports "
        "FOR EACH ROW EXECUTE FUNCTION supports_count_trigger()"
    )

    op.create_table(
        "proposal_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("proposal_id", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("from_status", sa.String(20)),
        sa.Column("to_status", sa.String(20)),
        sa.Column("body", sa.Text),
        sa.Column("actor_id", sa.Integer),
        sa.Column("is_public", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name="pk_proposal_events"),
        _fk("proposal_id", "proposals", "CASCADE", "proposal_events"),
        _fk("actor_id", "users", "SET NULL", "proposal_events"),
        schema=S,
    )
    op.create_index("ix_proposal_events_proposal_id", "proposal_events", ["proposal_id"], schema=S)

    op.create_table(
        "debates",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("process_id", sa.Integer, nullable=False),
        sa.Column("question", sa.String(300), nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("state", sa.String(20), nullable=False, server_default="open"),
        sa.Column("created_by_id", sa.Integer),
        *_ts(),
        sa.PrimaryKeyConstraint("id", name="pk_debates"),
        _fk("process_id", "processes", "CASCADE", "debates"),
        _fk("created_by_id", "users", "SET NULL", "debates"),
        sa.CheckConstraint("state IN ('open', 'closed')", name="ck_debates_state"),
        schema=S,
    )
    op.create_index("ix_debates_process_id", "debates", ["process_id"], schema=S)
    op.create_table(
        "arguments",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("debate_id", sa.Integer, nullable=False),
        sa.Column("parent_id", sa.Integer),
        sa.Column("side", sa.String(20), nullable=False),
        sa.Column("author_id", sa.Integer),
        sa.Column("body", sa.Text, nullable=False),
        *_moderation(),
        *_ts(),
        sa.PrimaryKeyConstraint("id", name="pk_arguments"),
        _fk("debate_id", "debates", "CASCADE", "arguments"),
        _fk("parent_id", "arguments", "CASCADE", "arguments"),
        _fk("author_id", "users", "SET NULL", "arguments"),
        sa.CheckConstraint("side IN ('pour', 'contre')", name="ck_arguments_side"),
        schema=S,
    )
    op.create_index("ix_arguments_debate_id", "arguments", ["debate_id"], schema=S)
    op.create_table(
        "comments",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("process_id", sa.Integer),
        sa.Column("proposal_id", sa.Integer),
        sa.Column("debate_id", sa.Integer),
        sa.Column("parent_id", sa.Integer),
        sa.Column("depth", sa.Integer, nullable=False, server_default="0"),
        sa.Column("author_id", sa.Integer),
        sa.Column("body", sa.Text, nullable=False),
        *_moderation(),
        *_ts(),
        sa.PrimaryKeyConstraint("id", name="pk_comments"),
        _fk("process_id", "processes", "CASCADE", "comments"),
        _fk("proposal_id", "proposals", "CASCADE", "comments"),
        _fk("debate_id", "debates", "CASCADE", "comments"),
        _fk("parent_id", "comments", "CASCADE", "comments"),
        _fk("author_id", "users", "SET NULL", "comments"),
        sa.CheckConstraint(
            "num_nonnulls(process_id, proposal_id, debate_id) = 1", name="ck_comments_one_target"
        ),
        sa.CheckConstraint("depth BETWEEN 0 AND 2", name="ck_comments_depth_range"),
        schema=S,
    )
    op.create_index("ix_comments_proposal", "comments", ["proposal_id", "created_at"], schema=S)
    op.create_index("ix_comments_debate", "comments", ["debate_id", "created_at"], schema=S)
    op.create_index("ix_comments_process", "comments", ["process_id", "created_at"], schema=S)
    op.create_index("ix_comments_author_id", "comments", ["author_id"], schema=S)

    op.create_table(
        "follows",
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("target_type", sa.String(20), nullable=False),
        sa.Column("target_id", sa.Integer, nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("user_id", "target_type", "target_id", name="pk_follows"),
        _fk("user_id", "users", "CASCADE", "follows"),
        schema=S,
    )
    op.create_index("ix_follows_target", "follows", ["target_type", "target_id"], schema=S)
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(50), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("body", sa.Text, nullable=False, server_default=""),
        sa.Column("url", sa.String(500)),
        sa.Column("target_type", sa.String(20)),
        sa.Column("target_id", sa.Integer),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("read_at", sa.DateTime(timezone=True)),
        sa.Column("emailed_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("id", name="pk_notifications"),
        _fk("user_id", "users", "CASCADE", "notifications"),
        schema=S,
    )
    op.create_index(
        "ix_notifications_user_unread", "notifications", ["user_id", "read_at"], schema=S
    )
    op.create_index("ix_notifications_digest", "notifications", ["user_id", "emailed_at"], schema=S)
    op.create_table(
        "reports",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("reporter_id", sa.Integer),
        sa.Column("target_type", sa.String(20), nullable=False),
        sa.Column("target_id", sa.Integer, nullable=False),
        sa.Column("reason", sa.String(20), nullable=False),
        sa.Column("details", sa.Text, nullable=False, server_default=""),
        sa.Column("status", sa.String(20), nullable=False, server_default="open"),
        sa.Column("resolved_by_id", sa.Integer),
        sa.Column("resolved_at", sa.DateTime(timezone=True)),
        sa.Column("resolution_note", sa.Text),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name="pk_reports"),
        _fk("reporter_id", "users", "SET NULL", "reports"),
        _fk("resolved_by_id", "users", "SET NULL", "reports"),
        sa.CheckConstraint("status IN ('open', 'resolved', 'dismissed')", name="ck_reports_status"),
        schema=S,
    )
    op.create_index("ix_reports_status", "reports", ["status", "created_at"], schema=S)
    op.create_index("ix_reports_target", "reports", ["target_type", "target_id"], schema=S)


def downgrade() -> None:
    for table in (
        "reports",
        "notifications",
        "follows",
        "comments",
        "arguments",
        "debates",
        "proposal_events",
        "supports",
        "proposals",
        "phases",
        "processes",
        "themes",
    ):
        op.drop_table(table, schema=S)
    op.execute("DROP FUNCTION IF EXISTS supports_count_trigger()")
    op.drop_column("users", "blocked_reason")
    op.drop_column("users", "blocked_at")
