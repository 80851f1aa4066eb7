"""Workspace statistics: totals for admins, hidden for groups of fewer than five people.

Circles come from the conftest fixtures: maya moderates, and ``joined`` of ben,
cleo, dev, eli, ... join, so ``joined=3`` is four people and ``joined=4`` five.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from dbfixtures import database_url, engine, pg_schema  # noqa: F401  (fixtures)
from test_service import person, say, service  # noqa: F401  (service is a fixture)

from bot import commands as c
from bot import engine as core
from bot.errors import CircleError
from bot.i18n import render
from bot.state import State
from bot.forming import circle_id
from bot.stats import Share, WeekAttendance, require_admin, stats_message, workspace_stats
from circlebot.cli import main as cli_main
from storage.repository import CIRCLE_SAMPLE, Store

WEEK_1_OPEN = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
WEEK_1_HELD = datetime(2026, 12, 9, 9, 0, tzinfo=UTC)
AFTER_GRADUATION = datetime(2026, 12, 31, tzinfo=UTC)
HIDDEN = "hidden (fewer than 5 people)"


@pytest.fixture
def held_week_one(started_circle, run_until, kits):
    """``held_week_one(joined)``: a starter circle whose first meeting has been held."""

    def make(joined: int, name: str = "Tuesday crew"):
        kit = kits["starter"]
        return run_until(started_circle("starter", joined=joined, name=name), kit, WEEK_1_HELD).circle

    return make


@pytest.fixture
def stats_of(engine):
    """``stats_of(circles)``: what an admin sees of ``circles``, stored in a workspace of their own and counted in SQL."""
    store, workspaces = Store(engine), iter(range(1000))

    def count(circles):
        workspace = f"W{next(workspaces)}"
        with store.transaction() as tx:
            for circle in circles:
                key = circle_id(circle.platform, workspace, circle.handle)
                tx.save(replace(circle, id=key, workspace=workspace), previous_revision=None)
        with store.transaction() as tx:
            return workspace_stats(tx.tally(circles[0].platform, workspace))

    return count


def lines(message) -> list[str]:
    return [render(line) for line in message.lines]


def test_four_people_are_too_few_to_show_and_five_are_enough(held_week_one, stats_of):
    four = stats_of([held_week_one(joined=3)])
    assert (four.circles, four.by_state, four.completion) == (None, ((State.ACTIVE, None),), None)
    assert four.attendance == (WeekAttendance(1, None, None),)
    assert lines(stats_message(four))[:4] == [
        f"Circles: {HIDDEN}",
        f"\u2022 running: {HIDDEN}",
        f"Reached graduation, of the circles that started: {HIDDEN}",
        "Attendance by week, among the members of circles that met that week:",
    ]
    assert lines(stats_message(four))[4] == f"\u2022 week 1: {HIDDEN}"
    five = stats_of([held_week_one(joined=4)])
    assert (five.circles, five.by_state, five.completion) == (1, ((State.ACTIVE, 1),), Share(0, 1))
    assert five.attendance == (WeekAttendance(1, Share(0, 5), Share(0, 5)),)


def test_people_are_counted_once_however_many_circles_they_are_in(held_week_one, stats_of):
    same_four_twice = stats_of([held_week_one(joined=3, name="One"), held_week_one(joined=3, name="Two")])
    assert same_four_twice.circles is None and same_four_twice.attendance == (WeekAttendance(1, None, None),)


def test_a_group_whose_first_circles_share_four_people_is_counted_in_full(held_week_one, stats_of):
    same_four = [held_week_one(joined=3, name=f"Same {n}") for n in range(CIRCLE_SAMPLE)]
    assert stats_of(same_four).circles is None
    assert stats_of([*same_four, held_week_one(joined=4, name="Fifth")]).circles == CIRCLE_SAMPLE + 1


def test_completion_states_and_attendance_by_week(new_circle, started_circle, run_until, kits, moderator, members, stats_of):
    kit = kits["starter"]
    ben, cleo, dev, eli = members[:4]
    graduating = run_until(started_circle("starter", joined=4, name="Alpha"), kit, WEEK_1_OPEN).circle
    for who in (ben, cleo, dev):
        graduating = core.handle(graduating, c.CheckInCommand(None, ("a", "b", "c")), who, WEEK_1_OPEN, kit).circle
    graduating = core.handle(graduating, c.Attend(None, going=True), eli, WEEK_1_OPEN, kit).circle
    graduating = run_until(graduating, kit, WEEK_1_HELD).circle
    graduating = core.handle(graduating, c.Attended(None, ("ben",)), moderator, WEEK_1_HELD, kit).circle
    graduating = run_until(graduating, kit, AFTER_GRADUATION).circle
    running = started_circle("starter", joined=4, name="Beta")
    forming = new_circle("starter", joined=4, name="Gamma")
    closed_early = new_circle("starter", joined=4, name="Delta")
    never_started = core.handle(closed_early, c.Close(None), moderator, WEEK_1_OPEN, kit).circle
    stats = stats_of([graduating, running, forming, never_started])
    assert stats.circles == 4
    assert stats.by_state == ((State.FORMING, 1), (State.ACTIVE, 1), (State.GRADUATED, 1), (State.CLOSED, 1))
    assert stats.completion == Share(1, 2)
    nobody = Share(0, 5)
    assert stats.attendance == (
        WeekAttendance(1, Share(3, 5), Share(2, 5)),  # dev said yes; ben was marked there
        *(WeekAttendance(week, nobody, nobody) for week in (2, 3, 4)),
    )
    none = "0% (0 of 5)"
    assert lines(stats_message(stats)) == [
        "Circles: 4",
        "\u2022 forming (not started yet): 1",
        "\u2022 running: 1",
        "\u2022 graduated: 1",
        "\u2022 closed: 1",
        "Reached graduation, of the circles that started: 50% (1 of 2)",
        "Attendance by week, among the members of circles that met that week:",
        "\u2022 week 1: 60% (3 of 5) checked in; 40% (2 of 5) said they would come or were marked there",
        *(f"\u2022 week {w}: {none} checked in; {none} said they would come or were marked there" for w in (2, 3, 4)),
        "Totals only: no names or answers, and nothing about fewer than 5 people.",
    ]


def test_only_admins_see_them(actor):
    with pytest.raises(CircleError) as refused:
        require_admin(actor("maya"))
    assert render(refused.value.text) == "Only a workspace admin can see the workspace's statistics."
    require_admin(actor("root", admin=True))


def five_in_crew(service) -> None:  # noqa: F811
    say(service, person("alice"), '/circle new "Crew" starter UTC tue 17:00')
    for name in ("bob", "carol", "dan", "erin"):
        say(service, person(name), "/circle join crew")


def test_the_stats_command_goes_through_the_service(service):  # noqa: F811
    five_in_crew(service)
    assert "Only a workspace admin" in say(service, person("alice"), "/circle stats")
    report = say(service, person("root", admin=True), "/circle stats")
    assert "Circles: 1\n\u2022 forming (not started yet): 1" in report
    other_workspace = say(service, person("root", workspace="T2", admin=True), "/circle stats")
    assert f"Circles: {HIDDEN}" in other_workspace and "forming" not in other_workspace


def test_the_stats_cli_prints_each_workspace_or_the_one_asked_for(service, database_url, capsys):  # noqa: F811
    assert cli_main(["stats", "--db", database_url]) == 0
    assert capsys.readouterr().out == "no circles yet\n"
    five_in_crew(service)
    say(service, person("zoe", workspace="T2"), '/circle new "Other" starter UTC wed 17:00')
    assert cli_main(["stats", "--db", database_url]) == 0
    out = capsys.readouterr().out
    assert out.startswith("slack T1\n    == Circle statistics for this workspace ==\n    Circles: 1\n")
    assert f"slack T2\n    == Circle statistics for this workspace ==\n    Circles: {HIDDEN}\n" in out
    assert cli_main(["stats", "--db", database_url, "--platform", "slack", "--workspace", "T2"]) == 0
    assert "slack T1" not in capsys.readouterr().out
    with pytest.raises(SystemExit):
        cli_main(["stats", "--db", database_url, "--platform", "slack"])
