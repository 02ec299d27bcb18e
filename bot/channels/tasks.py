"""Background work that outlives the request which started it, kept track of.

`asyncio.create_task` alone holds only a weak reference: a task can be collected mid-flight and
its exception is lost. Every task lives in a set until it finishes (`add_done_callback(discard)`)
and its failure is logged; shutdown waits for the set with a timeout.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


class BackgroundTasks:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, coro: Coroutine[Any, Any, T], *, name: str) -> asyncio.Task[T]:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            log.error("background task %s failed", task.get_name(), exc_info=exc)

    def __len__(self) -> int:
        return len(self._tasks)

    async def join(self) -> None:
        """Wait until no work is left, including work started while waiting."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))

    async def drain(self, grace_seconds: float) -> None:
        """Wait for running work; cancel what is still running after `grace_seconds` (it is
        picked up again from the event store on the next start)."""
        if not self._tasks:
            return
        _done, pending = await asyncio.wait(set(self._tasks), timeout=grace_seconds)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
