"""`import_csv`: stream a CSV (or an .xlsx workbook's first sheet), validate every row in plain
Python, write the good ones at once.

The database work of one import is one transaction: batches are staged into a temporary table,
merged into the real tables at the end (see `writer.py`) and committed together. A
failure anywhere — a file that turns undecodable half-way, a database error, a cancelled
task — rolls back everything, so no half-written import is ever visible. Bad rows do not stop
the good ones; they are collected with their line and reason and written to `NAME.rejects.csv`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import closing
from dataclasses import dataclass, field
from datetime import tzinfo
from pathlib import Path

from models.base import utcnow
from models.db import Database
from models.importing.headers import ColumnChoice, resolve_header
from models.importing.kinds import IMPORT_KINDS, RowContext
from models.importing.merge import MovedOrder
from models.importing.messages import RowError, UnusableInput
from models.importing.prepare import shared_phones
from models.importing.reader import open_source
from models.importing.rejects import RejectedRow, write_rejects
from models.importing.validate import RowChecker
from models.importing.writer import BatchWriter
from models.masking import mask_phone

# Rows per staged batch: large enough that per-statement overhead vanishes, small enough that
# a batch of tuples stays a few megabytes.
BATCH_ROWS = 50_000


@dataclass
class ImportResult:
    kind: str
    imported: int  # new rows
    updated: int  # existing rows whose stored values changed
    rejected: int
    rejects_path: Path | None
    rejects: list[RejectedRow] = field(default_factory=list)
    bare_customers: int = 0  # customers created with only their number (orders, events)
    rows: int = 0  # data rows read (blank lines skipped)
    encoding: str = ""
    choices: tuple[ColumnChoice, ...] = ()  # columns read where the file had several
    phone_matched: int = 0  # orders given the one stored customer with their buyer's phone
    phone_customers: int = 0  # customers made from a buyer's phone nobody had
    dry_run: bool = False  # the counts are what would have been stored; nothing was


async def import_csv(
    db: Database,
    kind: str,
    path: Path,
    *,
    encoding: str = "auto",
    tz: tzinfo,
    progress: Callable[[int], None] | None = None,
    locale: str = "zh-CN",
    batch_rows: int = BATCH_ROWS,
    mapping: Mapping[str, str] | None = None,
    dry_run: bool = False,
) -> ImportResult:
    """Import `path` as `kind` ("customers", "orders", "events") in one transaction.

    `progress`, if given, is called with the number of bytes of the file consumed since its
    previous call (the file size is the natural length of a progress bar). `mapping` (header
    as written → column) reads headers the table in headers.py does not know. A `dry_run`
    does everything but commit: its counts are exact, its rejects file is written, and the
    transaction is rolled back (indexes a first load took off included). Raises
    `UnusableInput` for a file that cannot be imported at all; database errors propagate
    after the transaction has been rolled back, and then no rejects file is written.
    """
    spec = IMPORT_KINDS.get(kind)
    if spec is None:
        raise UnusableInput("unknown_kind", kind=kind)
    path = Path(path)
    now = utcnow()
    with closing(open_source(path, encoding)) as source:
        header = resolve_header(source.header, spec, mapping)
        absent = [c for c, at in zip(spec.columns, header.positions, strict=True) if at < 0]
        reported = 0
        async with db.uow() as uow:
            conn = await uow.session.connection()
            by_phone = kind == "orders" and "phone" not in absent
            context = RowContext(tz, await shared_phones(conn) if by_phone else {})
            checker = RowChecker(spec, header, context, locale)
            writer = BatchWriter(uow.session, conn, kind, now, absent)
            await writer.start()
            for batch in checker.chunks(source.rows(), batch_rows):
                await writer.write(batch)
                if progress is not None:
                    position = source.bytes_read()
                    progress(position - reported)
                    reported = position
            counts = await writer.finish()
            for order_no, phone, owners in writer.by_phone.unresolved:
                problem = RowError("shared_phone", phone=mask_phone(phone), count=owners)
                checker.rejects.append(
                    RejectedRow(checker.line_of(order_no), problem.render(locale), [])
                )
            if not dry_run:
                await uow.commit()

    rejects = checker.rejects
    if counts.refused:
        rejects = sorted(
            rejects + _refused_rows(path, source.encoding, checker, counts.refused, locale),
            key=lambda row: row.line,
        )
    return ImportResult(
        kind=kind,
        imported=counts.imported,
        updated=counts.updated,
        rejected=len(rejects),
        rejects_path=write_rejects(path, header.original, rejects),
        rejects=rejects,
        bare_customers=counts.bare_customers,
        rows=checker.rows,
        encoding=source.encoding,
        choices=header.choices,
        phone_matched=writer.by_phone.matched,
        phone_customers=writer.by_phone.created,
        dry_run=dry_run,
    )


def _refused_rows(
    path: Path,
    encoding: str,
    checker: RowChecker,
    refused: tuple[MovedOrder, ...],
    locale: str,
) -> list[RejectedRow]:
    """Rows the database refused after validation (an order number stored for another
    customer), as rejected rows with their line and cells: the file is read again for just
    those lines — a rare path, so the hot loop keeps no cells."""
    reasons = {
        checker.line_of(move.order_no): RowError(
            "order_of_another_customer",
            order_no=move.order_no,
            stored=move.stored_customer,
            given=move.given_customer,
        ).render(locale)
        for move in refused
    }
    found: list[RejectedRow] = []
    with closing(open_source(path, encoding)) as again:
        for line, cells in again.rows():
            if line in reasons:
                found.append(RejectedRow(line, reasons[line], cells))
    return found
