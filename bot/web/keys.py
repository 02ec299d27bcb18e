"""What the aiohttp app holds, one typed key each (`app[CONTAINER]`, `request.app[CHANNELS]`).

The keys live here, apart from `app.py` and the features it sets up, so that a feature module
reads the container without importing the module that imports it: this module imports nothing
from `bot.web`, and `app.py` is imported by no module of the package (tests/test_web_imports.py
checks the whole package for import circles). `bot/web/metrics.py` keeps its `METRICS` key:
that module alone sets and reads it.
"""

from __future__ import annotations

from aiohttp import web

from bot.bootstrap import Container
from bot.channels.console import ConsoleChannel, ConsoleInbox
from bot.channels.registry import ChannelRegistry

# The composition root's container: settings, database, clock, channels (bot/bootstrap.py).
CONTAINER = web.AppKey("container", Container)
# The platform channels behind the callback routes, started and stopped with the app.
CHANNELS = web.AppKey("channels", ChannelRegistry)
# The simulator's console channel; present only when the simulator is enabled.
SIMULATOR_CHANNEL = web.AppKey("simulator_channel", ConsoleChannel)
# What the bot pushed to the simulator's personas (campaign messages); simulator only.
SIMULATOR_INBOX = web.AppKey("simulator_inbox", ConsoleInbox)
