"""Odd and hostile input through the whole command path (grammar, core, storage), on SQLite and PostgreSQL.

The examples come first, one per crash once found; then a property-based fuzz
(marked ``slow``; CI runs it) types random and half-right commands as people in
two workspaces while the clock moves, and checks that no exception escapes the
service and that a refused command leaves every stored row as it was.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from dbfixtures import database_url, engine, pg_schema  # noqa: F401  (fixtures)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, MetaData, delete, insert, select

from bot.circle import Actor, UserRef
from bot.effects import Reply, Response
from bot.grammar import SUBCOMMANDS
from bot.i18n import _, render
from bot.text import MAX_INPUT
from circlebot.service import CircleService
from kits import builtin_kits
from storage.database import make_engine, upgrade
from storage.repository import Store

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
SORRY = _("Sorry")


def command(service: CircleService, actor: Actor, text: str, now: datetime) -> list[Response]:
    """One typed command, as an adapter hands it to the service: the only place these tests call it."""
    return service.run(actor, text, now)


def refused(responses: list[Response]) -> bool:
    return any(isinstance(r, Reply) and r.message.title == SORRY for r in responses)


def said(responses: list[Response]) -> str:
    return "\n".join(
        "\n".join(render(part) for part in (r.message.title or "", *r.message.lines))
        for r in responses
        if isinstance(r, Reply)
    )


def person(name: str, workspace: str = "T1", tz: str | None = None, admin: bool = False) -> Actor:
    return Actor(UserRef("slack", workspace, name), name.title(), tz, admin)


ALICE, BOB, CAROL = person("alice"), person("bob"), person("carol")


def rows(engine: Engine) -> dict[str, list[tuple]]:
    """Every stored row of every table, in a stable order: what a refused command must leave alone."""
    metadata = MetaData()
    metadata.reflect(engine)
    with engine.connect() as connection:
        return {
            table.name: sorted(tuple(map(repr, row)) for row in connection.execute(select(table)))
            for table in metadata.sorted_tables
        }


@pytest.fixture
def service(engine) -> CircleService:
    return CircleService(Store(engine), builtin_kits(), timedelta(hours=6))


# ---------------------------------------------------------------- the examples


@pytest.mark.parametrize(
    "text",
    [
        '/circle new "Crew" starter UTC tue 99999999999999999999:00',
        '/circle new "Crew" starter UTC tue 17:99999999999999999999',
    ],
)
def test_an_impossible_hour_in_new_is_a_usage_error(service, engine, text):
    before = rows(engine)
    answer = command(service, ALICE, text, T0)
    assert refused(answer) and "Use 24-hour HH:MM" in said(answer)
    assert rows(engine) == before


def test_an_impossible_hour_in_reschedule_is_a_usage_error(service, engine):
    command(service, ALICE, '/circle new "Crew" starter UTC tue 17:00', T0)
    before = rows(engine)
    answer = command(service, ALICE, "/circle reschedule tue 99999999999999999999:00", T0)
    assert refused(answer) and "Use 24-hour HH:MM" in said(answer)
    assert rows(engine) == before


@pytest.mark.parametrize("day", ["9999-12-31", "9999-12-30", "2029-01-01"])
def test_a_shared_date_far_ahead_is_refused(service, engine, day):
    command(service, ALICE, '/circle new "Crew" starter UTC tue 17:00', T0)
    command(service, ALICE, "/circle support", T0)
    before = rows(engine)
    answer = command(service, ALICE, f"/circle support date {day} far future", T0)
    assert refused(answer) and "Give a date within two years, up to Thu 30 Nov 2028" in said(answer)
    assert rows(engine) == before


@pytest.mark.parametrize(
    ("name", "stored"),
    [("\ud800", "\ufffd"), ("Cr\udfffew", "Cr\ufffdew"), ("Cr\x00ew", "Crew"), ("Cr\x1b[2Jew", "Cr[2Jew")],
    ids=["lone surrogate", "surrogate inside", "NUL", "escape"],
)
def test_a_name_with_characters_that_cannot_be_stored_is_cleaned(service, name, stored):
    formed = said(command(service, ALICE, f'/circle new "{name}" starter UTC tue 17:00', T0))
    assert f"You moderate \u201c{stored}\u201d" in formed
    assert f"Circle \u201c{stored}\u201d" in said(command(service, ALICE, "/circle info", T0))


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("/circle info #cr\udfffew", "There is no circle \u201ccr\ufffdew\u201d here."),
        ("/circle info #cr\x00ew", "Circle \u201cCrew\u201d (#crew)"),
        ("/circle join cr\x00ew", "You are already in"),
    ],
)
def test_a_circle_id_or_text_with_such_characters_is_cleaned_before_the_database_sees_it(service, text, answer):
    command(service, ALICE, '/circle new "Crew" starter UTC tue 17:00', T0)
    assert answer in said(command(service, ALICE, text, T0))


def test_free_text_with_such_characters_is_stored_cleaned(service):
    command(service, ALICE, '/circle new "Crew" starter UTC tue 17:00', T0)
    command(service, ALICE, "/circle support", T0)
    answer = said(command(service, ALICE, "/circle support date 2027-01-05 Mum\x00\ud800 day", T0))
    assert "A date you shared: Tue 5 Jan 2027 \u2014 Mum\ufffd day" in answer


def test_oversized_input_is_refused_and_changes_nothing(service, engine):
    command(service, ALICE, '/circle new "Crew" starter UTC tue 17:00', T0)
    before = rows(engine)
    answer = command(service, ALICE, "/circle commit " + "x" * MAX_INPUT, T0)
    assert refused(answer) and f"at most {MAX_INPUT} characters" in said(answer)
    assert rows(engine) == before
