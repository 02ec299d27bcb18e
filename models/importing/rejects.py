"""The rejects file: every refused row as it was, plus where it was and why.

Written next to the input as `NAME.rejects.csv`, in UTF-8 with a BOM so Excel shows the
Chinese correctly. The original columns come first, so after fixing the rows a person can
import the rejects file itself (`line` and `reason` are ignored as unknown columns).
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from models.importing.values import UNSTORABLE


@dataclass(frozen=True)
class RejectedRow:
    line: int  # line in the file on which the record starts (the header is line 1)
    reason: str
    values: list[str]  # the cells as read


def rejects_path_for(path: Path) -> Path:
    if path.suffix.lower() == ".csv":
        return path.with_name(f"{path.stem}.rejects.csv")
    return path.with_name(f"{path.name}.rejects.csv")


def write_rejects(path: Path, header: Sequence[str], rejects: Sequence[RejectedRow]) -> Path | None:
    """Write the rejects of `path`; with none, remove a stale file from an earlier run."""
    target = rejects_path_for(path)
    if not rejects:
        target.unlink(missing_ok=True)
        return None
    width = len(header)
    with target.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow([*map(_shown, header), "line", "reason"])
        for row in rejects:
            # Cut or pad to the header so `line` and `reason` stay in their columns.
            cells = row.values[:width] + [""] * (width - len(row.values))
            writer.writerow([*map(_shown, cells), row.line, row.reason])
    return target


def _shown(cell: str) -> str:
    """A NUL or a lone surrogate as U+FFFD, the mark editors show for a bad character: the
    reason says where it was, and the file stays valid UTF-8 that Excel opens."""
    return UNSTORABLE.sub("\ufffd", cell)
