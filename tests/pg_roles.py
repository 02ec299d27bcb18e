"""The test database through a role of its own: a login role with data privileges only, for the
PostgreSQL tests of what the code does when it does not own the tables or may not create any."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text

from models.db import Database


@asynccontextmanager
async def data_privileges_only(
    db: Database, *, may_create_tables: bool = True
) -> AsyncIterator[Database]:
    """The same database through a new role with data privileges only (SELECT, INSERT, UPDATE,
    DELETE on every table, USAGE on every sequence): it owns no table. With
    `may_create_tables=False`, CREATE on the schema is revoked from it and from PUBLIC: it may
    not create a table in the schema (temporary tables it may). The role, and whatever it came
    to own, is dropped at the end."""
    role = f"fission_reader_{uuid.uuid4().hex[:8]}"
    async with db.engine.connect() as conn:
        auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await auto.exec_driver_sql(f"CREATE ROLE {role} LOGIN")
        await auto.exec_driver_sql(
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}"
        )
        await auto.exec_driver_sql(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {role}")
        if not may_create_tables:
            await auto.exec_driver_sql(f"REVOKE CREATE ON SCHEMA public FROM PUBLIC, {role}")
    limited = Database.from_url(db.engine.url.set(username=role).render_as_string(False))
    try:
        async with limited.engine.connect() as conn:
            owns_a_table = await conn.scalar(
                text(
                    "SELECT bool_or(pg_has_role(relowner, 'USAGE')) FROM pg_class "
                    "WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'"
                )
            )
            may_create = await conn.scalar(
                text("SELECT has_schema_privilege(current_schema(), 'CREATE')")
            )
        assert owns_a_table is False  # the premise
        if not may_create_tables:
            assert may_create is False  # the premise
        yield limited
    finally:
        await limited.dispose()
        async with db.engine.connect() as conn:
            auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await auto.exec_driver_sql(f"DROP OWNED BY {role}")
            await auto.exec_driver_sql(f"DROP ROLE {role}")
