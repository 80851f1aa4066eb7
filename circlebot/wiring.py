"""Build the application from settings, once, the same way for the console, ``circlebot run`` and tests.

Storage (with its migrations applied), the installed kits, the command service
(what adapters call), the ticker (what the scheduler calls) and the outbox.
The adapters and the scheduler are added by whoever runs them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Engine

from circlebot.config import Settings
from circlebot.service import CommandService
from circlebot.tick_process import TickProcess
from circlebot.ticker import Ticker
from kits import builtin_kits, load_kits
from kits.loader import kit_files
from kits.schema import Kit
from scheduler.delivery import Sender
from scheduler.runner import Runner
from storage.database import make_engine, upgrade
from storage.outbox import Outbox
from storage.repository import Store


def installed_kits(settings: Settings) -> dict[str, Kit]:
    """The built-in kits plus any in ``CIRCLEBOT_KITS_DIR`` (which may override one by id).

    The workplace's own support resources come first in every kit's list.
    """
    kits = builtin_kits()
    if settings.kits_dir:
        kits.update(load_kits(kit_files(settings.kits_dir)))
    if settings.support_resources:

        def with_ours(kit: Kit) -> Kit:
            resources = (*settings.support_resources, *kit.support.resources)
            return kit.model_copy(update={"support": kit.support.model_copy(update={"resources": resources})})

        for kit_id, kit in kits.items():
            kits[kit_id] = with_ours(kit).with_translations({lang: with_ours(t) for lang, t in kit.translations.items()})
    return kits


@dataclass
class Wiring:
    engine: Engine
    store: Store
    outbox: Outbox
    kits: Mapping[str, Kit]
    commands: CommandService
    ticker: Ticker

    def runner(self, sender: Sender, ticker: Ticker | TickProcess | None = None) -> Runner:
        """Ticks (by ``ticker``, default this process's) and deliveries through ``sender`` (an adapter, or several behind a router)."""
        return Runner(ticker or self.ticker, self.outbox, sender)


def build(settings: Settings, database_url: str | None = None, *, migrate: bool = True) -> Wiring:
    """Everything but the adapters and the scheduler, from ``settings``.

    Args:
        database_url: overrides ``DATABASE_URL`` (the console's ``--db``, a test's database).
        migrate: bring the schema up to date first (optional before ``run`` on SQLite, as with the console).

    Raises:
        KitError: a kit in ``CIRCLEBOT_KITS_DIR`` does not validate.
    """
    engine = make_engine(database_url or settings.database_url)
    if migrate:
        upgrade(engine)
    return wire(engine, installed_kits(settings), settings.grace, settings.locale, settings.public_url)


def wire(
    engine: Engine, kits: Mapping[str, Kit], grace: timedelta, locale: str = "en", public_url: str | None = None
) -> Wiring:
    """The parts on an engine whose schema is up to date (tests and benchmarks bring their own)."""
    store = Store(engine)
    return Wiring(
        engine=engine,
        store=store,
        outbox=Outbox(engine),
        kits=kits,
        commands=CommandService(store, kits, locale, public_url=public_url),
        ticker=Ticker(store, kits, grace, locale),
    )
