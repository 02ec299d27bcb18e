"""The lifecycle's own tables follow a deleted customer by trigger instead of foreign key.

`stage_assignments`, `stage_transitions` and `customer_grades` are written only by the
lifecycle run, for customers it has just read in the same transaction. A foreign key checks
each inserted row on its own (PostgreSQL locks the customer row and logs that lock, row by
row): on the first run over 1M customers those checks took about 30 s of the 90 s, for rows
whose customer was never in doubt. What the keys also did — delete these rows with their
customer — a trigger on `customers` now does, in one statement per deletion (PostgreSQL: a
statement trigger over the deleted rows; SQLite: a row trigger).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLES = ("stage_assignments", "stage_transitions", "customer_grades")
_TRIGGER = "customers_forget_lifecycle"
_FUNCTION = "fission_forget_lifecycle"


def _fk(table: str) -> str:
    return f"fk_{table}_customer_id_customers"


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for table in _TABLES:
        if postgresql:
            op.drop_constraint(_fk(table), table, type_="foreignkey")
        else:
            with op.batch_alter_table(table, recreate="always") as batch:
                batch.drop_constraint(_fk(table), type_="foreignkey")
    if postgresql:
        deletes = "".join(
            f"DELETE FROM {table} WHERE customer_id IN (SELECT id FROM gone);" for table in _TABLES
        )
        op.execute(
            f"CREATE FUNCTION {_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN {deletes} RETURN NULL; END $$"
        )
        op.execute(
            f"CREATE TRIGGER {_TRIGGER} AFTER DELETE ON customers REFERENCING OLD TABLE AS gone "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {_FUNCTION}()"
        )
    else:
        deletes = "".join(f"DELETE FROM {table} WHERE customer_id = OLD.id;" for table in _TABLES)
        op.execute(
            f"CREATE TRIGGER {_TRIGGER} AFTER DELETE ON customers FOR EACH ROW BEGIN {deletes} END"
        )


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    op.execute(f"DROP TRIGGER {_TRIGGER}" + (" ON customers" if postgresql else ""))
    if postgresql:
        op.execute(f"DROP FUNCTION {_FUNCTION}()")
    for table in _TABLES:
        # Rows of customers deleted in the meantime would fail the key.
        op.execute(f"DELETE FROM {table} WHERE customer_id NOT IN (SELECT id FROM customers)")
        if postgresql:
            op.create_foreign_key(
                _fk(table), table, "customers", ["customer_id"], ["id"], ondelete="CASCADE"
            )
        else:
            with op.batch_alter_table(table, recreate="always") as batch:
                batch.create_foreign_key(
                    _fk(table), "customers", ["customer_id"], ["id"], ondelete="CASCADE"
                )
