"""A poster sent to several chats at once is uploaded to the platform once."""

from __future__ import annotations

import asyncio

from bot.channels.media import MediaCache


async def test_concurrent_replies_with_one_image_upload_it_once() -> None:
    cache = MediaCache(ttl_seconds=3600)
    uploads: list[int] = []

    async def upload() -> str:
        uploads.append(1)
        await asyncio.sleep(0.05)  # the platform takes a while; others ask meanwhile
        return f"media-{len(uploads)}"

    ids = await asyncio.gather(*(cache.get_or_upload(b"png", "poster:X", upload) for _ in range(5)))
    assert ids == ["media-1"] * 5
    assert len(uploads) == 1


async def test_an_expired_media_id_is_uploaded_again() -> None:
    now = [0.0]
    cache = MediaCache(ttl_seconds=10, clock=lambda: now[0])
    counter = iter(range(1, 10))

    async def upload() -> str:
        return f"media-{next(counter)}"

    assert await cache.get_or_upload(b"png", "k", upload) == "media-1"
    now[0] = 11.0
    assert await cache.get_or_upload(b"png", "k", upload) == "media-2"
