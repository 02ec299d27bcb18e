"""`GET /simulator`: chat with the bot in a browser, as a demo customer or a staff member, in a
private chat or a group — no platform credentials needed.

Messages go through the console channel (bot/channels/console.py) into the same dispatcher the
real platforms use, so what the simulator shows is what WeCom, the Official Account or Feishu
would get. It exists only in `fission serve --demo`, on that command's own fresh demo database
(`create_app(..., simulator=True)`; no setting turns it on): anyone who can open the page can act
as any customer or staff member.

Routes: the page and its two static files, `GET /simulator/personas`, and
`POST /simulator/messages` with `{"persona": "customer:12" | "staff:3" | "visitor:ab12",
"chat": "private" | "group", "text": "..."}` → `{"replies": [...]}`.
"""

from __future__ import annotations

import json
import logging
import re
from importlib import resources

from aiohttp import web
from sqlalchemy import select

from bot.bootstrap import Container
from bot.channels.console import PLATFORM, ConsoleChannel, ConsoleInput
from bot.channels.dispatcher import real_dispatcher
from bot.web.errors import json_error
from bot.web.keys import CONTAINER, SIMULATOR_CHANNEL
from handlers.events import ChatMessage, HandlerContext, Reply
from handlers.identities import link_identity, user_id_kind
from models.customer import Customer
from models.demo_campaigns import simulator_user_id
from models.masking import mask_name, mask_phone
from models.staff import Staff, StaffIdentity
from models.stages import STAGES, StageAssignment

log = logging.getLogger(__name__)

STATIC = "simulator_static"
MAX_TEXT = 2000
PER_STAGE = 2
_PERSONA = re.compile(r"^(customer|staff|visitor):([A-Za-z0-9_-]{1,40})$")
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
    views = _Views(container)
    app.router.add_get("/simulator", views.page)
    app.router.add_get("/simulator/static/{name}", views.static)
    app.router.add_get("/simulator/personas", views.personas)
    app.router.add_post("/simulator/messages", views.message)


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
                customers += [
                    {
                        "id": f"customer:{row.id}",
                        "name": mask_name(row.name) or mask_phone(row.phone) or row.external_id,
                        "external_id": row.external_id,
                        "stage": stage,
                    }
                    for row in rows
                ]
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

    async def _user_id(self, kind: str, key: str) -> str | None:
        """The console user id of a persona; a demo customer gets a console identity the first
        time somebody speaks as them (as if they had written to the bot before)."""
        if kind == "visitor":
            return f"sim-visitor-{key}"
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
