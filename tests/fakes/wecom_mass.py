"""WeCom customer mass messages (客户群发) in the fake: tasks made by `add_msg_template` wait
until the test, playing the staff member, confirms them (`confirm`); the platform's limits
hold when they are sent — a customer gets at most 4 corp mass messages per calendar month and
one per staff member per day (status 3 beyond), a customer who is not (or no longer) the
sender's contact fails (fail_list when the task is made, status 2 when it is sent);
`remind_groupmsg_send` at most 3 times in 24 hours; a cancelled task cannot be sent."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fakes.platform import FakeError

MONTHLY_LIMIT = 4
MAX_CUSTOMERS = 10_000
MAX_TEXT_BYTES = 4000
REMINDERS_PER_DAY = 3
PAGE_DEFAULT, PAGE_MAX = 500, 1000
BEIJING = ZoneInfo("Asia/Shanghai")  # the platform's calendar days and months


@dataclass
class MassTask:
    msgid: str
    sender: str
    customers: list[str]  # the ones in the task (not the fail_list)
    text: str
    created_at: datetime
    status: int = 0  # the sender's: 0 not sent, 2 sent
    send_time: datetime | None = None
    cancelled: bool = False
    reminders: list[datetime] = field(default_factory=list)
    results: dict[str, int] = field(default_factory=dict)  # 1 sent, 2 not a contact, 3 limit


class MassMessages:
    def __init__(self, clock: Callable[[], datetime], next_id: Callable[[str], str]) -> None:
        self._clock = clock
        self._next_id = next_id
        self.contacts: dict[str, set[str]] = defaultdict(set)  # staff userid → customers
        self.invalid_ids: set[str] = set()  # external_userids the corp never had: 40096
        self.tasks: dict[str, MassTask] = {}
        # external_userid → (sent at, sender, text): what the customer actually received.
        self.received: dict[str, list[tuple[datetime, str, str]]] = defaultdict(list)
        self.refused_reminders = 0

    # -- what tests steer -------------------------------------------------------------------
    def confirm(self, msgid: str) -> bool:
        """The staff member sends the task from the app; False when it was cancelled."""
        task = self.tasks[msgid]
        if task.cancelled:
            return False
        now = self._clock()
        for customer in task.customers:
            task.results[customer] = self._deliver(task, customer, now)
        task.status, task.send_time = 2, now
        return True

    def _deliver(self, task: MassTask, customer: str, now: datetime) -> int:
        if customer not in self.contacts[task.sender]:
            return 2
        local = now.astimezone(BEIJING)
        earlier = [(at.astimezone(BEIJING), sender) for at, sender, _ in self.received[customer]]
        this_month = [at for at, _ in earlier if (at.year, at.month) == (local.year, local.month)]
        today = [s for at, s in earlier if at.date() == local.date() and s == task.sender]
        if len(this_month) >= MONTHLY_LIMIT or today:
            return 3
        self.received[customer].append((now, task.sender, task.text))
        return 1

    # -- the routes -------------------------------------------------------------------------
    def add(self, body: dict[str, Any]) -> dict[str, Any]:
        customers = [str(c) for c in body.get("external_userid") or []]
        sender = str(body.get("sender") or "")
        text = str((body.get("text") or {}).get("content") or "")
        if body.get("chat_type") != "single" or not sender or not customers or not text:
            raise FakeError(40058, "invalid Request Parameter")
        if len(customers) > MAX_CUSTOMERS or len(text.encode()) > MAX_TEXT_BYTES:
            raise FakeError(40058, "invalid Request Parameter: too many customers or text")
        if self.invalid_ids & set(customers):
            raise FakeError(40096, "invalid external userid")
        failed = [c for c in customers if c not in self.contacts[sender]]
        if len(failed) == len(customers):
            raise FakeError(41048, "no customer to send")
        msgid = self._next_id("msg")
        kept = [c for c in customers if c not in failed]
        self.tasks[msgid] = MassTask(msgid, sender, kept, text, self._clock())
        return {"msgid": msgid, "fail_list": failed}

    def remind(self, body: dict[str, Any]) -> dict[str, Any]:
        task = self._task(body)
        now = self._clock()
        recent = [at for at in task.reminders if now - at < timedelta(hours=24)]
        if len(recent) >= REMINDERS_PER_DAY:
            self.refused_reminders += 1
            # The platform's own code for this is not documented; any refusal will do.
            raise FakeError(40058, "a task is reminded at most 3 times in 24 hours")
        task.reminders.append(now)
        return {}

    def cancel(self, body: dict[str, Any]) -> dict[str, Any]:
        self._task(body).cancelled = True
        return {}

    def task_list(self, body: dict[str, Any]) -> dict[str, Any]:
        task = self._task(body)
        entry: dict[str, Any] = {"userid": task.sender, "status": task.status}
        if task.send_time is not None:
            entry["send_time"] = int(task.send_time.timestamp())
        return {"task_list": [entry], "next_cursor": ""}

    def send_results(self, body: dict[str, Any]) -> dict[str, Any]:
        task = self._task(body)
        if body.get("userid") != task.sender:
            return {"send_list": [], "next_cursor": ""}
        limit = int(body.get("limit") or PAGE_DEFAULT)
        limit = limit if 0 < limit <= PAGE_MAX else PAGE_DEFAULT
        start = int(body.get("cursor") or 0)
        page = task.customers[start : start + limit]
        rows = []
        for customer in page:
            status = task.results.get(customer, 0)
            row: dict[str, Any] = {
                "external_userid": customer,
                "userid": task.sender,
                "status": status,
            }
            if status == 1 and task.send_time is not None:
                row["send_time"] = int(task.send_time.timestamp())
            rows.append(row)
        more = start + limit < len(task.customers)
        return {"send_list": rows, "next_cursor": str(start + limit) if more else ""}

    def _task(self, body: dict[str, Any]) -> MassTask:
        task = self.tasks.get(str(body.get("msgid") or ""))
        if task is None:
            raise FakeError(41047, "invalid msgid")
        return task
