"""A progress bar on stderr for a person watching a long command, and for nobody else."""

from __future__ import annotations

import sys
import time
from typing import Any

import click


class LateProgressBar:
    """A bar over `length` units that appears once the work has run `after` seconds, and only
    when stderr is a terminal (a script reading stderr gets nothing, as with `fission
    lifecycle run`). `update(n)` adds n units done; `close()` finishes the line."""

    def __init__(self, length: int, label: str, after: float) -> None:
        self.length = length
        self.label = label
        self.after = after
        self.attended = sys.stderr.isatty()
        self._started = time.monotonic()
        self._done = 0
        self._bar: Any = None

    def update(self, units: int) -> None:
        self._done += units
        if self._bar is not None:
            self._bar.update(units)
            return
        if not self.attended or time.monotonic() - self._started < self.after:
            return
        self._bar = click.progressbar(length=self.length, label=self.label, file=sys.stderr)
        self._bar.__enter__()
        self._bar.update(self._done)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.render_finish()
            self._bar = None
