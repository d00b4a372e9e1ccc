"""Database plumbing: declarative base, and a session bound to one tenant schema at a time.

Tenant tables are declared with ``schema="tenant"``, a placeholder. The session picks an
engine proxy whose ``schema_translate_map`` turns it into the current tenant's schema
(docs/architecture.md, "Tenancy", rules 1–5). The proxies share the pool and the compiled cache.
"""

from __future__ import annotations

import enum
import re
import time
import weakref
from datetime import datetime

import sqlalchemy as sa
from flask_sqlalchemy import SQLAlchemy
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import MetaData, event
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.sql import visitors

TENANT_SCHEMA_PLACEHOLDER = "tenant"
# Where tenant tables point when no tenant is set: a schema that never exists, so even a
# statement that slips past the ORM check below fails in PostgreSQL instead of reading public.
NO_TENANT_SCHEMA = "pnyx_no_tenant_selected"
SCHEMA_NAME_RE = re.compile(r"^t_[0-9]+$")
_TENANT_KEY = "tenant_schema"

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class TenancyError(RuntimeError):
    """Base class for violations of the tenancy rules."""


class NoTenantError(TenancyError):
    """A tenant table was queried while no tenant was set."""


class TenantSwitchError(TenancyError):
    """The tenant was changed while a transaction was open."""


class InvalidSchemaName(TenancyError, ValueError):
    """A schema name that is not ``t_<digits>`` tried to reach SQL."""


def check_schema_name(name: str) -> str:
    """Return ``name`` if it is a tenant schema name, raise otherwise."""
    if not isinstance(name, str) or not SCHEMA_NAME_RE.fullmatch(name):
        raise InvalidSchemaName(f"invalid tenant schema name: {name!r}")
    return name


def schema_for_tenant_id(tenant_id: int) -> str:
    if isinstance(tenant_id, bool) or not isinstance(tenant_id, int) or tenant_id <= 0:
        raise InvalidSchemaName(f"invalid tenant id: {tenant_id!r}")
    return check_schema_name(f"t_{tenant_id}")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)

    def __repr__(self) -> str:
        mapper = sa.inspect(self.__class__)
        keys = ", ".join(
            f"{col.key}={getattr(self, col.key, None)!r}" for col in mapper.primary_key
        )
        return f"<{self.__class__.__name__} {keys}>"


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
    )
    updated_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True),
        server_default=sa.func.now(),
        onupdate=sa.func.now(),
        nullable=False,
    )


#: ``__table_args__`` of a table that lives in every tenant's schema (the placeholder schema
#: that the session translates to the current tenant's).
TENANT = {"schema": TENANT_SCHEMA_PLACEHOLDER}


def str_enum(cls: type[enum.Enum], name: str) -> sa.Enum:
    """A Python enum column stored as its members' values (``"admin"``, not ``"ADMIN"``) in a
    VARCHAR(20), not as a PostgreSQL enum type; a string that is no member's value is refused."""
    return sa.Enum(
        cls,
        name=name,
        native_enum=False,
        length=20,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


_engine_proxies: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def engine_for_schema(base: sa.Engine, schema: str | None) -> sa.Engine:
    """One cached proxy engine per tenant schema (shares the pool of ``base``)."""
    proxies = _engine_proxies.setdefault(base, {})
    key = schema or NO_TENANT_SCHEMA
    engine = proxies.get(key)
    if engine is None:
        if schema is not None:
            check_schema_name(schema)
        engine = base.execution_options(schema_translate_map={TENANT_SCHEMA_PLACEHOLDER: key})
        proxies[key] = engine
    return engine


class TenantSession(FlaskSession):
    """A Flask-SQLAlchemy session that is bound to at most one tenant schema."""

    @property
    def tenant_schema(self) -> str | None:
        return self.info.get(_TENANT_KEY)

    def set_tenant_schema(self, schema: str | None) -> None:
        """Bind the session to ``schema`` (or to no tenant with ``None``).

        Refused inside an open transaction; the identity map is emptied because primary
        keys repeat across schemas (object ``Proposal(1)`` of A is not that of B).
        """
        if schema is not None:
            check_schema_name(schema)
        if schema == self.tenant_schema:
            return
        if self.in_transaction():
            raise TenantSwitchError(
                f"cannot switch from {self.tenant_schema!r} to {schema!r} inside a transaction"
            )
        self.expunge_all()
        self.info[_TENANT_KEY] = schema

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        if bind is not None:
            return bind
        base = super().get_bind(mapper=mapper, clause=clause, **kwargs)
        if isinstance(base, sa.Connection):
            return base
        return engine_for_schema(base, self.tenant_schema)


def _touches_tenant_tables(statement) -> bool:
    for element in visitors.iterate(statement):
        if isinstance(element, sa.Table) and element.schema == TENANT_SCHEMA_PLACEHOLDER:
            return True
    return False


@event.listens_for(TenantSession, "do_orm_execute")
def _refuse_tenant_query_without_tenant(state) -> None:
    if state.session.info.get(_TENANT_KEY) is None and _touches_tenant_tables(state.statement):
        raise NoTenantError("a tenant table was queried but no tenant is set")


@event.listens_for(TenantSession, "before_flush")
def _refuse_tenant_flush_without_tenant(session, flush_context, instances) -> None:
    if session.info.get(_TENANT_KEY) is not None:
        return
    for obj in (*session.new, *session.dirty, *session.deleted):
        table = getattr(type(obj), "__table__", None)
        if table is not None and table.schema == TENANT_SCHEMA_PLACEHOLDER:
            raise NoTenantError(f"cannot write {type(obj).__name__}: no tenant is set")


@event.listens_for(TenantSession, "after_begin")
def _set_local_search_path(session, transaction, connection) -> None:
    # Safety net for raw SQL (rule 3). SET LOCAL dies with the transaction, so nothing
    # leaks to the next user of this pooled connection.
    schema = session.info.get(_TENANT_KEY)
    if schema is not None:
        check_schema_name(schema)
        connection.exec_driver_sql(f'SET LOCAL search_path TO "{schema}", public')


db = SQLAlchemy(model_class=Base, session_options={"class_": TenantSession})


# -- pooled connections -------------------------------------------------------------------
_clock = time.monotonic  # tests move it


def ping_connections_idle_for(engine: sa.Engine, seconds: float) -> None:
    """Test a pooled connection before lending it only when it has sat unused for more than
    ``seconds`` (0: before every use, SQLAlchemy's ``pool_pre_ping``).

    Connections die while idle: a PostgreSQL restart, a failover, a firewall dropping quiet
    sockets. One in steady use was working a moment ago, and pinging it costs every request
    a round trip to the database (a tenth of a ballot's cost). Should it fail anyway, the
    error invalidates the whole pool (SQLAlchemy's disconnect handling), so that failure
    is seen once per worker at most."""

    @event.listens_for(engine, "checkin")
    def _note_return(dbapi_connection, record) -> None:
        record.info["pnyx_idle_since"] = _clock()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection, record, proxy) -> None:
        since = record.info.get("pnyx_idle_since")
        if since is None or _clock() - since <= seconds:
            return  # brand new, or used a moment ago
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            # The pool discards this connection and lends another (a new one if need be).
            raise sa.exc.DisconnectionError() from exc
