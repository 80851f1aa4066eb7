"""Odd and hostile input through the whole command path (grammar, core, storage), on SQLite and PostgreSQL.

The examples come first, one per crash once found; then a property-based fuzz
(marked ``slow``; CI runs it) types random and half-right commands as people in
two workspaces while the clock moves, and checks that no exception escapes the
service and that a refused command leaves every stored row as it was.
"""

from __future__ import annotations

import itertools
import re
from datetime import UTC, date, datetime, timedelta

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
from bot.inputs import Request, Typed
from circlebot.wiring import Wiring, wire
from kits import builtin_kits
from storage.database import make_engine, upgrade

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
SORRY = _("Sorry")


REQUEST_IDS = itertools.count()


def command(service: Wiring, actor: Actor, text: str, now: datetime) -> list[Response]:
    """One typed command, as an adapter hands it to the service: the only place these tests call it."""
    return service.commands.handle(Request(actor, Typed(text), f"hostile-{next(REQUEST_IDS)}"), now)


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


class Tables:
    """Every table of a database: all their rows at once, and putting back rows read earlier."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.metadata = MetaData()
        self.metadata.reflect(engine)

    def rows(self) -> dict[str, list[dict]]:
        """Every stored row, in a stable order: what a refused command must leave alone."""
        with self.engine.connect() as connection:
            return {
                table.name: sorted((dict(row._mapping) for row in connection.execute(select(table))), key=repr)
                for table in self.metadata.sorted_tables
            }

    def restore(self, rows: dict[str, list[dict]]) -> None:
        with self.engine.begin() as connection:
            for table in reversed(self.metadata.sorted_tables):
                connection.execute(delete(table))
            for table in self.metadata.sorted_tables:
                if rows[table.name]:
                    connection.execute(insert(table), rows[table.name])


def rows(engine: Engine) -> dict[str, list[dict]]:
    return Tables(engine).rows()


@pytest.fixture
def service(engine) -> Wiring:
    return wire(engine, builtin_kits(), timedelta(hours=6))


@pytest.fixture
def fuzz_world(engine):
    """The service, its tables, the rows of the world every fuzz example starts from, and its time."""
    service = wire(engine, builtin_kits(), timedelta(hours=6))
    for who, text in SETUP:
        assert not refused(command(service, PEOPLE[who], text, T0)), text
    start = T0 + timedelta(days=8)
    service.ticker.tick_due(start)
    tables = Tables(engine)
    return service, tables, tables.rows(), start


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
    command(service, ALICE, "/circle support open", T0)
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
    command(service, ALICE, "/circle support open", T0)
    answer = said(command(service, ALICE, "/circle support date 2027-01-05 Mum\x00\ud800 day", T0))
    assert "A date you shared: Tue 5 Jan 2027 \u2014 Mum\ufffd day" in answer


@pytest.mark.parametrize(
    ("name", "shown"), [("Al\ud800ice", "Al\ufffdice"), ("Bo\x00b", "Bob"), ("\x07\x1b", "zed"), ("y" * 5000, "y" * 80)]
)
def test_a_display_name_the_platform_sends_is_cleaned_too(service, name, shown):
    someone = Actor(UserRef("slack", "T1", "zed"), name, None, False)
    command(service, someone, '/circle new "Crew" starter UTC tue 17:00', T0)
    assert f"\u2022 {shown} (moderator)" in said(command(service, someone, "/circle info", T0))


@pytest.mark.parametrize("line", ["/circle commit " + "x" * MAX_INPUT, '/circle new "Crew" career UTC tue 17:00 ' + "9" * 5000])
def test_oversized_input_is_refused_and_changes_nothing(service, engine, line):
    command(service, ALICE, '/circle new "Crew" starter UTC tue 17:00', T0)
    before = rows(engine)
    answer = command(service, ALICE, line, T0)
    assert refused(answer) and f"at most {MAX_INPUT} characters" in said(answer)
    assert rows(engine) == before


# ---------------------------------------------------------------- the fuzz

#: Two workspaces; "alice" is in both, as different people. Zones differ, and one person is an admin.
PEOPLE = (
    person("alice"),
    person("bob", tz="America/New_York"),
    person("carol"),
    person("dave", admin=True),
    person("mallory", "T2", tz="Asia/Tokyo"),
    person("alice", "T2"),
    Actor(UserRef("slack", "T2", "zed"), "Z\ud800\x00ed\u202e", "Pacific/Kiritimati", False),  # a name as odd as it gets
)
#: How the fuzz's world begins: a running circle with support open, a forming one, and one in the other workspace.
SETUP = (
    (0, '/circle new "Crew" starter UTC tue 17:00'),
    (1, "/circle join crew"),
    (2, "/circle join crew"),
    (0, "/circle start"),
    (1, "/circle support open"),
    (1, "/circle support who all"),
    (2, "/circle support help bob"),
    (3, '/circle new "Book club" career Europe/London wed 18:00'),
    (4, '/circle new "Crew" after-loss Asia/Tokyo mon 09:00'),
)
ANY_TEXT = st.text(alphabet=st.characters(exclude_categories=()), max_size=24)


def sometimes_garbage(*values: str) -> st.SearchStrategy[str]:
    """One of ``values`` most of the time, any text at all otherwise."""
    return st.one_of(st.sampled_from(values), st.sampled_from(values), st.sampled_from(values), ANY_TEXT)


#: What fills each ``{slot}`` of a command shape below.
SLOTS = {
    "circle": sometimes_garbage("crew", "#crew", "crew-2", "book-club", "nowhere"),
    "ref": st.sampled_from(["", "", "", "#crew ", "#crew-2 ", "#book-club ", "# ", "#nowhere "]),
    "member": sometimes_garbage("alice", "bob", "carol", "dave", "mallory", "Bob", "@bob", "bob carol"),
    "kit": sometimes_garbage("starter", "career", "after-loss", "Career", "carear"),
    "zone": sometimes_garbage("UTC", "Europe/London", "america/new_york", "Asia/Tokyo", "Mars/Base"),
    "day": sometimes_garbage("tue", "Monday", "sun", "tuesdai", "7"),
    "time": sometimes_garbage("17:00", "7:05", "00:00", "23:59", "24:00", "99999999999999999999:00", "-1:30"),
    "date": st.one_of(
        st.integers(min_value=-30, max_value=1000).map(lambda days: (T0.date() + timedelta(days=days)).isoformat()),
        st.dates().map(date.isoformat),
        st.sampled_from(["9999-12-31", "0001-01-01", "2027-02-29", "tomorrow"]),
    ),
    "number": st.one_of(st.integers(min_value=-3, max_value=12), st.integers(min_value=-(10**25), max_value=10**25)).map(str),
    "text": sometimes_garbage("Went well", "I'll call Sam", "\u201cquoted\u201d", "a | b", '"unclosed', "x" * 200),
    "yesno": sometimes_garbage("yes", "no", "YES", "maybe"),
    "step": sometimes_garbage("confirm", "withdraw", "approve", "decline"),
    "hours": sometimes_garbage("tue 17-20", "mon 9-10, thu 18:30-21", "tue 20-17", "sun 23-24", "tue 17:15-19"),
}
#: Commands shaped as people type them, right or nearly; the slots make them wrong in every other way.
SHAPES = (
    'new "{text}" {kit} {zone} {day} {time}', 'new "{text}" {kit} {zone} {day} {time} {number}',
    "join {circle}", "leave {ref}", "info {circle}", "info {ref}", "next {ref}", "list", "stats", "help",
    "checkin {ref}{text} | {text} | {text}", "checkin {ref}", "commit {ref}{text}", "journal {ref}", "progress {ref}",
    "struggling {ref}{text}", "attended {ref}{member}", "attended {ref}", "rsvp {ref}{yesno}", "away {ref}{date}",
    "away {ref}back", "share {ref}{text}", "share {ref}--named {text}", "share {ref}{step} {number}",
    "support {ref}", "support {ref}open", "support {ref}for {member}", "support {ref}{yesno}", "support {ref}who all",
    "support {ref}who {member}", "support {ref}reach {text}", "support {ref}date {date} {text}", "support {ref}date {date}",
    "support {ref}notnow", "support {ref}resume", "support {ref}tell circle", "support {ref}end",
    "support {ref}help {member}", "support {ref}stop {member}", "export", "forget-me", "forget-me confirm",
    "start {ref}", "pause {ref}", "pause {ref}for {number}w", "resume {ref}", "skip {ref}", "reschedule {ref}{day} {time}",
    "remove {ref}{member}", "moderator {ref}{member}", "again {ref}{kit}", "close {ref}", "{text}",
    "moderator {ref}accept", "moderator {ref}decline", "comod {ref}{member}", "comod {ref}remove {member}",
    "faq {ref}{text}", "guide {ref}{number}", "guide {ref}{text}", "signup", "signup cancel",
    "signup {kit} {hours} tz {zone} moderate {yesno}", "signup {kit} {hours} known", "match", "match off",
    "match every {day} {time} {zone}",
)


@st.composite
def typed(draw: st.DrawFn) -> str:
    """A ``/circle`` line: a command shape with its slots filled, or (one time in five) any text at all."""
    if draw(st.integers(0, 4)) == 0:
        return "/circle " + draw(ANY_TEXT)
    shape = draw(st.sampled_from(SHAPES))
    return "/circle " + re.sub(r"\{(\w+)\}", lambda slot: draw(SLOTS[slot[1]]), shape)


#: Before a line is typed, the clock usually stands still and sometimes moves on (running whatever falls due).
WAIT = st.sampled_from([None] * 9 + [timedelta(minutes=20), timedelta(hours=7), timedelta(days=3), timedelta(weeks=5)])
STEP = st.tuples(WAIT, st.sampled_from(range(len(PEOPLE))), typed())
#: Typed lines per example, and examples per database: 10,000 typed commands on SQLite, 1,000 on PostgreSQL.
STEPS = 10
EXAMPLES = {"sqlite": 1_000, "postgresql": 100}


@pytest.mark.slow
def test_no_typed_command_escapes_the_service_or_changes_anything_when_refused(fuzz_world, database_url):
    service, tables, world, start = fuzz_world
    typed_lines = 0

    @settings(
        max_examples=EXAMPLES[database_url.partition(":")[0]],
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(steps=st.lists(STEP, min_size=STEPS, max_size=STEPS))
    def typing(steps: list[tuple[timedelta | None, int, str]]) -> None:
        nonlocal typed_lines
        tables.restore(world)
        now, before = start, world
        for wait, who, text in steps:
            if wait:
                now += wait
                service.ticker.tick_due(now)
                before = tables.rows()
            answer = command(service, PEOPLE[who], text, now)
            after = tables.rows()  # and the next line's "before"
            assert not refused(answer) or after == before, text
            before = after
            typed_lines += 1

    typing()
    assert typed_lines >= STEPS * EXAMPLES[database_url.partition(":")[0]]
