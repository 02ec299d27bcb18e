"""The API's aiohttp views: parse and validate, run one unit of work, commit, answer.

Everything accepted is committed before the response is sent. A unit of work that loses a race
on a unique constraint is run again from the start (the second run sees the winner's rows);
a database that cannot be reached is a 503, not a 500.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.bootstrap import Container
from bot.web.api import codes, queries, reads, upserts
from bot.web.api.inputs import (
    CustomerIn,
    EventsIn,
    OrderIn,
    RedeemIn,
    ReferralCodeIn,
    ValidationContext,
)
from bot.web.api.outputs import EventsOut, RedeemOut
from bot.web.api.problems import ApiError, invalid, not_found, path_param, read_json

log = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")
_ATTEMPTS = 3
# PostgreSQL: serialization failure, deadlock — both mean "run the transaction again".
_RETRY_SQLSTATES = {"40001", "40P01"}


def _json(model: BaseModel, status: int = 200) -> web.Response:
    return web.json_response(model.model_dump(mode="json"), status=status)


class ApiViews:
    def __init__(self, container: Container) -> None:
        self.container = container
        self.settings = container.settings
        self.tz = container.settings.tz
        self.locale = container.settings.locale

    def _context(self) -> ValidationContext:
        return {"tz": self.tz, "locale": self.locale}

    async def _body(self, request: web.Request, model: type[M], *, optional: bool = False) -> M:
        data = await read_json(request, optional=optional)
        try:
            return model.model_validate(data, context=self._context())
        except ValidationError as exc:
            raise invalid(exc, self.locale) from exc

    async def _transaction(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """Run `work` in a unit of work and commit; again from scratch after a lost race."""
        for attempt in range(1, _ATTEMPTS + 1):
            try:
                async with self.container.db.uow() as uow:
                    result = await work(uow.session)
                    await uow.commit()
                    return result
            except IntegrityError:
                if attempt == _ATTEMPTS:
                    raise ApiError(
                        409, "conflict", "与同时进行的请求冲突，请重试 / concurrent conflict, retry"
                    ) from None
                log.info("API transaction lost a race (attempt %d), running it again", attempt)
            except (OperationalError, InterfaceError, OSError) as exc:
                if _sqlstate(exc) in _RETRY_SQLSTATES and attempt < _ATTEMPTS:
                    continue
                log.warning("API: database unavailable: %s", type(exc).__name__)
                raise ApiError(
                    503, "database_unavailable", "数据库暂时不可用 / database unavailable"
                ) from None
        raise AssertionError("unreachable")

    async def post_order(self, request: web.Request) -> web.Response:
        data = await self._body(request, OrderIn)

        async def work(session: AsyncSession) -> tuple[bool, Any]:
            now = self.container.clock()
            await upserts.ensure_code_exists(session, data.referral_code, self.locale)
            done = await upserts.upsert_order(session, data, now)
            body = await reads.order_out(session, done.id, code=data.referral_code, tz=self.tz)
            return done.created, body

        created, body = await self._transaction(work)
        return _json(body, 201 if created else 200)

    async def post_customer(self, request: web.Request) -> web.Response:
        data = await self._body(request, CustomerIn)

        async def work(session: AsyncSession) -> tuple[bool, Any]:
            now = self.container.clock()
            await upserts.ensure_code_exists(session, data.referral_code, self.locale)
            done = await upserts.upsert_customer(session, data, now)
            body = await reads.customer_out(session, done.id, code=data.referral_code, tz=self.tz)
            return done.created, body

        created, body = await self._transaction(work)
        return _json(body, 201 if created else 200)

    async def post_events(self, request: web.Request) -> web.Response:
        body = await self._body(request, EventsIn)
        items = body.items

        async def work(session: AsyncSession) -> tuple[int, EventsOut]:
            stored = await upserts.store_events(
                session, items, self.container.clock(), self.locale, listed=body.listed
            )
            events = await reads.events_out(session, stored.ids, self.tz)
            return stored.inserted, EventsOut(received=len(items), events=events)

        inserted, out = await self._transaction(work)
        return _json(out, 201 if inserted else 200)

    async def post_referral_code(self, request: web.Request) -> web.Response:
        external_id = request.match_info["external_id"]
        data = await self._body(request, ReferralCodeIn, optional=True)

        async def work(session: AsyncSession) -> tuple[bool, Any]:
            return await codes.issue(
                session,
                external_id=external_id,
                program_key=data.program,
                now=self.container.clock(),
                public_base_url=self.settings.public_base_url,
            )

        created, body = await self._transaction(work)
        return _json(body, 201 if created else 200)

    async def get_customer(self, request: web.Request) -> web.Response:
        external_id = path_param(request, "external_id", self.locale)
        card = await queries.customer_card(self.container, external_id)
        if card is None:
            raise not_found("客户", "customer", external_id)
        return _json(card)

    async def get_referral(self, request: web.Request) -> web.Response:
        code = path_param(request, "code", self.locale)
        stats = await queries.referral_stats(self.container, code)
        if stats is None:
            raise not_found("邀请码", "referral code", code)
        return _json(stats)

    async def redeem_coupon(self, request: web.Request) -> web.Response:
        code = path_param(request, "code", self.locale)
        data = await self._body(request, RedeemIn)

        async def work(session: AsyncSession) -> tuple[RedeemOut, bool]:
            now = self.container.clock()
            return await queries.redeem(session, code, data.order_no, now, tz=self.tz)

        body, replay = await self._transaction(work)
        response = _json(body)
        if replay:
            response.headers["Idempotent-Replay"] = "true"
        return response


def _sqlstate(exc: Exception) -> str | None:
    if isinstance(exc, DBAPIError):
        orig = exc.orig
        return getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    return None
