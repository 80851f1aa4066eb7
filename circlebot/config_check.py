"""Is a configuration usable? One answer, in the same words, for ``circlebot config check`` and ``circlebot run``.

:func:`problems` says what makes it unusable (``run`` refuses to start on any);
:func:`report` also shows every setting, secrets masked, what each way of running
an adapter still misses, and whether the database answers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from pydantic import AliasChoices, SecretStr, ValidationError
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from circlebot.config import Settings
from storage.database import make_engine, normalise_url

#: CIRCLEBOT_SECRET_KEY's shortest length: the key that encrypts stored tokens is derived from it.
MIN_SECRET_KEY = 16
#: Seconds ``config check`` waits for the database to answer.
CONNECT_TIMEOUT = 5
#: Secrets shorter than this show no characters at all when masked.
SHOWN_TAIL_FROM = 12

#: The ways to run each adapter, and the settings each needs.
MODES: dict[str, dict[str, tuple[str, ...]]] = {
    "Slack": {
        "one workspace": ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"),
        "distribution (OAuth installs)": (
            "SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "SLACK_SIGNING_SECRET", "CIRCLEBOT_SECRET_KEY",
        ),
        "Socket Mode": ("SLACK_APP_TOKEN", "SLACK_BOT_TOKEN"),
    },
    "Discord": {"bot": ("DISCORD_TOKEN",)},
}


@dataclass(frozen=True)
class Platform:
    """One chat platform as ``circlebot run`` sees it."""

    name: str
    configured: bool
    problem: str | None
    needed: str
    start: Callable[..., Awaitable[Any]]


def platforms(settings: Settings) -> list[Platform]:
    from adapters.discord import app as discord
    from adapters.slack import app as slack

    return [
        Platform("slack", slack.slack_configured(settings), slack.slack_settings_problem(settings), slack.NEEDED,
                 slack.start),
        Platform("discord", discord.discord_configured(settings), discord.discord_settings_problem(settings),
                 discord.NEEDED, discord.start),
    ]


def problems(settings: Settings) -> list[str]:
    """Everything that makes ``settings`` unusable, each in a sentence that says what to set; empty when usable."""
    found = []
    database = database_url_problem(settings.database_url)
    if database:
        found.append(database)
    if settings.secret_key is not None and len(settings.secret_key.get_secret_value()) < MIN_SECRET_KEY:
        found.append(f"CIRCLEBOT_SECRET_KEY has fewer than {MIN_SECRET_KEY} characters: "
                     f"give it {MIN_SECRET_KEY} or more.")
    public = public_url_problem(settings.public_url) if settings.public_url is not None else None
    if public:
        found.append(public)
    chat = platforms(settings)
    found += [platform.problem for platform in chat if platform.problem]
    if not any(platform.configured for platform in chat):
        found.append("No chat platform is configured. Set, for example:\n  "
                     + "\n  ".join(platform.needed for platform in chat)
                     + "\nOr try Circlebot in a terminal, with no account: circlebot console")
    return found


def public_url_problem(url: str) -> str | None:
    """Why ``CIRCLEBOT_PUBLIC_URL`` cannot prefix calendar addresses; None when it can."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        return ("CIRCLEBOT_PUBLIC_URL is not a base URL: give where people reach this bot, "
                "e.g. https://circlebot.example.com (no query or #fragment).")
    return None


def database_url_problem(url: str) -> str | None:
    try:
        parsed = make_url(normalise_url(url))
    except ArgumentError:
        parsed = None
    if parsed is None or parsed.get_backend_name() not in ("postgresql", "sqlite"):
        return ("DATABASE_URL is not a database URL Circlebot can use: give postgresql://user:password@host/database "
                "or sqlite:///path/to/circlebot.db.")
    if parsed.get_backend_name() == "postgresql" and not (parsed.host and parsed.database):
        return "DATABASE_URL names no host or no database: postgresql://user:password@host/database."
    return None


def database_reachable(url: str) -> str | None:
    """Why the database does not answer (its password never shown); None when it does."""
    try:
        if make_url(normalise_url(url)).get_backend_name() == "postgresql":
            engine = create_engine(normalise_url(url), connect_args={"connect_timeout": CONNECT_TIMEOUT})
        else:
            engine = make_engine(url)
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        finally:
            engine.dispose()
    except SQLAlchemyError as error:
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        return f"the database does not answer: {masked_url(url, reason)}"
    return None


def env_name(field: str) -> str:
    """The environment variable a setting is read from."""
    alias = Settings.model_fields[field].validation_alias
    return alias.choices[0] if isinstance(alias, AliasChoices) else f"CIRCLEBOT_{field.upper()}"


def mask(secret: str) -> str:
    """A secret as ``config check`` shows it: its last four characters at most, so one can tell which it is."""
    return f"****{secret[-4:]}" if len(secret) >= SHOWN_TAIL_FROM else "set (hidden)"


def masked_url(url: str, text_: str | None = None) -> str:
    """``text_`` (default: the URL itself) with the URL's password hidden."""
    shown = url if text_ is None else text_
    try:
        password = make_url(normalise_url(url)).password
    except ArgumentError:
        return shown
    return shown.replace(str(password), "****") if password else shown


def shown(settings: Settings) -> list[tuple[str, str]]:
    """Every setting by environment name, as it may be printed."""
    rows = []
    for field in Settings.model_fields:
        value = getattr(settings, field)
        if value is None:
            display = "not set"
        elif isinstance(value, SecretStr):
            display = mask(value.get_secret_value())
        elif field == "database_url":
            display = masked_url(value)
        else:
            display = str(value)
        if field not in settings.model_fields_set and value is not None:
            display += " (default)"
        rows.append((env_name(field), display))
    return rows


def missing(settings: Settings) -> list[str]:
    """For each adapter, each way to run it: ready, or the settings it still needs."""
    values = {env_name(field): getattr(settings, field) for field in Settings.model_fields}
    lines = []
    for adapter, modes in MODES.items():
        for mode, needs in modes.items():
            lacking = [name for name in needs if not values.get(name)]
            lines.append(f"{adapter}, {mode}: " + (f"missing {', '.join(lacking)}" if lacking else "ready"))
    return lines


def report(settings: Settings, check_database: bool = True) -> tuple[list[str], list[str]]:
    """What ``circlebot config check`` prints: the report's lines, and the problems (none: usable)."""
    width = max(len(name) for name, _ in shown(settings))
    lines = ["Settings (from the environment and .env):"]
    lines += [f"  {name:<{width}}  {value}" for name, value in shown(settings)]
    lines += ["", "Adapters:"] + [f"  {line}" for line in missing(settings)]
    found = problems(settings)
    if check_database and not database_url_problem(settings.database_url):
        unreachable = database_reachable(settings.database_url)
        lines += ["", f"Database: {unreachable or 'reachable'}"]
        if unreachable:
            found.append(f"DATABASE_URL: {unreachable}.")
    return lines, found


def settings_error(error: ValidationError) -> str:
    """A setting pydantic could not read, named as it is set (its value is never shown: it may be a secret)."""
    def name(loc: tuple) -> str:
        first = str(loc[0]) if loc else "?"
        return env_name(first) if first in Settings.model_fields else first.upper()

    return "invalid settings: " + "; ".join(f"{name(e['loc'])}: {e['msg']}" for e in error.errors())
