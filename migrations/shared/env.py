"""Alembic environment of the public schema. Run through tenants.migrate, which passes an
open connection in ``config.attributes['connection']``."""

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, version_table_schema="public")
with context.begin_transaction():
    context.run_migrations()
