"""Requests as an adapter builds them, for tests: each with a fresh request id."""

from __future__ import annotations

import uuid
from datetime import datetime

from bot.circle import Actor
from bot.effects import Response
from bot.inputs import Input, Request, Typed
from circlebot.service import CommandService


def request(actor: Actor, what: Input | str, channel: str | None = None) -> Request:
    return Request(actor, Typed(what) if isinstance(what, str) else what, uuid.uuid4().hex, channel)


def run(commands: CommandService, actor: Actor, what: Input | str, now: datetime, channel: str | None = None) -> list[Response]:
    """What ``actor`` gets back for typing ``what`` (or pressing, or submitting) at ``now``."""
    return commands.handle(request(actor, what, channel), now)
