"""The ``circlebot`` command: the console demo, kit validation, database migrations, statistics."""

from __future__ import annotations

import argparse
import asyncio
import io
import logging
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from circlebot.config import Settings
from kits import KitError, load_kit
from kits.loader import kit_files

if TYPE_CHECKING:
    from sqlalchemy import Engine

#: The simulated clock starts within these years: far enough from the ends of the calendar for every plan.
START_RANGE = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))


class OptionError(Exception):
    """A command-line option that cannot be used; the message says which and why."""


def _validate(paths: list[str]) -> int:
    """Check kit files; a folder stands for its kit files, which must not share an id (as when installed)."""
    failed = 0
    for given in map(Path, paths):
        files = kit_files(given) if given.is_dir() else [given]
        if not files:
            failed += 1
            print(f"{given}: no kit files (*.yaml) in this folder", file=sys.stderr)
        seen: dict[str, Path] = {}
        for path in files:
            try:
                kit = load_kit(path)
            except KitError as error:
                failed += 1
                for problem in error.problems:
                    print(f"{error.path}: {problem}", file=sys.stderr)
                continue
            if given.is_dir() and kit.id in seen:
                failed += 1
                print(f"{path}: id: kit id {kit.id!r} is used by another kit ({seen[kit.id]})", file=sys.stderr)
                continue
            seen[kit.id] = path
            languages = f", translated into {', '.join(sorted(kit.translations))}" if kit.translations else ""
            print(f"{path}: ok \u2014 {kit.id}, {kit.length} meetings, {kit.cadence.value}{languages}")
    return 1 if failed else 0


def _list_kits(settings: Settings) -> int:
    from circlebot.wiring import installed_kits

    for kit in installed_kits(settings).values():
        print(f"{kit.id:12} {kit.length:2} meetings, {kit.cadence.value:8} {kit.name}")
    return 0


def _db_upgrade(settings: Settings) -> int:
    from storage.database import make_engine, upgrade

    upgrade(make_engine(settings.database_url))
    print("database is up to date")
    return 0


def _db_outbox(settings: Settings) -> int:
    """How the deliveries stand, and which were parked after failing (for the operator)."""
    from storage.database import make_engine
    from storage.outbox import PARKED, Outbox

    outbox = Outbox(make_engine(settings.database_url))
    for status, count in sorted(outbox.counts().items()):
        print(f"{status:10} {count}")
    for key in outbox.keys(PARKED):
        print(f"parked: {key}")
    return 0


def _shown(url: str) -> str:
    """``url`` as it may be printed: without its password."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - an unparseable URL is shown by its scheme only
        return url.partition(":")[0] + ":..."


def _engine(url: str, *, migrate: bool) -> Engine:
    """An engine for ``url`` (brought up to date when ``migrate``).

    Raises:
        OptionError: the URL names no database this can use, or the database cannot be opened.
    """
    from alembic.util import CommandError
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

    from storage.database import make_engine, upgrade

    try:
        engine = make_engine(url)
    except (ArgumentError, NoSuchModuleError, ImportError, ValueError) as error:
        raise OptionError(f"--db {_shown(url)}: not a database URL Circlebot can use ({error})") from None
    if migrate:
        try:
            upgrade(engine)
        except (SQLAlchemyError, CommandError, OSError) as error:
            raise OptionError(f"--db {_shown(url)}: cannot open the database ({getattr(error, 'orig', None) or error})") from None
    return engine


def _stats(settings: Settings, database: str | None, place: tuple[str, str] | None) -> int:
    """Print the admins' statistics for one workspace, or for every workspace with circles."""
    from sqlalchemy.exc import DBAPIError

    from adapters.console.render import block, message_lines
    from bot.stats import stats_message, workspace_stats
    from storage.repository import Store

    url = database or settings.database_url
    try:
        with Store(_engine(url, migrate=False)).transaction() as tx:
            places = [place] if place else tx.workspaces()
            reports = [(where, stats_message(workspace_stats(tx.tally(*where)))) for where in places]
    except DBAPIError as error:
        print(f"cannot read circles from {_shown(url)}: {error.orig}. Has `circlebot db upgrade` been run?", file=sys.stderr)
        return 1
    if not reports:
        print("no circles yet")
    for (platform, workspace), message in reports:
        print(block(f"{platform} {workspace}", message_lines(message, settings.locale)))
    return 0


def _start_time(text: str | None) -> datetime:
    """The simulated clock's start: ``--start`` (ISO 8601 with a zone), or now.

    Raises:
        OptionError: not a time, no zone (which zone was meant is not guessed), or outside :data:`START_RANGE`.
    """
    if text is None:
        return datetime.now(UTC)
    example = "e.g. 2026-12-01T09:00:00+00:00"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise OptionError(f"--start {text}: not an ISO 8601 time, {example}") from None
    if moment.tzinfo is None:
        raise OptionError(f"--start {text}: add a time zone, e.g. {text}+00:00 or {text}+01:00")
    earliest, latest = START_RANGE
    if not earliest <= moment < latest:
        raise OptionError(f"--start {text}: give a time from {earliest.year} to {latest.year - 1}, {example}")
    return moment


def _folder(option: str, given: str | None, prefix: str) -> Path:
    """The folder ``option`` names, created if need be and checked writable; a fresh temporary one by default.

    Raises:
        OptionError: the folder cannot be created or written to.
    """
    if given is None:
        return Path(tempfile.mkdtemp(prefix=prefix))
    folder = Path(given)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=folder).close()
    except OSError as error:
        raise OptionError(f"{option} {given}: cannot write files there ({error.strerror or error})") from None
    return folder


@contextmanager
def _main_thread_only(signum: int) -> Iterator[None]:
    """Threads started inside never receive ``signum``; it goes to the main thread alone.

    The kernel hands a signal to any thread that does not block it. Handled on another thread, it
    would not interrupt the main thread's ``input()``, so Ctrl-C could go unnoticed until Enter.
    """
    if not hasattr(signal, "pthread_sigmask"):  # pragma: no cover - Windows delivers signals to the main thread
        yield
        return
    signal.pthread_sigmask(signal.SIG_BLOCK, {signum})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signum})


def _read_lines(interactive: bool, prompt: Callable[[], str], echo: Callable[[str], None]) -> Iterator[str]:
    """The lines typed (with line editing and history on a terminal) or piped in, until end of input."""
    if interactive:
        try:
            import readline  # noqa: F401 - imported for its effect: input() gains editing and history
        except ImportError:  # pragma: no cover - not on every platform
            pass
    while True:
        if interactive:
            try:
                yield input(prompt())
            except EOFError:
                return
        else:
            line = sys.stdin.readline()
            if not line:
                return
            echo(f"{prompt()}{line.rstrip()}")
            yield line


def _console(
    settings: Settings, database: str | None, start: str | None, live: bool, files: str | None, pictures: str | None
) -> int:
    # Threads started while setting up (the event loop's, the scheduler's, those libraries start on import)
    # and the threads they start never receive Ctrl-C; see _main_thread_only.
    with _main_thread_only(signal.SIGINT):
        from adapters.console.app import CirclePlace, Console, ConsoleAdapter
        from adapters.console.render import Choices, PictureFolder
        from circlebot.wiring import installed_kits, wire
        from scheduler.clock import SimulatedClock, SystemClock
        from scheduler.leader import leader_for
        from scheduler.live import LiveScheduler

        # Every option is checked before anything starts, so a mistake is one clear line (exit code 2).
        clock = SystemClock() if live else SimulatedClock(_start_time(start))
        files_folder = _folder("--files", files, "circlebot-files-")
        folder = PictureFolder(_folder("--pictures", pictures, "circlebot-pictures-"))
        if database is None:
            # A fresh file per demo: the simulated clock must not meet last session's circles.
            database = f"sqlite:///{tempfile.mkdtemp(prefix='circlebot-')}/console.db"
        app = wire(_engine(database, migrate=True), installed_kits(settings), settings.grace, settings.locale,
                   settings.public_url)
        store, service = app.store, app.commands
        # One process delivers from a database at a time. A live console beside a running bot stands
        # by (and says so); a simulated clock must have the database to itself, or it would send for both.
        leader = leader_for(app.engine)
        if not live and not leader.acquire():
            raise SystemExit(f"Another process holds {leader.holds} and delivers its messages. The console's "
                             "simulated clock needs it to itself: stop that process, or use --live beside it.")

        places: dict[str, CirclePlace] = {}  # a circle's handle and zone never change: one query per circle, not per message

        def place_of(circle_id: str) -> CirclePlace:
            if circle_id not in places:
                with store.transaction() as tx:
                    circle = tx.load(circle_id)
                places[circle_id] = CirclePlace(circle.handle, circle.tz) if circle else CirclePlace("?", "UTC")
            return places[circle_id]

        def write(text: str) -> None:
            print(text, flush=True)

        # Bytes that are not UTF-8 arrive as U+FFFD (and the grammar cleans the rest); they never end the session.
        for stream in (sys.stdin, sys.stdout):
            if isinstance(stream, io.TextIOWrapper):
                stream.reconfigure(errors="replace")
        choices = Choices()
        runner = app.runner(ConsoleAdapter(write, clock, place_of, folder, choices))
        console = Console(
            service, runner, clock, write, settings.locale, files_folder, folder, place_of=place_of, choices=choices
        )
        interactive = sys.stdin.isatty()
        if interactive:
            write("Circlebot console. You are alice. Type /help for console commands, /circle help for the bot's.")

        # The event loop (the console's work and the live scheduler) runs on its own thread; lines are read
        # here on the main thread, where Ctrl-C arrives as KeyboardInterrupt and input() can use readline.
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name="console-loop", daemon=True)
        thread.start()
        scheduler = LiveScheduler(runner, leader, clock, notify=write) if live else None

    async def begin() -> None:
        if scheduler:
            service.on_change = scheduler.poke
            scheduler.start()

    async def finish() -> None:
        if scheduler:
            await scheduler.shutdown(last_run=True)  # what the last commands queued goes out before we leave

    pending = None
    try:
        asyncio.run_coroutine_threadsafe(begin(), loop).result()
        for line in _read_lines(interactive, lambda: console.prompt, write):
            pending = asyncio.run_coroutine_threadsafe(console.handle_line(line), loop)
            if not pending.result():
                break
        code = 0
    except KeyboardInterrupt:
        write("")  # end the line the ^C was typed on
        if pending is not None:
            pending.cancel()  # a long /tick stops at its next step
        code = 130
    finally:
        asyncio.run_coroutine_threadsafe(finish(), loop).result()
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.close()
        leader.release()
    return code


def _run(settings: Settings) -> int:
    """Serve every chat platform that has settings, with the scheduler, until SIGINT or SIGTERM."""
    import signal

    from adapters.contract import AdapterRouter
    from circlebot import config_check
    from circlebot.endpoints import Endpoints
    from circlebot.tick_process import TickProcess, wanted
    from circlebot.wiring import build
    from scheduler.clock import SystemClock
    from scheduler.leader import leader_for
    from scheduler.live import LiveScheduler

    problems = config_check.problems(settings)
    if problems:  # the same words as `circlebot config check`
        print("\n".join(problems), file=sys.stderr)
        return 2
    chosen = [platform for platform in config_check.platforms(settings) if platform.configured]
    app, clock = build(settings), SystemClock()
    endpoints = Endpoints(app.engine, app.outbox, calendar=lambda token: app.commands.calendar_feed(token, clock.now()))

    # Made before any command runs: from then on the store counts open commands where the ticking process sees them.
    # Its process starts at the first tick, so only the replica that leads runs one.
    ticker = TickProcess(app.ticker, app.engine.url) if wanted(settings.tick_process, app.engine.url) else None

    async def serve() -> None:
        # /healthz and /metrics join Slack's HTTP server; without one, they have the port to themselves.
        running = [await platform.start(settings, app, clock, **({"routes": endpoints.routes()} if platform.name
                                                                 == "slack" else {})) for platform in chosen]
        slack_serves = any(platform.name == "slack" for platform in chosen) and not settings.slack_app_token
        alone = None if slack_serves else await endpoints.serve(settings.port)
        endpoints.adapters = {r.adapter.platform: r.connected for r in running}
        runner = app.runner(AdapterRouter({r.adapter.platform: r.adapter for r in running}), ticker)
        scheduler = LiveScheduler(runner, leader_for(app.engine), clock)
        endpoints.scheduler = scheduler
        app.commands.on_change = scheduler.poke
        scheduler.start()
        stop = asyncio.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            asyncio.get_running_loop().add_signal_handler(signum, stop.set)
        try:
            await stop.wait()
        finally:
            await scheduler.shutdown()
            if ticker is not None:
                await asyncio.to_thread(ticker.close)
            for platform in running:
                await platform.stop()
            if alone is not None:
                await alone.cleanup()

    asyncio.run(serve())
    return 0


def _config_check(settings: Settings) -> int:
    """Print every setting (secrets masked), what each adapter still needs, and whether the database answers."""
    from circlebot.config_check import report

    lines, problems = report(settings)
    print("\n".join(lines))
    if problems:
        print("\nThis configuration cannot run:\n" + "\n".join(f"- {problem}" for problem in problems), file=sys.stderr)
        return 1
    print("\nThis configuration can run: circlebot run")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="circlebot", description="Peer-support circles for Slack and Discord.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="serve Slack and Discord (those with settings) and run the scheduler")
    console = sub.add_parser("console", help="a terminal chat with a simulated clock")
    console.add_argument("--db", help="database URL (default: a fresh temporary SQLite file)")
    console.add_argument("--start", help="simulated start time, ISO 8601 with zone (default: now)")
    console.add_argument("--live", action="store_true", help="run on the real clock with APScheduler instead of /tick")
    console.add_argument("--files", help="folder for files the bot sends, such as exports (default: a temporary folder)")
    console.add_argument("--pictures", help="folder for the progress card pictures (default: a temporary folder)")
    stats = sub.add_parser("stats", help="the admins' statistics: circles, completion, attendance by week")
    stats.add_argument("--db", help="database URL (default: DATABASE_URL)")
    stats.add_argument("--platform", help="with --workspace: only this workspace (default: every workspace)")
    stats.add_argument("--workspace", help="the workspace id, e.g. a Slack team or Discord guild")
    kits = sub.add_parser("kits", help="list or validate kits")
    kits_sub = kits.add_subparsers(dest="kits_command", required=True)
    validate = kits_sub.add_parser("validate", help="check kit files against the schema")
    validate.add_argument("paths", nargs="+")
    kits_sub.add_parser("list", help="the installed kits")
    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="apply migrations to DATABASE_URL")
    db_sub.add_parser("outbox", help="count deliveries by status and list the parked ones")
    config = sub.add_parser("config", help="check the configuration")
    config.add_subparsers(dest="config_command", required=True).add_parser(
        "check", help="what is set (secrets masked), what each adapter misses, whether the database answers")
    discord_cmd = sub.add_parser("discord", help="Discord: sync the /circle command")
    discord_sub = discord_cmd.add_subparsers(dest="discord_command", required=True)
    sync = discord_sub.add_parser("sync", help="put /circle on Discord (200 creates a day per server: sync on purpose)")
    sync.add_argument("--guild", type=int, help="sync to one server (at once) instead of globally")
    args = parser.parse_args(argv)
    if args.command == "stats" and (args.platform is None) != (args.workspace is None):
        parser.error("stats: give --platform and --workspace together")

    try:
        settings = Settings()
    except ValidationError as error:  # a bad setting is named, not a traceback
        from circlebot.config_check import settings_error

        print(settings_error(error), file=sys.stderr)
        return 2
    from circlebot.logs import configure_logging, secrets_of

    # JSON lines where a machine reads the log (`run`, in a container), readable text at a terminal.
    form = settings.log_format or ("json" if args.command == "run" else "text")
    configure_logging(settings.log_level, form, secrets_of(settings))
    if args.command in ("console", "stats"):
        logging.getLogger().setLevel(logging.WARNING)  # their own output is the conversation, or the report
    try:
        if args.command == "kits":
            return _validate(args.paths) if args.kits_command == "validate" else _list_kits(settings)
        if args.command == "db":
            return _db_upgrade(settings) if args.db_command == "upgrade" else _db_outbox(settings)
        if args.command == "run":
            return _run(settings)
        if args.command == "config":
            return _config_check(settings)
        if args.command == "discord":
            from adapters.discord.app import sync_now

            return sync_now(settings, args.guild)
        if args.command == "stats":
            return _stats(settings, args.db, (args.platform, args.workspace) if args.platform else None)
        return _console(settings, args.db, args.start, args.live, args.files, args.pictures)
    except KitError as error:
        print(str(error), file=sys.stderr)
        return 1
    except OptionError as error:
        print(f"circlebot {args.command}: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # Ctrl-C before the console was ready, or in another command: leave quietly
        print(file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
