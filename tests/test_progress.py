"""The progress card: its data from the core, its words, its picture, and where it is shown.

The standard circle (see conftest): maya moderates ben, cleo and dev; started
at t0 (Tue 1 Dec 2026), week 1 meets Tue 8 Dec and week 2 Tue 15 Dec 17:00.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

import pytest
from PIL import Image
from test_console import run_console

from bot import commands as c
from bot import engine
from bot.circle import Rsvp
from bot.effects import Message, PostToCircle, ProgressCell, Reply
from bot.errors import CircleError
from bot.i18n import render
from bot.progress import card_lines, progress_card
from adapters.pictures import render_progress_png
from storage.codec import dump_delivery, load_delivery

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
WEEK_1_OPEN = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)  # after week 1's exercise
WEEK_1_HELD = datetime(2026, 12, 9, 9, 0, tzinfo=UTC)  # after week 1's meeting
WEEK_2_OPEN = datetime(2026, 12, 14, 9, 0, tzinfo=UTC)  # after week 2's exercise

NOTHING = ProgressCell()


@pytest.fixture
def scripted(started_circle, run_until, kits, moderator, members):
    """Two weeks of the standard circle: ben checks in, cleo can't come, dev says yes twice."""
    kit = kits["career"]
    ben, cleo, dev = members[:3]
    circle = run_until(started_circle(), kit, WEEK_1_OPEN).circle
    answers = tuple(f"answer {n}" for n in range(len(kit.week(1).checkin_questions)))
    steps = [
        (ben, c.CheckInCommand(None, answers), WEEK_1_OPEN),
        (cleo, c.Attend(None, going=False), WEEK_1_OPEN),
        (dev, c.Attend(None, going=True), WEEK_1_OPEN),
        (None, None, WEEK_1_HELD),
        (moderator, c.Attended(None, ("ben",)), WEEK_1_HELD),
        (dev, c.Attend(None, going=True), WEEK_1_HELD),  # for week 2
        (None, None, WEEK_2_OPEN),
        (ben, c.Commit(None, "call Sam"), WEEK_2_OPEN),
    ]
    for person, command, now in steps:
        if command is None:
            circle = run_until(circle, kit, now).circle
        else:
            circle = engine.handle(circle, command, person, now, kit).circle
    return circle


def test_the_card_holds_each_members_weeks_exactly(scripted):
    card = progress_card(scripted)
    assert render(card.title) == "Progress: Tuesday crew"
    assert card.weeks == (1, 2)
    assert {row.name: row.cells for row in card.rows} == {
        "maya": (NOTHING, NOTHING),
        "ben": (ProgressCell(checked_in=True, committed=True, attendance=Rsvp.ATTENDED), ProgressCell(committed=True)),
        "cleo": (ProgressCell(attendance=Rsvp.NOT_GOING), NOTHING),
        "dev": (ProgressCell(attendance=Rsvp.GOING), ProgressCell(attendance=Rsvp.GOING)),
    }
    assert [row.name for row in card.rows] == ["maya", "ben", "cleo", "dev"]


def test_runs_of_weeks_read_as_ranges(scripted):
    card = progress_card(scripted)
    came = ProgressCell(checked_in=True)
    ben = replace(card.rows[1], cells=(came, came, came, came, NOTHING, came, came))
    longer = replace(card, weeks=tuple(range(1, 8)), rows=(ben,))
    assert render(card_lines(longer)[0]) == "The progress card in words, weeks 1 to 7:"
    assert render(card_lines(longer)[1]) == "ben \u2014 checked in: weeks 1 to 4, 6, 7; made a commitment: none."


def test_the_text_fallback_says_everything_the_picture_shows(scripted):
    assert [render(line) for line in card_lines(progress_card(scripted))] == [
        "The progress card in words, weeks 1, 2:",
        "maya \u2014 checked in: none; made a commitment: none.",
        "ben \u2014 checked in: week 1; made a commitment: weeks 1, 2; at the meeting: week 1.",
        "cleo \u2014 checked in: none; made a commitment: none; could not come: week 1.",
        "dev \u2014 checked in: none; made a commitment: none; said they would come: weeks 1, 2.",
        "Only the members of this circle see this card.",
    ]


def test_a_member_gets_the_card_privately_and_nothing_changes(scripted, kits, members, rendered):
    decision = engine.handle(scripted, c.Progress(None), members[2], WEEK_2_OPEN, kits["career"])
    assert decision.circle == scripted
    [reply] = decision.effects
    assert isinstance(reply, Reply) and reply.to == members[2].user
    assert reply.message.card == progress_card(scripted)
    assert reply.message.lines == tuple(card_lines(reply.message.card))
    assert rendered(reply.message.title) == "Progress in \u201cTuesday crew\u201d"


def test_people_outside_the_circle_never_see_the_card(scripted, kits, actor):
    for outsider in (actor("zed"), actor("root", admin=True)):
        with pytest.raises(CircleError) as refused:
            engine.handle(scripted, c.Progress(None), outsider, WEEK_2_OPEN, kits["career"])
        assert render(refused.value.text) == "You are not a member of \u201cTuesday crew\u201d."


def test_before_week_one_there_is_no_card_yet(started_circle, kits, members, t0):
    [reply] = engine.handle(started_circle(), c.Progress(None), members[0], t0, kits["career"]).effects
    assert reply.message.card is None
    assert render(reply.message.lines[0]) == "Nothing to show yet: the progress card starts with week 1's exercise."


def test_graduation_posts_the_card_with_its_words(started_circle, run_until, kits, members, t0):
    kit = kits["starter"]
    circle = run_until(started_circle("starter"), kit, WEEK_1_OPEN).circle
    circle = engine.handle(circle, c.Commit(None, "one step"), members[0], WEEK_1_OPEN, kit).circle
    run = run_until(circle, kit, datetime(2026, 12, 31, tzinfo=UTC))
    [graduation] = [p for p in run.posts if "/graduation:0/" in p.key]
    card = graduation.message.card
    assert card == progress_card(run.circle)
    assert card.weeks == (1, 2, 3, 4) and card.rows[1].cells[0] == ProgressCell(committed=True)
    assert graduation.message.lines[-len(card_lines(card)):] == tuple(card_lines(card))


def test_the_picture_is_a_png_of_a_sensible_size(scripted):
    card = progress_card(scripted)
    png = render_progress_png(card)
    assert png.startswith(PNG_SIGNATURE)
    with Image.open(BytesIO(png)) as picture:
        assert picture.format == "PNG"
        width, height = picture.size
    assert 600 <= width <= 2000 and 300 <= height <= 1000
    rows = tuple(replace(row, cells=row.cells * 6) for row in card.rows)
    twelve_weeks = replace(card, weeks=tuple(range(1, 13)), rows=rows)
    with Image.open(BytesIO(render_progress_png(twelve_weeks))) as wide:
        assert wide.size[0] > width and wide.size[0] <= 2000


def test_a_queued_post_keeps_its_card_and_older_posts_still_load(scripted):
    message = Message(("hello",), card=progress_card(scripted))
    kind, payload = dump_delivery(PostToCircle("crew/x", "crew", message))
    assert load_delivery(kind, payload).message.card == message.card
    stored_before_cards = json.loads(payload)
    del stored_before_cards["message"]["card"]
    assert load_delivery(kind, json.dumps(stored_before_cards)).message.card is None


def test_the_console_saves_the_picture_and_prints_its_path_and_words(tmp_path):
    script = "\n".join([
        '/circle new "Crew" starter Europe/London tue 17:00',
        "/as bob", "/circle join crew", "/as carol", "/circle join crew", "/as alice", "/circle start",
        "/tick 7d", "/as bob", "/circle checkin a | b | c", "/circle progress",
        "/as mallory", "/circle progress #crew",
    ]) + "\n"
    output = run_console(script, "--pictures", str(tmp_path))
    picture = tmp_path / "progress-1.png"
    assert f"[picture: {picture}]" in output
    assert picture.read_bytes().startswith(PNG_SIGNATURE)
    assert "bob \u2014 checked in: week 1; made a commitment: week 1." in output
    assert "You are not a member of \u201cCrew\u201d." in output.split("mallory> /circle progress #crew")[1]


def test_the_card_is_drawn_once_per_picture(scripted, monkeypatch):
    from matplotlib.figure import Figure

    draws = []
    draw = Figure.draw
    monkeypatch.setattr(Figure, "draw", lambda figure, renderer: draws.append(1) or draw(figure, renderer))
    render_progress_png(progress_card(scripted))
    assert len(draws) == 1


def test_the_console_starts_without_matplotlib():
    # matplotlib and numpy cost a third of a second at start; a session that draws nothing never loads them.
    code = "import sys, circlebot.cli, adapters.console.app; print(sorted({'matplotlib', 'numpy'} & set(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            cwd=Path(__file__).resolve().parent.parent)
    assert result.stdout.strip() == "[]"
