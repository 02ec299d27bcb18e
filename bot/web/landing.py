"""`GET /r/{code}`, the page a shared invite link opens, and `GET /r/{code}/poster.png`.

A visit records a click through the referral domain (once per visitor per day, by a keyed
hash of IP and user agent — see bot/web/visitor.py), sets the attribution cookie, and shows
the offer and how to join. Unknown codes and codes of ended programs get a friendly page with
status 404, never a JSON error: the reader is a person on a phone.

`FISSION_JOIN_URL` may contain `{code}`, replaced by the referral code — e.g. a WeCom customer
acquisition link with `?customer_channel={code}`, which WeCom hands back as the `state` of the
add-contact event, so the join is attributed without the newcomer typing anything.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.bootstrap import Container
from bot.web.keys import CONTAINER
from bot.web.landing_page import LandingContent, render_landing, render_not_found
from bot.web.visitor import click_secret, client_ip, visitor_hash
from models.customer import Customer
from models.referral.attribution import record_click
from models.referral.codes import find_code, normalize_code
from models.referral.poster import PosterCache, PosterContent, poster_content
from models.referral.programs import is_live
from models.referral.tables import ReferralProgram

log = logging.getLogger(__name__)

COOKIE_NAME = "fission_ref"
COOKIE_MAX_AGE = 30 * 24 * 3600  # the default attribution window


@dataclass(frozen=True)
class LiveCode:
    code: str
    program_version: int
    title: str
    offer_text: str
    inviter_name: str | None


async def live_code(session: AsyncSession, raw_code: str, now: datetime) -> LiveCode | None:
    """The code's program and inviter, if the code exists and its program runs at `now`.
    Codes are matched as the domain normalises them (`k7qm3xwp` is `K7QM3XWP`)."""
    code = await find_code(session, raw_code)
    if code is None:
        return None
    program = await session.get(ReferralProgram, code.program_id)
    if program is None or not is_live(program, now):
        return None
    inviter_name = await session.scalar(
        select(Customer.name).where(Customer.id == code.customer_id)
    )
    return LiveCode(
        code.code, program.version, program.title, program.offer_text or "", inviter_name
    )


class LandingViews:
    def __init__(self, container: Container) -> None:
        self.container = container
        self.settings = container.settings
        self.posters = PosterCache.for_settings(container.settings)
        self._key: bytes | None = None

    def _visitor(self, request: web.Request) -> str:
        if self._key is None:
            self._key = click_secret(self.settings)
        ip = client_ip(request, self.settings.trusted_proxy_hops)
        return visitor_hash(self._key, ip, request.headers.get("User-Agent", ""))

    def _not_found(self) -> web.Response:
        return web.Response(
            status=404,
            text=render_not_found(self.settings.locale),
            content_type="text/html",
            headers={"Cache-Control": "no-store"},
        )

    def _poster_content(self, live: LiveCode) -> PosterContent:
        return poster_content(
            public_base_url=self.settings.public_base_url,
            code=live.code,
            title=live.title,
            offer_text=live.offer_text,
            inviter_name=live.inviter_name,
            mask_names=self.settings.mask_names,
            font=self.settings.poster_font,
        )

    async def landing(self, request: web.Request) -> web.Response:
        code = normalize_code(request.match_info["code"])
        if code is None:
            return self._not_found()
        visitor = self._visitor(request)
        now = self.container.clock()
        async with self.container.db.uow() as uow:
            live = await live_code(uow.session, code, now)
            if live is None:
                return self._not_found()
            # A HEAD request (link checkers, previews) is not somebody opening the page.
            if request.method != "HEAD":
                click = await record_click(uow.session, code=code, visitor_hash=visitor, now=now)
                if click is None:
                    return self._not_found()
                await uow.commit()
        join_url = self.settings.join_url
        page = render_landing(
            LandingContent(
                code=live.code,
                title=live.title,
                offer_text=live.offer_text,
                inviter_name=self._poster_content(live).inviter_name,
                join_url=join_url.replace("{code}", live.code) if join_url else None,
            ),
            self.settings.locale,
        )
        response = web.Response(
            text=page, content_type="text/html", headers={"Cache-Control": "no-store"}
        )
        # First touch wins, as in attribution: a visitor who already carries a code keeps it.
        if COOKIE_NAME not in request.cookies:
            response.set_cookie(
                COOKIE_NAME,
                live.code,
                max_age=COOKIE_MAX_AGE,
                path="/",
                httponly=True,
                samesite="Lax",
                secure=self.settings.public_base_url.startswith("https://"),
            )
        return response

    async def poster(self, request: web.Request) -> web.StreamResponse:
        code = request.match_info["code"]
        async with self.container.db.uow() as uow:
            live = await live_code(uow.session, code, self.container.clock())
        if live is None:
            return self._not_found()
        content = self._poster_content(live)
        etag = f'"{live.program_version}-{content.digest()}"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        # Rendering takes ~0.1 s of CPU and the cache touches the disk: keep both off the loop.
        png = await asyncio.to_thread(
            self.posters.get_or_render, live.code, live.program_version, content
        )
        return web.Response(
            body=png,
            content_type="image/png",
            headers={"ETag": etag, "Cache-Control": "public, max-age=3600"},
        )


def setup_landing(app: web.Application) -> None:
    views = LandingViews(app[CONTAINER])
    app.router.add_get("/r/{code}", views.landing)
    app.router.add_get("/r/{code}/poster.png", views.poster)
