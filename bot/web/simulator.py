"""`GET /simulator`: chat with the bot in a browser, as a demo customer or a staff member, in a
private chat or a group — no platform credentials needed.

Messages go through the console channel (bot/channels/console.py) into the same dispatcher the
real platforms use, so what the simulator shows is what WeCom, the Official Account or Feishu
would get. It exists only in `fission serve --demo`, on that command's own fresh demo database
(`create_app(..., simulator=True)`; no setting turns it on): anyone who can open the page can act
as any customer or staff member.

Routes: the page and its two static files, `GET /simulator/personas`,
`POST /simulator/messages` with `{"persona": "customer:12" | "staff:3" | "visitor:ab12",
"chat": "private" | "group", "text": "..."}` → `{"replies": [...]}`, and
`GET /simulator/inbox?after=N` → `{"messages": [...], "last": M}`: what the bot sent personas on
its own since message N (campaign messages through the console route's sender, which `fission
serve --demo` registers), each with the persona it went to, for the page to poll.
"""

from __future__ import annotations

import json
import logging
import re
from importlib import resources
from typing import Any

from aiohttp import web
from sqlalchemy import select

from bot.bootstrap import Container
from bot.channels.console import PLATFORM, ConsoleChannel, ConsoleInbox, ConsoleInput, render
from bot.channels.dispatcher import real_dispatcher
from bot.web.errors import json_error
from bot.web.keys import CONTAINER, SIMULATOR_CHANNEL, SIMULATOR_INBOX
from handlers.events import ChatMessage, HandlerContext, Reply
from handlers.identities import link_identity, user_id_kind
from models.customer import Customer, CustomerIdentity
from models.demo_campaigns import simulator_user_id
from models.masking import mask_name, mask_phone
from models.staff import Staff, StaffIdentity
from models.stages import STAGES, StageAssignment

log = logging.getLogger(__name__)

STATIC = "simulator_static"
MAX_TEXT = 2000
PER_STAGE = 2
_PERSONA = re.compile(r"^(customer|staff|visitor):([A-Za-z0-9_-]{1,40})$")
_CURSOR = re.compile(r"[0-9]{1,18}")
VISITOR_PREFIX = "sim-visitor-"
_FILES = {"simulator.js": "application/javascript", "simulator.css": "text/css"}


def setup_simulator(app: web.Application) -> None:
    """Adds the simulator's routes (only `create_app(..., simulator=True)` calls this)."""

    container = app[CONTAINER]
    log.warning("web chat simulator enabled at /simulator: anyone who can reach it acts as staff")
    ctx = HandlerContext(
        db=container.db, settings=container.settings, now=container.clock, extras=container.extras
    )

    # The container's dispatcher (tests may give their own), else the real handlers.
    dispatcher = container.dispatcher or real_dispatcher()

    async def handle(msg: ChatMessage) -> list[Reply]:
        return await dispatcher.message(ctx, msg)

    app[SIMULATOR_CHANNEL] = ConsoleChannel(handle, container.clock)
    app[SIMULATOR_INBOX] = ConsoleInbox()
    views = _Views(container)
    app.router.add_get("/simulator", views.page)
    app.router.add_get("/simulator/static/{name}", views.static)
    app.router.add_get("/simulator/personas", views.personas)
    app.router.add_post("/simulator/messages", views.message)
    app.router.add_get("/simulator/inbox", views.inbox)


def _asset(name: str) -> bytes:
    return resources.files("bot.web").joinpath(STATIC, name).read_bytes()


class _Views:
    def __init__(self, container: Container) -> None:
        self.container = container

    async def page(self, request: web.Request) -> web.Response:
        return web.Response(
            body=_asset("index.html"),
            content_type="text/html",
            charset="utf-8",
            headers={"Cache-Control": "no-store"},
        )

    async def static(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in _FILES:
            raise web.HTTPNotFound()
        return web.Response(body=_asset(name), content_type=_FILES[name], charset="utf-8")

    async def personas(self, request: web.Request) -> web.Response:
        """A few demo customers per stage (masked) and every staff member with a console id."""
        customers = []
        async with self.container.db.uow() as uow:
            for stage in STAGES:
                rows = await uow.session.execute(
                    select(Customer.id, Customer.external_id, Customer.name, Customer.phone)
                    .join(StageAssignment, StageAssignment.customer_id == Customer.id)
                    .where(StageAssignment.stage == stage, Customer.status == "open")
                    .order_by(Customer.id)
                    .limit(PER_STAGE)
                )
                customers += [_customer_persona(f"customer:{row.id}", row, stage) for row in rows]
            staff_rows = await uow.session.execute(
                select(Staff.id, Staff.name, Staff.role, StaffIdentity.user_id)
                .join(StaffIdentity, StaffIdentity.staff_id == Staff.id)
                .where(StaffIdentity.platform == PLATFORM, Staff.active.is_(True))
                .order_by(Staff.id)
            )
            staff = [
                {"id": f"staff:{row.id}", "name": row.name, "role": row.role} for row in staff_rows
            ]
        return web.json_response({"customers": customers, "staff": staff})

    async def message(self, request: web.Request) -> web.Response:
        try:
            data = json.loads(await request.read())
        except (json.JSONDecodeError, UnicodeDecodeError):
            return json_error(400, "malformed_json", "请求体不是有效的 JSON / body is not JSON")
        if not isinstance(data, dict):
            return json_error(422, "invalid", "请求体应为对象 / body must be an object")
        persona, chat, text = data.get("persona"), data.get("chat", "private"), data.get("text")
        errors = {}
        match = _PERSONA.match(persona) if isinstance(persona, str) else None
        if match is None:
            errors["persona"] = "customer:<id>、staff:<id> 或 visitor:<名字>"
        if chat not in ("private", "group"):
            errors["chat"] = "private 或 group"
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT:
            errors["text"] = f"1–{MAX_TEXT} 个字符"
        if errors or match is None or not isinstance(text, str):
            return json_error(422, "invalid", "参数不正确 / invalid fields", fields=errors)
        user_id = await self._user_id(match[1], match[2])
        if user_id is None:
            return json_error(404, "no_persona", "没有这个角色 / no such persona")
        channel = request.app[SIMULATOR_CHANNEL]
        said = ConsoleInput(user_id=user_id, text=text, group=chat == "group")
        replies = await channel.send(said)
        return web.json_response({"replies": replies})

    async def inbox(self, request: web.Request) -> web.Response:
        """The messages pushed since `after` (the last one the page has), each with the persona
        it went to — masked like every persona, so a page that does not list that customer yet
        can add them."""
        after = request.query.get("after", "0")
        if _CURSOR.fullmatch(after) is None:
            return json_error(
                422,
                "invalid",
                "参数不正确 / invalid fields",
                fields={"after": "非负整数，上次收到的最后一条消息编号"},
            )
        inbox = request.app[SIMULATOR_INBOX]
        pushed = inbox.since(int(after))
        personas = await self._personas_of({item.user_id for item in pushed})
        messages = [
            {
                "id": item.seq,
                "persona": personas[item.user_id],
                "chat": "private",
                "reply": render(item.reply),
            }
            for item in pushed
            if item.user_id in personas
        ]
        return web.json_response({"messages": messages, "last": inbox.last})

    async def _personas_of(self, user_ids: set[str]) -> dict[str, dict[str, str | None]]:
        """The customer persona of each console user id that is one (`customer:<id>` or the
        `visitor:<name>` who became a customer)."""
        if not user_ids:
            return {}
        async with self.container.db.uow() as uow:
            rows = await uow.session.execute(
                select(
                    CustomerIdentity.value,
                    Customer.id,
                    Customer.external_id,
                    Customer.name,
                    Customer.phone,
                    StageAssignment.stage,
                )
                .join(Customer, Customer.id == CustomerIdentity.customer_id)
                .outerjoin(StageAssignment, StageAssignment.customer_id == Customer.id)
                .where(CustomerIdentity.platform == PLATFORM, CustomerIdentity.value.in_(user_ids))
            )
            found = {}
            for row in rows:
                persona = _persona_of(row.value, row.id)
                if persona is not None:
                    found[row.value] = _customer_persona(persona, row, row.stage)
            return found

    async def _user_id(self, kind: str, key: str) -> str | None:
        """The console user id of a persona; a demo customer gets a console identity the first
        time somebody speaks as them (as if they had written to the bot before)."""
        if kind == "visitor":
            return VISITOR_PREFIX + key
        if not key.isdigit():
            return None
        async with self.container.db.uow() as uow:
            session = uow.session
            if kind == "staff":
                return await session.scalar(
                    select(StaffIdentity.user_id)
                    .join(Staff, Staff.id == StaffIdentity.staff_id)
                    .where(
                        StaffIdentity.staff_id == int(key),
                        StaffIdentity.platform == PLATFORM,
                        Staff.active.is_(True),
                    )
                    .order_by(StaffIdentity.id)
                    .limit(1)
                )
            customer = await session.get(Customer, int(key))
            if customer is None:
                return None
            user_id = simulator_user_id(customer.id)
            await link_identity(
                session,
                customer_id=customer.id,
                platform=PLATFORM,
                app_id="",
                kind=user_id_kind(PLATFORM),
                value=user_id,
                now=self.container.clock(),
            )
            await uow.commit()
            return user_id


def _persona_of(user_id: str, customer_id: int) -> str | None:
    """The persona that speaks as a customer's console user id, the inverse of `_user_id`."""
    if user_id == simulator_user_id(customer_id):
        return f"customer:{customer_id}"
    if user_id.startswith(VISITOR_PREFIX):
        return "visitor:" + user_id.removeprefix(VISITOR_PREFIX)
    return None


def _customer_persona(persona: str, row: Any, stage: str | None) -> dict[str, str | None]:
    """A customer persona as the page lists it: masked name (else phone, else external id)."""
    return {
        "id": persona,
        "name": mask_name(row.name) or mask_phone(row.phone) or row.external_id,
        "external_id": row.external_id,
        "stage": stage,
    }
