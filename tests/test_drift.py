"""Journal, "I'm struggling", attendance, the moderator's digest and gentle nudges."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.actions import Action, Verb
from bot import commands as c
from bot import engine
from bot.circle import Rsvp
from bot.effects import DirectMessage, PostToCircle, Reply
from bot.errors import CircleError
from bot.i18n import render


def lines(message) -> list[str]:
    return [render(line) for line in message.lines]


def replies(decision) -> list[str]:
    return [text for e in decision.effects if isinstance(e, Reply) for text in lines(e.message)]


def dms_to(effects, name: str) -> list[DirectMessage]:
    return [e for e in effects if isinstance(e, DirectMessage) and e.to.id == name]


def titles(effects) -> list[str]:
    return [render(e.message.title) for e in effects if getattr(e, "message", None) and e.message.title]


# ------------------------------------------------------------------ journal


def test_the_journal_shows_only_your_own_weeks(started_circle, run_until, kits, members, t0):
    kit = kits["career"]
    circle = run_until(started_circle(), kit, t0 + timedelta(days=6)).circle  # week 1's exercise is out
    ben, cleo = members[0], members[1]
    circle = engine.handle(circle, c.CheckInCommand(None, ("Found a goal", "It matters", "Email Sam")), ben, t0 + timedelta(days=6), kit).circle
    circle = engine.handle(circle, c.CheckInCommand(None, ("Cleo's secret",)), cleo, t0 + timedelta(days=6), kit).circle
    journal = replies(engine.handle(circle, c.Journal(None), ben, t0 + timedelta(days=6), kit))
    assert journal[0] == f"Week 1: {kit.week(1).title}"
    assert "  You committed to: \u201cEmail Sam\u201d" in journal
    assert "  Your check-in: Found a goal; It matters; Email Sam" in journal
    assert journal[-1] == "Only you see this."
    assert not any("Cleo's secret" in line for line in journal)


def test_a_stranger_has_no_journal(started_circle, kits, actor, t0):
    with pytest.raises(CircleError):
        engine.handle(started_circle(), c.Journal(None), actor("stranger"), t0, kits["career"])


# ------------------------------------------------------------------ struggling


def test_struggling_tells_only_the_moderator_and_gives_resources(started_circle, kits, members, moderator, t0):
    kit = kits["career"]
    decision = engine.handle(started_circle(), c.Struggling(None, "my dad is ill"), members[0], t0, kit)
    assert not [e for e in decision.effects if isinstance(e, PostToCircle)]
    [told] = [e for e in decision.effects if isinstance(e, DirectMessage)]
    assert told.to == moderator.user
    assert "Their note: \u201cmy dad is ill\u201d" in lines(told.message)
    answer = replies(decision)
    assert "Your moderator, maya, has been told privately; nobody else has." in answer
    assert all(resource in answer for resource in kit.support.resources)
    assert any("not a crisis service" in line for line in answer)
    assert decision.circle.red_flags[-1].note == "my dad is ill"


def test_a_struggling_moderator_gets_resources_and_nobody_is_told(started_circle, kits, moderator, t0):
    decision = engine.handle(started_circle(), c.Struggling(None, ""), moderator, t0, kits["career"])
    assert not [e for e in decision.effects if isinstance(e, DirectMessage)]
    assert "Nobody else has been told." in replies(decision)


def test_the_check_in_prompt_offers_the_struggling_button(started_circle, run_until, kits, t0):
    run = run_until(started_circle(), kits["career"], t0 + timedelta(days=7, hours=10))
    prompt = next(p for p in run.posts if p.key.endswith("checkin:1/0"))
    assert Verb.STRUGGLING in [b.action.verb for b in prompt.message.buttons]


# ------------------------------------------------------------------ attendance, digest, nudges


def week_of_checkins(circle, kit, people, now):
    for person in people:
        circle = engine.handle(circle, c.CheckInCommand(None, ("ok",)), person, now, kit).circle
    return circle


def test_attended_marks_the_last_held_meeting(started_circle, run_until, kits, members, moderator, t0):
    kit = kits["career"]
    with pytest.raises(CircleError):
        engine.handle(started_circle(), c.Attended(None), members[0], t0, kit)
    circle = run_until(started_circle(), kit, t0 + timedelta(days=7, hours=10)).circle
    circle = engine.handle(circle, c.Attended(None), members[0], t0 + timedelta(days=8), kit).circle
    assert circle.rsvp(1, members[0].user) is Rsvp.ATTENDED
    with pytest.raises(CircleError):
        engine.handle(circle, c.Attended(None, ("cleo",)), members[0], t0 + timedelta(days=8), kit)
    circle = engine.handle(circle, c.Attended(None, ("cleo", "dev")), moderator, t0 + timedelta(days=8), kit).circle
    assert circle.rsvp(1, members[2].user) is Rsvp.ATTENDED


def test_two_missed_meetings_bring_one_digest_line_and_one_gentle_nudge(started_circle, run_until, kits, members, t0):
    kit = kits["career"]
    ben, cleo, dev = members[:3]
    circle = started_circle()
    effects = []
    for week in range(1, 6):
        run = run_until(circle, kit, t0 + timedelta(days=7 * week - 1))  # up to week `week`'s exercise
        effects += run.effects
        # ben and cleo keep showing up; dev drifts away after week 1
        circle = week_of_checkins(run.circle, kit, [ben, cleo] + ([dev] if week == 1 else []), t0 + timedelta(days=7 * week - 1))
    nudges = [e for e in dms_to(effects, "dev") if render(e.message.title) == "We missed you"]
    assert [n.key for n in nudges] == [f"{circle.id}/exercise:4/nudge/{dev.user.key}"]  # once, not a stream
    assert not [e for e in dms_to(effects, "ben") + dms_to(effects, "cleo") if render(e.message.title) == "We missed you"]
    digests = [e for e in dms_to(effects, "maya") if "digest" in render(e.message.title)]
    assert any("Missed the last two meetings: dev." in lines(d.message) for d in digests)
    assert all("Only you see this." in lines(d.message) for d in digests)
    assert not [e for e in effects if isinstance(e, PostToCircle) and "missed" in " ".join(lines(e.message)).lower()]


def test_the_nudge_tells_the_meeting_time_in_the_members_own_zone(new_circle, run_until, kits, members, moderator, actor, t0):
    kit = kits["career"]
    ben, cleo, dev = members[0], members[1], actor("dev", "America/New_York")
    circle = engine.handle(new_circle(joined=2), c.Join(None), dev, t0, kit).circle
    circle = engine.handle(circle, c.Start(None), moderator, t0, kit).circle
    effects = []
    for week in range(1, 5):
        run = run_until(circle, kit, t0 + timedelta(days=7 * week - 1))
        effects += run.effects
        circle = week_of_checkins(run.circle, kit, [ben, cleo], t0 + timedelta(days=7 * week - 1))
    [nudge] = [e for e in dms_to(effects, "dev") if render(e.message.title) == "We missed you"]
    # dev missed weeks 1 and 2; week 3 meets Tue 22 Dec 2026 17:00 in London, which is noon in New York.
    assert lines(nudge.message)[1] == (
        "The next one is Tue 22 Dec 2026 12:00 (America/New_York); come as you are, even without the exercise done."
    )


def test_an_away_member_is_not_nudged(started_circle, run_until, kits, members, t0):
    kit = kits["career"]
    ben, cleo, dev = members[:3]
    circle = started_circle()
    circle = engine.handle(circle, c.Away(None, (t0 + timedelta(days=60)).date()), dev, t0, kit).circle
    effects = []
    for week in range(1, 6):
        run = run_until(circle, kit, t0 + timedelta(days=7 * week - 1))
        effects += run.effects
        circle = week_of_checkins(run.circle, kit, [ben, cleo], t0 + timedelta(days=7 * week - 1))
    assert not dms_to(effects, "dev")
