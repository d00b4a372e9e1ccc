"""Networks: networks, coordinators, memberships, practice library, forum.

Revision ID: s0004
Revises: s0003
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR

revision = "s0004"
down_revision = "s0003"
branch_labels = None
depends_on = None

S = "public"

# The French full-text document of a practice (network.library.models.SEARCH_DOCUMENT):
# copied, not imported, so that this revision never changes after it ships.
SEARCH_DOCUMENT = (
    "setweight(to_tsvector('french'::regconfig, coalesce(title, '')), 'A') || "
    "setweight(to_tsvector('french'::regconfig, coalesce(summary, '')), 'B') || "
    "setweight(to_tsvector('french'::regconfig, coalesce(tags_text, '')), 'B') || "
    "setweight(to_tsvector('french'::regconfig, coalesce(body, '')), 'C') || "
    "setweight(to_tsvector('french'::regconfig, coalesce(lessons, '')), 'C')"
)


def _timestamps() -> list[sa.Column]:
    return [
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
    ]


def _index(table: str, column: str) -> None:
    op.create_index(f"ix_public_{table}_{column}", table, [column], schema=S)


def upgrade() -> None:
    op.create_table(
        "networks",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("slug", sa.String(80), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("charter", sa.Text, nullable=False, server_default=""),
        sa.Column("public_sections", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_networks"),
        sa.UniqueConstraint("slug", name="uq_networks_slug"),
        sa.CheckConstraint(
            "slug ~ '^[a-z0-9]([a-z0-9-]{0,78}[a-z0-9])?$'", name="ck_networks_slug_format"
        ),
        schema=S,
    )

    op.create_table(
        "network_roles",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("network_id", sa.Integer, nullable=False),
        sa.Column("platform_user_id", sa.Integer, nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_network_roles"),
        sa.ForeignKeyConstraint(
            ["network_id"],
            ["public.networks.id"],
            name="fk_network_roles_network_id_networks",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["platform_user_id"],
            ["public.platform_users.id"],
            name="fk_network_roles_platform_user_id_platform_users",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint(
            "network_id",
            "platform_user_id",
            "role",
            name="uq_network_roles_network_id_platform_user_id_role",
        ),
        sa.CheckConstraint("role IN ('coordinator', 'evaluator')", name="ck_network_roles_role"),
        schema=S,
    )
    _index("network_roles", "network_id")
    _index("network_roles", "platform_user_id")

    op.create_table(
        "network_memberships",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("network_id", sa.Integer, nullable=False),
        sa.Column("tenant_id", sa.Integer, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column(
            "invited_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("responded_at", sa.DateTime(timezone=True)),
        sa.Column("left_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("id", name="pk_network_memberships"),
        sa.ForeignKeyConstraint(
            ["network_id"],
            ["public.networks.id"],
            name="fk_network_memberships_network_id_networks",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["public.tenants.id"],
            name="fk_network_memberships_tenant_id_tenants",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint(
            "network_id", "tenant_id", name="uq_network_memberships_network_id_tenant_id"
        ),
        sa.CheckConstraint(
            "status IN ('invited', 'active', 'declined', 'left')",
            name="ck_network_memberships_status",
        ),
        schema=S,
    )
    _index("network_memberships", "network_id")
    _index("network_memberships", "tenant_id")

    # ------------------------------------------------------------------ practice library
    op.create_table(
        "network_practices",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("network_id", sa.Integer, nullable=False),
        sa.Column("category", sa.String(20), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("summary", sa.String(500), nullable=False, server_default=""),
        sa.Column("body", sa.Text, nullable=False, server_default=""),
        sa.Column("outcome", sa.String(20)),
        sa.Column("lessons", sa.Text, nullable=False, server_default=""),
        sa.Column(
            "tags",
            ARRAY(sa.String(40)),
            nullable=False,
            server_default=sa.text("'{}'::varchar[]"),
        ),
        sa.Column("tags_text", sa.Text, nullable=False, server_default=""),
        sa.Column("author_tenant_id", sa.Integer),
        sa.Column("author_id", sa.Integer),
        sa.Column("process_template", JSONB),
        sa.Column("search_vector", TSVECTOR, sa.Computed(SEARCH_DOCUMENT, persisted=True)),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_network_practices"),
        sa.ForeignKeyConstraint(
            ["network_id"],
            ["public.networks.id"],
            name="fk_network_practices_network_id_networks",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["author_tenant_id"],
            ["public.tenants.id"],
            name="fk_network_practices_author_tenant_id_tenants",
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["public.platform_users.id"],
            name="fk_network_practices_author_id_platform_users",
            ondelete="SET NULL",
        ),
        sa.CheckConstraint(
            "category IN ('tool', 'experience', 'actor')", name="ck_network_practices_category"
        ),
        sa.CheckConstraint(
            "outcome IS NULL OR outcome IN ('success', 'failure', 'mixed')",
            name="ck_network_practices_outcome",
        ),
        sa.CheckConstraint(
            "outcome IS NULL OR category = 'experience'",
            name="ck_network_practices_outcome_for_experiences",
        ),
        sa.CheckConstraint(
            "process_template IS NULL OR category = 'experience'",
            name="ck_network_practices_template_for_experiences",
        ),
        schema=S,
    )
    _index("network_practices", "network_id")
    _index("network_practices", "author_tenant_id")
    op.create_index(
        "ix_network_practices_search",
        "network_practices",
        ["search_vector"],
        postgresql_using="gin",
        schema=S,
    )
    op.create_index(
        "ix_network_practices_tags",
        "network_practices",
        ["tags"],
        postgresql_using="gin",
        schema=S,
    )

    op.create_table(
        "network_practice_attachments",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("practice_id", sa.Integer, nullable=False),
        sa.Column("filename", sa.String(200), nullable=False),
        sa.Column("stored_name", sa.String(60), nullable=False),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("uploaded_by_id", sa.Integer),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name="pk_network_practice_attachments"),
        sa.UniqueConstraint("stored_name", name="uq_network_practice_attachments_stored_name"),
        sa.ForeignKeyConstraint(
            ["practice_id"],
            ["public.network_practices.id"],
            name="fk_network_practice_attachments_practice_id_network_practices",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"],
            ["public.platform_users.id"],
            name="fk_network_practice_attachments_uploaded_by_id_platform_users",
            ondelete="SET NULL",
        ),
        schema=S,
    )
    _index("network_practice_attachments", "practice_id")

    op.create_table(
        "network_practice_comments",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("practice_id", sa.Integer, nullable=False),
        sa.Column("author_id", sa.Integer),
        sa.Column("author_tenant_id", sa.Integer),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name="pk_network_practice_comments"),
        sa.ForeignKeyConstraint(
            ["practice_id"],
            ["public.network_practices.id"],
            name="fk_network_practice_comments_practice_id_network_practices",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["public.platform_users.id"],
            name="fk_network_practice_comments_author_id_platform_users",
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["author_tenant_id"],
            ["public.tenants.id"],
            name="fk_network_practice_comments_author_tenant_id_tenants",
            ondelete="SET NULL",
        ),
        schema=S,
    )
    _index("network_practice_comments", "practice_id")

    op.create_table(
        "network_practice_adoptions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("practice_id", sa.Integer, nullable=False),
        sa.Column("tenant_id", sa.Integer, nullable=False),
        sa.Column("requested_by_id", sa.Integer),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("process_id", sa.Integer),
        sa.Column("error", sa.Text),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("done_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("id", name="pk_network_practice_adoptions"),
        sa.ForeignKeyConstraint(
            ["practice_id"],
            ["public.network_practices.id"],
            name="fk_network_practice_adoptions_practice_id_network_practices",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["public.tenants.id"],
            name="fk_network_practice_adoptions_tenant_id_tenants",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"],
            ["public.platform_users.id"],
            name="fk_network_practice_adoptions_requested_by_id_platform_users",
            ondelete="SET NULL",
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'done', 'failed')", name="ck_network_practice_adoptions_status"
        ),
        schema=S,
    )
    _index("network_practice_adoptions", "practice_id")
    _index("network_practice_adoptions", "tenant_id")

    # ------------------------------------------------------------------ forum
    op.create_table(
        "network_forum_questions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("network_id", sa.Integer, nullable=False),
        sa.Column("author_id", sa.Integer),
        sa.Column("author_tenant_id", sa.Integer),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column(
            "last_activity_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name="pk_network_forum_questions"),
        sa.ForeignKeyConstraint(
            ["network_id"],
            ["public.networks.id"],
            name="fk_network_forum_questions_network_id_networks",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["public.platform_users.id"],
            name="fk_network_forum_questions_author_id_platform_users",
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["author_tenant_id"],
            ["public.tenants.id"],
            name="fk_network_forum_questions_author_tenant_id_tenants",
            ondelete="SET NULL",
        ),
        schema=S,
    )
    _index("network_forum_questions", "network_id")
    _index("network_forum_questions", "author_id")
    _index("network_forum_questions", "last_activity_at")

    op.create_table(
        "network_forum_answers",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("question_id", sa.Integer, nullable=False),
        sa.Column("author_id", sa.Integer),
        sa.Column("author_tenant_id", sa.Integer),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name="pk_network_forum_answers"),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["public.network_forum_questions.id"],
            name="fk_network_forum_answers_question_id_network_forum_questions",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["public.platform_users.id"],
            name="fk_network_forum_answers_author_id_platform_users",
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["author_tenant_id"],
            ["public.tenants.id"],
            name="fk_network_forum_answers_author_tenant_id_tenants",
            ondelete="SET NULL",
        ),
        schema=S,
    )
    _index("network_forum_answers", "question_id")
    _index("network_forum_answers", "author_id")


def downgrade() -> None:
    op.drop_table("network_forum_answers", schema=S)
    op.drop_table("network_forum_questions", schema=S)
    op.drop_table("network_practice_adoptions", schema=S)
    op.drop_table("network_practice_comments", schema=S)
    op.drop_table("network_practice_attachments", schema=S)
    op.drop_table("network_practices", schema=S)
    op.drop_table("network_memberships", schema=S)
    op.drop_table("network_roles", schema=S)
    op.drop_table("networks", schema=S)
