"""Log lines: one event a line, as JSON in production and as readable text in a console; never a secret.

An event about a circle or a delivery names them as fields, not only in its
message: ``log.warning("...", extra=about(circle_id, key))`` gives the JSON line
``"circle"`` and ``"key"`` (the outbox key), so an operator can follow one
delivery through every line. While a delivery is carried out (:func:`delivering`),
every line logged meanwhile names them too, the libraries' own lines included
(discord.py saying it waits out a 429, say). Every known secret (the settings' tokens, the
database password) is replaced by ``****`` wherever it shows up in a line. What
members write is never logged by Circlebot, and the libraries that would log
request bodies at debug level (Slack's, Discord's) are kept at INFO.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import IO

from pydantic import SecretStr
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from circlebot.config import Settings
from storage.database import normalise_url

#: The fields an event may carry beside its message.
CONTEXT = ("circle", "key")
#: Their debug lines carry request bodies (a member's answers) and headers (tokens): never below INFO.
CHATTY = ("slack_sdk", "slack_bolt", "discord", "aiohttp", "websockets")
#: Their info lines are SQL with its parameters (answers again), or routine noise (every job run): warnings only.
QUIET = ("sqlalchemy", "alembic.runtime.plugins", "apscheduler")
#: Shorter secrets are not looked for: replacing them would mangle ordinary words.
SHORTEST_SECRET = 6


def about(circle: str | None = None, key: str | None = None) -> dict[str, dict[str, str]]:
    """``extra=`` for a log call about a circle and, when there is one, an outbox key."""
    return {"extra": {name: value for name, value in (("circle", circle), ("key", key)) if value}}


#: The circle and key of the delivery this task is carrying out, if it is carrying one out.
_DELIVERING: ContextVar[dict[str, str]] = ContextVar("circlebot_delivering", default={})


@contextmanager
def delivering(circle: str, key: str) -> Iterator[None]:
    """Every line logged inside (by this task and the tasks it starts) names ``circle`` and ``key``."""
    token = _DELIVERING.set(about(circle, key)["extra"])
    try:
        yield
    finally:
        _DELIVERING.reset(token)


def secrets_of(settings: Settings) -> list[str]:
    """Every secret ``settings`` hold: tokens, signing and client secrets, the key, the database password."""
    found = [value.get_secret_value() for value in dict(settings).values() if isinstance(value, SecretStr)]
    try:
        found.append(make_url(normalise_url(settings.database_url)).password or "")
    except ArgumentError:
        pass
    return [secret for secret in found if len(secret) >= SHORTEST_SECRET]


class _Redacting(logging.Formatter):
    def __init__(self, secrets: Iterable[str] = ()):
        super().__init__()
        self.secrets = sorted(set(secrets), key=len, reverse=True)  # a secret inside a longer one goes second

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "****")
        return text

    def context(self, record: logging.LogRecord) -> dict[str, str]:
        around = _DELIVERING.get()  # the formatter runs in the task that logged the line
        found = {name: getattr(record, name, None) or around.get(name) for name in CONTEXT}
        return {name: str(value) for name, value in found.items() if value}


class JsonLines(_Redacting):
    """One JSON object a line: time (UTC), level, logger, message, circle, key, error."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            **self.context(record),
        }
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps({name: self.redact(value) for name, value in entry.items()}, ensure_ascii=False)


class Readable(_Redacting):
    """``time LEVEL logger: message [circle=... key=...]``, a traceback below when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        time = datetime.fromtimestamp(record.created).astimezone().strftime("%Y-%m-%d %H:%M:%S")
        line = f"{time} {record.levelname} {record.name}: {record.getMessage()}"
        context = self.context(record)
        if context:
            line += " [" + " ".join(f"{name}={value}" for name, value in context.items()) + "]"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return self.redact(line)


class _StandardError(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is when a line is written (a test's capture, and after it, the real one)."""

    def __init__(self):
        super().__init__(sys.stderr)

    @property
    def stream(self) -> IO[str]:
        return sys.stderr

    @stream.setter
    def stream(self, _stream: IO[str]) -> None:
        pass


def configure_logging(
    level: str, form: str, secrets: Iterable[str] = (), stream: IO[str] | None = None
) -> logging.Handler:
    """Send every log line to ``stream`` (standard error) as ``form`` says: ``json`` or ``text``.

    Returns:
        The handler, which replaced the root logger's handlers.
    """
    handler = logging.StreamHandler(stream) if stream else _StandardError()
    handler.setFormatter(JsonLines(secrets) if form == "json" else Readable(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in CHATTY:
        logging.getLogger(name).setLevel(max(logging.INFO, root.level))
    for name in QUIET:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
    return handler
