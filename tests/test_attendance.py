"""Saying whether you'll be at the next meeting."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.actions import Action, Verb
from bot import commands as c
from bot import engine
from bot.circle import Rsvp
from bot.effects import PostToCircle, Reply
from bot.errors import CircleError
from bot.i18n import render


def texts(decision, kind) -> list[str]:
    return [render(line) for e in decision.effects if isinstance(e, kind) for line in e.message.lines]


def test_cant_make_it_tells_the_circle_and_is_remembered_for_that_week(started_circle, kits, members, moderator, t0):
    kit = kits["career"]
    circle = started_circle()
    ben = members[0]
    decision = engine.handle(circle, c.Attend(None, going=False), ben, t0, kit)
    assert texts(decision, PostToCircle) == ["ben can't make it to week 1's meeting."]
    assert decision.circle.rsvp(1, ben.user) is Rsvp.NOT_GOING
    info = engine.handle(decision.circle, c.Info(None), moderator, t0, kit)
    assert "\u2022 ben \u2014 can't make it" in texts(info, Reply)


def test_ill_be_there_is_a_quiet_private_answer_and_saying_it_twice_changes_nothing(started_circle, kits, members, t0):
    kit = kits["career"]
    circle = started_circle()
    going = engine.handle(circle, c.Attend(None, going=True), members[1], t0, kit)
    assert not [e for e in going.effects if isinstance(e, PostToCircle)]
    assert texts(going, Reply)[0].startswith("See you at week 1's meeting, Tue 8 Dec 2026 17:00")
    again = engine.handle(going.circle, c.Attend(None, going=True), members[1], t0, kit)
    assert again.circle == going.circle and texts(again, Reply) == ["Already noted, thank you."]


def test_the_answer_counts_for_the_next_meeting_not_yet_held(started_circle, run_until, kits, members, t0):
    kit = kits["career"]
    circle = run_until(started_circle(), kit, t0 + timedelta(days=7, hours=10)).circle  # week 1 held
    decision = engine.handle(circle, c.Attend(None, going=False), members[0], t0 + timedelta(days=8), kit)
    assert decision.circle.rsvp(2, members[0].user) is Rsvp.NOT_GOING


def test_only_members_of_a_running_circle_answer(new_circle, started_circle, kits, actor, members, t0):
    kit = kits["career"]
    with pytest.raises(CircleError):
        engine.handle(started_circle(), c.Attend(None, going=True), actor("stranger"), t0, kit)
    with pytest.raises(CircleError):
        engine.handle(new_circle(), c.Attend(None, going=True), members[0], t0, kit)


def test_the_reminder_offers_both_answers(started_circle, run_until, kits, t0):
    kit = kits["career"]
    run = run_until(started_circle(), kit, t0 + timedelta(days=7, hours=8))
    reminder = next(p for p in run.posts if p.key.endswith("reminder:1/0"))
    assert [b.action.verb for b in reminder.message.buttons] == [Verb.RSVP_YES, Verb.RSVP_NO]
    assert {(b.action.circle_id, b.action.week) for b in reminder.message.buttons} == {(run.circle.id, 1)}
