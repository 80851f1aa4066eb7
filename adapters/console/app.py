"""The console adapter: type ``/circle ...`` as one or more simulated people and move the clock.

Console-only lines:

* ``/as <name> [<Area/City>] [admin]`` — speak as someone (their zone; a workspace admin)
* ``/press <N>`` — press button number N (buttons are shown as ``[N] label``)
* ``/tick <N>w|d|h|m`` — advance the simulated clock, running everything due on the way
* ``/now`` — show the simulated time
* ``/help`` — this list; ``/quit`` — leave

Everything else that starts with ``/circle`` goes to the command service exactly
as a Slack or Discord slash command would, through the same contract
(:mod:`adapters.contract`): a typed line, a pressed button's action or a
submitted form's answers, each with its own request id. A form is filled field
by field: the console asks each question in turn. Deliveries go through the
outbox and are printed by :class:`ConsoleAdapter`, stamped with the simulated
time in their reader's zone. A file the bot sends someone (their data export) is
written to ``<files>/<person>/``. A progress card is drawn as a PNG in the
pictures folder; its path and the card's text are printed.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from itertools import count
from pathlib import Path

from adapters.console.render import Choices, PictureFolder, block, effect_lines
from adapters.contract import Outgoing, Receipt
from bot.actions import encode_action
from bot.circle import Actor, UserRef
from bot.effects import DirectMessage, OpenForm, PostToCommunity, RefreshHome, Response, SendFile
from bot.errors import CircleError
from bot.i18n import render
from bot.inputs import Input, Pressed, Request, Submitted, Typed
from bot.timetable import format_when, parse_zone
from circlebot.service import CommandService
from scheduler.clock import Clock, SimulatedClock
from scheduler.runner import Runner

PLATFORM, WORKSPACE = "console", "local"
UNITS = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes"}
CONSOLE_HELP = """Console commands:
  /as <name> [<time zone>] [admin]   speak as someone (e.g. /as bob America/New_York)
  /press <N>                         press button number N
  /tick <N>w|d|h|m                   move the clock forward (e.g. /tick 1w, /tick 3d)
  /now                               show the simulated time
  /circle help                       the bot's own commands
  /quit                              leave"""


@dataclass(frozen=True)
class CirclePlace:
    """What the console shows of a circle: ``#handle``, and times in its zone."""

    handle: str
    zone: str


class ConsoleAdapter:
    """Prints deliveries as they leave the outbox, stamped in their reader's zone, and returns receipts."""

    platform = PLATFORM

    def __init__(
        self,
        write: Callable[[str], None],
        clock: Clock,
        place_of: Callable[[str], CirclePlace],
        pictures: PictureFolder | None = None,
        choices: Choices | None = None,
    ):
        self.write = write
        self.clock = clock
        self.place_of = place_of
        self.pictures = pictures
        self.choices = choices
        self._messages = count(1)

    async def deliver(self, outgoing: Outgoing) -> Receipt | None:
        # Printing cannot half-succeed, so a resend is simply printed.
        effect = outgoing.effect
        if isinstance(effect, RefreshHome):
            return None  # the console has no home view to refresh
        header, body = effect_lines(
            effect, outgoing.locale, self.pictures, handle_of=lambda key: self.place_of(key).handle, choices=self.choices
        )
        self.write(block(header, body, render(format_when(self.clock.now(), outgoing.tz))))
        if isinstance(effect, DirectMessage):
            channel = f"dm:{effect.to.id}"
        elif isinstance(effect, PostToCommunity):
            channel = "#community"
        else:
            channel = f"#{self.place_of(effect.circle_id).handle}"
        return Receipt(channel, str(next(self._messages)))


@dataclass
class FormInProgress:
    """A form the console is filling in with the person, one field at a time."""

    form: OpenForm
    answers: list[str]

    @property
    def done(self) -> bool:
        return len(self.answers) == len(self.form.fields)


class Console:
    def __init__(
        self,
        service: CommandService,
        runner: Runner,
        clock: Clock,
        write: Callable[[str], None],
        locale: str = "en",
        files: Path | None = None,
        pictures: PictureFolder | None = None,
        *,
        place_of: Callable[[str], CirclePlace],
        choices: Choices | None = None,
    ):
        self.service = service
        self.place_of = place_of
        self.runner = runner
        self.clock = clock
        self.write = write
        self.locale = locale
        #: The language of the person typing, as the service knows it after their last request.
        self.reading = locale
        self.files = files or Path(tempfile.mkdtemp(prefix="circlebot-files-"))
        self.pictures = pictures
        self.choices = choices or Choices()
        self.people: dict[str, Actor] = {}
        self.actor = self._actor("alice", None, False)
        self.form: FormInProgress | None = None
        # Request ids: this session's token and a line number, so a database reused by another session never repeats one.
        self._session = secrets.token_hex(4)
        self._lines = count(1)

    def _actor(self, name: str, tz: str | None, admin: bool) -> Actor:
        """The person called ``name``; a zone or admin flag given once is remembered."""
        known = self.people.get(name.lower())
        actor = Actor(
            UserRef(PLATFORM, WORKSPACE, name.lower()),
            name,
            tz or (known.tz if known else None),
            admin or (known.is_admin if known else False),
        )
        self.people[name.lower()] = actor
        return actor

    @property
    def prompt(self) -> str:
        if self.form:
            field = self.form.form.fields[len(self.form.answers)]
            return f"{self.actor.name} ({len(self.form.answers) + 1}/{len(self.form.form.fields)}) {render(field.label, self.reading)}> "
        return f"{self.actor.name}> "

    async def handle_line(self, line: str) -> bool:
        """Carry out one typed line; returns False when the person wants to quit."""
        line = line.strip()
        if self.form is not None:
            await self._answer(line)
            return True
        if not line or line.startswith("#"):
            return True
        word, _, rest = line.partition(" ")
        word = word.lower()
        if word in ("/quit", "/exit"):
            return False
        if word == "/help":
            self.write(CONSOLE_HELP)
        elif word == "/now":
            self.write(f"It is {render(format_when(self.clock.now(), self.actor.tz or 'UTC'))}.")
        elif word == "/as":
            self._switch(rest.split())
        elif word == "/tick":
            await self._tick(rest.strip())
        elif word == "/press":
            await self._press(rest.strip())
        elif word == "/circle":
            await self._send(Typed(line))
        else:
            self.write("Type /circle help for the bot's commands, or /help for the console's.")
        return True

    def _switch(self, args: list[str]) -> None:
        if not args or not re.fullmatch(r"[A-Za-z][\w.-]{0,30}", args[0]):
            self.write("Usage: /as <name> [<time zone>] [admin]")
            return
        admin = "admin" in (a.lower() for a in args[1:])
        zones = [a for a in args[1:] if a.lower() != "admin"]
        try:
            tz = parse_zone(zones[0]) if zones else None
        except CircleError as error:
            self.write(render(error.text, self.locale))
            return
        self.actor = self._actor(args[0], tz, admin)
        actor = self.actor
        self.write(f"You are now {actor.name}" + (f" ({actor.tz})" if actor.tz else "") + (", a workspace admin." if actor.is_admin else "."))

    async def _press(self, number: str) -> None:
        action = self.choices.get(int(number)) if number.isdecimal() else None
        if action is None:
            self.write("Usage: /press <N>, with N one of the numbers shown next to a button, e.g. /press 1")
            return
        await self._send(Pressed(action))

    async def _answer(self, line: str) -> None:
        """One field of the form in progress; the last one submits it."""
        if line.lower() == "/cancel":
            self.form = None
            self.write("(form cancelled; nothing was sent)")
            return
        self.form.answers.append(line)
        if self.form.done:
            form, self.form = self.form, None
            await self._send(Submitted(encode_action(form.form.action), tuple(form.answers)))

    async def _tick(self, amount: str) -> None:
        if not isinstance(self.clock, SimulatedClock):
            self.write("The clock is real in --live mode; it moves on its own.")
            return
        match = re.fullmatch(r"(\d{1,4})\s*([wdhm])", amount.lower())
        if not match:
            self.write("Usage: /tick <N>w|d|h|m, e.g. /tick 1w or /tick 3d")
            return
        step = timedelta(**{UNITS[match[2]]: int(match[1])})
        await self.runner.advance(self.clock, self.clock.now() + step)
        self.write(f"(clock: {render(format_when(self.clock.now(), self.actor.tz or 'UTC'))})")

    def _save(self, file: SendFile) -> Path:
        folder = self.files / file.to.id
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / Path(file.filename).name  # a bare name: the core never picks the folder
        path.write_text(file.content, encoding="utf-8")
        return path

    async def _send(self, what: Input) -> None:
        request = Request(self.actor, what, f"{self._session}:{next(self._lines)}")
        responses = await self.service.ahandle(request, self.clock.now())
        # Read after the request, so `/circle me language es` is answered in Spanish.
        self.reading = await self.service.areader_locale(self.actor)
        for response in responses:
            self._show(response)
        if isinstance(self.clock, SimulatedClock):
            await self.runner.run_due(self.clock.now())
        # On the real clock the service pokes the live scheduler, which sends what was queued.

    def _show(self, response: Response) -> None:
        header, body = effect_lines(
            response, self.reading, self.pictures, handle_of=lambda key: self.place_of(key).handle, choices=self.choices
        )
        if isinstance(response, SendFile):
            try:
                body.append(f"saved to {self._save(response)}")
            except OSError as error:
                body.append(f"could not save it in {self.files}: {error.strerror}")
        self.write(block(header, body))
        if isinstance(response, OpenForm):
            self.form = FormInProgress(response, [])
