"""What ``/metrics`` shows (Prometheus text, with prometheus-client): every series in one place.

The command service, the delivery pass, the pacer and the live scheduler each
call one function here where the thing happens; the outbox's depth and the
leader's status are read when ``/metrics`` is asked (:func:`refresh`).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from prometheus_client import Counter, Gauge, Histogram

COMMANDS = Counter(
    "circlebot_commands", "Commands handled, by kind (new_circle, join, check_in, ...) and outcome (ok; refused: the person's "
    "mistake or not allowed; failed: the database did not carry it out).",
    ["kind", "outcome"],
)
ACKNOWLEDGED = Histogram(
    "circlebot_command_ack_seconds", "Seconds from a request reaching the command service to its answer, by platform.",
    ["platform"], buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0),
)
DELIVERIES = Counter(
    "circlebot_deliveries", "Deliveries by outcome: sent; failed (to be retried); late (too late to send, skipped); "
    "parked (failed for good).", ["outcome", "platform"],
)
OUTBOX_DEPTH = Gauge("circlebot_outbox_depth", "Deliveries waiting in the outbox: pending, or being sent.", ["status"])
RATE_LIMIT_WAITS = Counter(
    "circlebot_rate_limit_waits",
    "Sends that waited for a rate limit: pace (our own spacing) or 429 (the platform said so).",
    ["reason"],
)
PLATFORM_ERRORS = Counter(
    "circlebot_platform_errors",
    "Answers from a chat platform that were errors of its own, by platform and kind: 5xx, unreadable (not JSON), "
    "timeout (no answer in time), unreachable (no connection).", ["platform", "kind"],
)
RATE_LIMIT_WAITED = Counter("circlebot_rate_limit_wait_seconds", "Seconds sends waited for rate limits.", ["reason"])
CONNECTIONS_LOST = Counter(
    "circlebot_database_connections_lost",
    "Database connections dropped under a transaction (a restart, a failover); each transaction ran again on a fresh one.",
)
LEADER = Gauge(
    "circlebot_scheduler_leader", "1 while this process runs the scheduler and delivers; 0 while it stands by."
)
SCHEDULER_RUNS = Counter(
    "circlebot_scheduler_runs", "Scheduler runs by outcome: ran (as leader), standby, failed.", ["outcome"]
)


def kind_of(command: object) -> str:
    """A command's kind as a label: ``NewCircle`` -> ``new_circle``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(command).__name__).lower().removesuffix("_command")


@dataclass
class CommandSeen:
    """One command on its way through the service: its kind and outcome are filled in as they become known."""

    platform: str
    kind: str = "unreadable"
    outcome: str = "ok"


@contextmanager
def command(platform: str) -> Iterator[CommandSeen]:
    """Count one command and time its answer (the ``with`` block)."""
    seen = CommandSeen(platform)
    started = time.perf_counter()
    try:
        yield seen
    finally:
        COMMANDS.labels(seen.kind, seen.outcome).inc()
        ACKNOWLEDGED.labels(platform).observe(time.perf_counter() - started)


def delivery(outcome: str, platform: str) -> None:
    DELIVERIES.labels(outcome, platform or "unknown").inc()


def platform_error(platform: str, kind: str) -> None:
    PLATFORM_ERRORS.labels(platform, kind).inc()


def rate_limit_wait(reason: str, seconds: float) -> None:
    RATE_LIMIT_WAITS.labels(reason).inc()
    RATE_LIMIT_WAITED.labels(reason).inc(seconds)


def connection_lost() -> None:
    CONNECTIONS_LOST.inc()


def scheduler_ran(outcome: str) -> None:
    SCHEDULER_RUNS.labels(outcome).inc()


def refresh(depth: dict[str, int] | None, leading: bool) -> None:
    """Set before a scrape: the outbox's depth (``Outbox.depth``; None: it could not be counted), the leader's status."""
    if depth is not None:
        for status in ("pending", "sending"):
            OUTBOX_DEPTH.labels(status).set(depth.get(status, 0))
    LEADER.set(1 if leading else 0)
