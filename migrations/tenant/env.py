"""Alembic environment of one tenant schema. tenants.migrate passes the open connection and
the schema; the ``tenant`` placeholder of every table is translated to that schema."""

from alembic import context

from core.db import TENANT_SCHEMA_PLACEHOLDER, check_schema_name

schema = check_schema_name(context.config.attributes["tenant_schema"])
connection = context.config.attributes["connection"].execution_options(
    schema_translate_map={TENANT_SCHEMA_PLACEHOLDER: schema}
)
context.configure(connection=connection, version_table_schema=schema)
with context.begin_transaction():
    context.run_migrations()
