"""Commands about a whole workspace (list, stats, export, forget-me) read only what they need.

With tens of thousands of circles in a workspace, none of them may read every
circle: each test counts the circles a command decodes while unrelated circles
sit in the same workspace. The figures they answer from (the circle row's
columns, the involvements, the weekly totals) are checked against the circles.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from dbfixtures import database_url, engine, pg_schema  # noqa: F401  (fixtures)
from sqlalchemy import text
from requesting import run
from test_service import T0, person, say, service  # noqa: F401  (service is a fixture)

import storage.repository
from bot.directory import LIST_PAGE
from bot.forming import circle_id
from bot.stats import week_figures
from storage.codec import dump_circle
from storage.database import upgrade
from storage.repository import Store, workspace_counts

EXERCISE_OUT = T0 + timedelta(days=6)  # the starter kit's week 1 exercise: Sunday 17:00
WEEK_1_HELD = datetime(2026, 12, 9, 9, 0, tzinfo=UTC)
OTHERS = 30


@pytest.fixture
def decoded(monkeypatch) -> list[str]:
    """The ids of the circles storage decodes from JSON, in order."""
    seen: list[str] = []
    real = storage.repository.load_circle

    def counting(data: str):
        circle = real(data)
        seen.append(circle.id)
        return circle

    monkeypatch.setattr(storage.repository, "load_circle", counting)
    return seen


def a_busy_workspace(service) -> None:  # noqa: F811
    """Bob is in "Crew" and has left "Other"; thirty more circles, each with a free place, belong to others."""
    say(service, person("alice"), '/circle new "Crew" starter UTC tue 17:00')
    say(service, person("carol"), '/circle new "Other" starter UTC wed 17:00')
    for handle in ("crew", "other"):
        say(service, person("bob"), f"/circle join {handle}")
    say(service, person("bob"), "/circle leave #other")
    for n in range(OTHERS):
        say(service, person(f"host{n}"), f'/circle new "Open {n:02d}" starter UTC thu 17:00')


def test_list_shows_ones_own_circles_and_a_first_page_of_open_ones(service, decoded):  # noqa: F811
    a_busy_workspace(service)
    decoded.clear()
    listing = say(service, person("bob"), "/circle list")
    mine, open_ = listing.split("Open to join:")
    assert "#crew" in mine and "#other" not in mine
    shown = [line for line in open_.splitlines() if line.startswith("#")]
    assert [line.split()[0] for line in shown] == [f"#open-{n:02d}" for n in range(LIST_PAGE)]  # by handle
    assert f"\u2026 and {OTHERS + 1 - LIST_PAGE} more open circles, not shown here." in open_
    assert len(decoded) == 1 + LIST_PAGE


def test_a_full_or_finished_circle_is_not_offered(service):  # noqa: F811
    say(service, person("alice"), '/circle new "Trio" starter UTC tue 17:00 3')
    say(service, person("bob"), "/circle join trio")
    assert "#trio" in say(service, person("dan"), "/circle list").split("Open to join:")[1]
    say(service, person("carol"), "/circle join trio")
    assert "#trio" not in say(service, person("dan"), "/circle list")
    say(service, person("carol"), "/circle leave")
    assert "#trio" in say(service, person("dan"), "/circle list")
    say(service, person("alice"), "/circle close")
    assert "#trio" not in say(service, person("dan"), "/circle list")


def test_export_and_forget_me_read_only_the_circles_that_hold_something_about_the_person(service, decoded):  # noqa: F811
    a_busy_workspace(service)
    bob = person("bob")
    crew, other = circle_id("slack", "T1", "crew"), circle_id("slack", "T1", "other")
    decoded.clear()
    [file] = run(service.commands, bob, "/circle export", T0)
    assert [c["circle"]["id"] for c in json.loads(file.content)["circles"]] == ["crew"]
    assert sorted(decoded) == sorted([crew, other])
    decoded.clear()
    assert "\u201cCrew\u201d (you are a member)" in say(service, bob, "/circle forget-me")
    assert sorted(decoded) == sorted([crew, other])
    decoded.clear()
    assert "erased" in say(service, bob, "/circle forget-me confirm")
    assert sorted(set(decoded)) == sorted([crew, other])
    with service.store.transaction() as tx:
        assert tx.involved_circle_ids(bob.user) == []


def test_stats_read_no_circle_and_follow_every_change(service, decoded):  # noqa: F811
    admin = person("root", admin=True)
    names = ("bob", "carol", "dan", "erin")
    say(service, person("alice"), '/circle new "Crew" starter UTC tue 17:00')
    for name in names:
        say(service, person(name), "/circle join crew")
    say(service, person("alice"), "/circle start")
    crew = circle_id("slack", "T1", "crew")
    service.ticker.tick(crew, EXERCISE_OUT)
    for name in names[:3]:
        run(service.commands, person(name), "/circle checkin a | b | c", EXERCISE_OUT)
    service.ticker.tick(crew, WEEK_1_HELD)
    decoded.clear()
    report = say(service, admin, "/circle stats")
    assert decoded == []
    assert "\u2022 week 1: 60% (3 of 5) checked in" in report
    run(service.commands, person("erin"), "/circle leave", WEEK_1_HELD)  # four people left: too few to show
    assert "\u2022 week 1: hidden (fewer than 5 people)" in say(service, admin, "/circle stats")
    with service.store.transaction() as tx:
        stored = tx.load(crew)
        counts = dict(tx.session.execute(text("SELECT figure, count FROM workspace_counts")).all())
    assert {figure: count for figure, count in counts.items() if count} == +workspace_counts(stored)


def test_the_migration_gives_existing_circles_handles_involvements_and_weekly_totals(service, engine):  # noqa: F811
    say(service, person("alice"), '/circle new "Crew" starter UTC tue 17:00')
    for name in ("bob", "carol"):
        say(service, person(name), "/circle join crew")
    say(service, person("alice"), "/circle start")
    crew = circle_id("slack", "T1", "crew")
    service.ticker.tick(crew, EXERCISE_OUT)
    for name in ("bob", "carol"):
        run(service.commands, person(name), "/circle checkin a | b | c", EXERCISE_OUT)
    run(service.commands, person("carol"), "/circle leave", EXERCISE_OUT)
    service.ticker.tick(crew, WEEK_1_HELD)
    with service.store.transaction() as tx:
        circle = tx.load(crew)
    # The database as 0003 left it: the circle stored under its old id, which was its handle, and no handle in its JSON.
    old = json.loads(dump_circle(circle))
    del old["handle"], old["id"]
    with engine.begin() as connection:
        for table in ("calendar_feeds", "signups", "match_schedules", "kept_values", "form_drafts", "people", "handled_requests", "spaces", "workspace_counts", "circle_weeks", "involvements", "memberships", "outbox", "circles", "alembic_version"):
            connection.execute(text(f"DROP TABLE {table}"))
    upgrade(engine, "0003")
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO circles (id, platform, workspace, name, state, next_wake_at, revision, data, updated_at) "
                 "VALUES ('crew', 'slack', 'T1', 'Crew', 'active', NULL, :revision, :data, :now)"),
            dict(revision=circle.revision, data=json.dumps({"id": "crew", **old}), now=T0),
        )
        connection.execute(text("INSERT INTO memberships VALUES ('crew', 'slack:T1:alice'), ('crew', 'slack:T1:bob')"))
    upgrade(engine)
    with Store(engine).transaction() as tx:
        migrated = tx.find("slack", "T1", "crew")
        assert migrated.id == "crew" and migrated.handle == "crew"
        assert tx.involved_circle_ids(person("carol").user) == ["crew"]  # she left, but her answers stay
        tally = tx.tally("slack", "T1")
        counts = dict(tx.session.execute(text("SELECT figure, count FROM workspace_counts")).all())
    assert [w.value for w in tally.weeks] == list(week_figures(migrated))
    assert {figure: count for figure, count in counts.items() if count} == +workspace_counts(migrated)
    assert "#crew" in say(service, person("dan"), "/circle list")


def test_a_new_circle_takes_the_first_free_handle_however_many_share_its_name(service):  # noqa: F811
    host = person("alice")
    for _ in range(21):
        say(service, host, '/circle new "Crew" starter UTC tue 17:00')
    assert "(#crew-23)" in say(service, host, '/circle new "Crew 23" starter UTC tue 17:00')
    assert "(#crew-22)" in say(service, host, '/circle new "Crew" starter UTC tue 17:00')
    assert "(#crew-24)" in say(service, host, '/circle new "Crew" starter UTC tue 17:00')
