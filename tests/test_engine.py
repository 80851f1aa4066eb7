"""Scenario and rule tests of the circle engine (bot/engine.py).

Every test drives the pure core with fixed aware datetimes: commands through
``engine.handle``, the clock through ``engine.tick`` (via ``run_until``).

The standard circle (see conftest): "Tuesday crew", moderated by maya, with
ben, cleo and dev, meeting Tuesdays 17:00 Europe/London. Started at t0 (Tue
1 Dec 2026 09:00 UTC), week 1 meets Tue 8 Dec 2026 17:00 (= 17:00 UTC).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from bot import commands as c
from bot import engine
from bot.actions import Action, Verb, command_of
from bot.circle import Actor, Kind, Role, Slot, UserRef
from bot.effects import (
    DELIVERY_TYPES,
    AddToSpace,
    DirectMessage,
    OpenForm,
    OpenSpace,
    PostInThread,
    PostToCircle,
    RefreshHome,
    RemoveFromSpace,
    Reply,
    ToldOfClosedDms,
    WakeAt,
)
from bot.errors import CircleError
from bot.forming import form_again
from bot.i18n import render
from bot.state import State
from kits.schema import Kit

LONDON = ZoneInfo("Europe/London")
FIRST_MEETING = datetime(2026, 12, 8, 17, 0, tzinfo=UTC)
FAR_FUTURE = datetime(2030, 1, 1, tzinfo=UTC)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def of_type(decision, cls):
    return [e for e in decision.effects if isinstance(e, cls)]


def delivery_keys(effects) -> list[str]:
    return [e.key for e in effects if isinstance(e, DELIVERY_TYPES)]


def error_of(call, *args) -> str:
    with pytest.raises(CircleError) as caught:
        call(*args)
    return render(caught.value.text)


def meeting_of(circle, week: int) -> datetime:
    """The meeting time of ``week``, read from the plan (its reminder is 60 minutes before)."""
    reminder = next(o for o in circle.plan if o.kind is Kind.REMINDER and o.number == week)
    return reminder.at + timedelta(hours=1)


@pytest.fixture
def career(kits) -> Kit:
    return kits["career"]


@pytest.fixture
def ben(members):
    return members[0]


@pytest.fixture
def outsider(actor):
    return actor("zed")


@pytest.fixture
def admin(actor):
    return actor("root", admin=True)


@pytest.fixture
def in_week(started_circle, run_until, career):
    """``in_week(n)``: the standard started circle, ticked until week ``n``'s exercise is out."""

    def make(week: int):
        circle = started_circle()
        exercise = next(o for o in circle.plan if o.key == f"exercise:{week}")
        circle = run_until(circle, career, exercise.at).circle
        assert circle.week == week
        return circle

    return make


# ---------------------------------------------------------------- forming


def test_create_circle(kits, moderator, t0):
    command = c.NewCircle("Tuesday Crew!", "career", "Europe/London", Slot(1, time(17, 0)))
    decision = engine.create_circle(command, moderator, t0, kits, taken_handles=["tuesday-crew"])
    circle = decision.circle
    assert circle.handle == "tuesday-crew-2"
    assert circle.state is State.FORMING
    assert circle.moderator.user == moderator.user
    assert [m.role for m in circle.members] == [Role.MODERATOR]
    assert circle.plan == () and circle.week == 0
    space = of_type(decision, OpenSpace)
    assert len(space) == 1 and space[0].members == (moderator.user,)
    welcome = of_type(decision, PostToCircle)
    assert render(welcome[0].message.title) == "Welcome to \u201cTuesday Crew!\u201d"
    assert "Meets Tuesdays at 17:00 (Europe/London). The kit has 12 meetings." in [render(x) for x in welcome[0].message.lines]
    (reply,) = of_type(decision, Reply)
    assert reply.to == moderator.user
    assert "/circle join tuesday-crew-2" in [render(x) for x in reply.message.lines][1]


def test_a_circle_id_is_unique_everywhere_and_tells_nothing_but_its_handle_is_per_workspace(kits, t0):
    command = c.NewCircle("Crew", "starter", "UTC", Slot(1, time(17, 0)))
    here, there = (Actor(UserRef("slack", workspace, "maya"), "maya") for workspace in ("T1", "T2"))
    ours, theirs = (engine.create_circle(command, who, t0, kits, taken_handles=()).circle for who in (here, there))
    assert ours.handle == theirs.handle == "crew"
    assert ours.id != theirs.id and "crew" not in ours.id + theirs.id
    assert all(e.key.startswith(f"{ours.id}/") for e in engine.create_circle(command, here, t0, kits, ()).effects if hasattr(e, "key"))


@pytest.mark.parametrize(
    ("name", "kit", "tz", "expected"),
    [
        ("", "career", "UTC", "A circle name needs 1 to 60 characters."),
        ("x" * 61, "career", "UTC", "A circle name needs 1 to 60 characters."),
        ("Crew", "knitting", "UTC", "Unknown kit \u201cknitting\u201d. Choose one of: after-loss, career, starter."),
        ("Crew", "career", "Mars/Olympus", "Unknown time zone \u201cMars/Olympus\u201d"),
    ],
)
def test_create_circle_refuses_bad_values(kits, moderator, t0, name, kit, tz, expected):
    command = c.NewCircle(name, kit, tz, Slot(1, time(17, 0)))
    assert error_of(engine.create_circle, command, moderator, t0, kits, ()).startswith(expected)


def test_join_adds_the_member_and_their_space(new_circle, career, actor, t0):
    circle = new_circle(joined=0)
    newcomer = actor("nia", tz="Asia/Tokyo")
    decision = engine.handle(circle, c.Join(None), newcomer, t0, career)
    after = decision.circle
    assert [m.user.id for m in after.members] == ["maya", "nia"]
    assert after.member(newcomer.user).role is Role.MEMBER
    assert after.member(newcomer.user).tz == "Asia/Tokyo"
    assert after.revision == circle.revision + 1
    assert [type(e) for e in decision.effects] == [AddToSpace, PostToCircle, Reply, RefreshHome]
    assert of_type(decision, RefreshHome)[0].user == newcomer.user  # their home view shows the new circle
    assert of_type(decision, AddToSpace)[0].user == newcomer.user
    assert render(of_type(decision, PostToCircle)[0].message.lines[0]) == "nia joined the circle. Welcome!"


def test_join_twice_is_refused(new_circle, career, ben, t0):
    circle = new_circle(joined=1)
    assert error_of(engine.handle, circle, c.Join(None), ben, t0, career) == "You are already in \u201cTuesday crew\u201d."


def test_a_full_circle_takes_nobody_more(new_circle, career, members, t0):
    circle = new_circle(joined=2, capacity=3)
    assert circle.is_full
    refused = engine.handle(circle, c.Join(None), members[2], t0, career)
    assert refused.circle.members == circle.members  # they wait in line instead (tests/test_waitlist.py)
    assert render(of_type(refused, Reply)[0].message.lines[0]).startswith("\u201cTuesday crew\u201d is full (3 people)")
    circle = engine.handle(refused.circle, c.Leave(None), members[2], t0, career).circle  # out of line again
    # After someone leaves there is room again.
    circle = engine.handle(circle, c.Leave(None), members[0], t0, career).circle
    assert engine.handle(circle, c.Join(None), members[2], t0, career).circle.member(members[2].user)


def test_leave(new_circle, career, ben, t0):
    circle = new_circle(joined=3)
    decision = engine.handle(circle, c.Leave(None), ben, t0, career)
    assert decision.circle.member(ben.user) is None
    assert len(decision.circle.members) == 3
    assert of_type(decision, RemoveFromSpace)[0].user == ben.user
    assert render(of_type(decision, PostToCircle)[0].message.lines[0]) == "ben has left the circle."


def test_a_member_whose_dms_are_refused_is_told_in_the_space_when_they_act_and_only_while_in_it(
    new_circle, career, ben, outsider, t0
):
    circle = new_circle(joined=3)
    refused = replace(ben, dms_refused=True)
    decision = engine.handle(circle, c.Info(None), refused, t0, career)
    (notice,) = of_type(decision, PostToCircle)
    assert render(notice.message.title) == "I cannot reach you by direct message"
    assert render(notice.message.lines[0]).startswith("ben, my direct messages to you are refused")
    assert of_type(decision, ToldOfClosedDms) == [ToldOfClosedDms(ben.user)]
    assert of_type(engine.handle(circle, c.Info(None), ben, t0, career), PostToCircle) == []  # nothing refused
    # Leaving, they are not in the space any more: nothing is said there (and the refusal is kept).
    left = engine.handle(circle, c.Leave(None), refused, t0, career)
    assert of_type(left, ToldOfClosedDms) == [] and "refused" not in str(of_type(left, PostToCircle))
    joined = engine.handle(circle, c.Join(None), replace(outsider, dms_refused=True), t0, career)
    assert of_type(joined, ToldOfClosedDms) == [ToldOfClosedDms(outsider.user)]  # joining, they are in it


def test_moderator_cannot_leave_while_others_remain(new_circle, career, moderator, t0):
    circle = new_circle(joined=1)
    assert "hand the role on first" in error_of(engine.handle, circle, c.Leave(None), moderator, t0, career)


def test_moderator_leaving_alone_closes_the_circle(new_circle, career, moderator, t0):
    circle = new_circle(joined=0)
    decision = engine.handle(circle, c.Leave(None), moderator, t0, career)
    assert decision.circle.members == ()
    assert decision.circle.state is State.CLOSED


def test_non_member_cannot_leave(new_circle, career, outsider, t0):
    assert "not a member" in error_of(engine.handle, new_circle(), c.Leave(None), outsider, t0, career)


# ---------------------------------------------------------------- start


def test_start_lays_out_the_plan(new_circle, career, moderator, t0):
    circle = new_circle()
    decision = engine.handle(circle, c.Start(None), moderator, t0, career)
    after = decision.circle
    assert after.state is State.ACTIVE
    assert after.week == 0
    assert after.plan[0].key == "exercise:1"
    assert meeting_of(after, 1) == FIRST_MEETING
    assert after.next_wake == FIRST_MEETING - timedelta(hours=48)
    assert of_type(decision, WakeAt) == [WakeAt(after.id, after.next_wake)]
    post = of_type(decision, PostToCircle)[0]
    assert "The first meeting is Tue 8 Dec 2026 17:00 (Europe/London)." in render(post.message.lines[0])


def test_start_leaves_at_least_the_exercise_lead(new_circle, career, moderator):
    # Starting on Monday 20:00 UTC: Tuesday's meeting is too close for a 48 h lead.
    now = utc(2026, 11, 30, 20, 0)
    circle = engine.handle(new_circle(now=now), c.Start(None), moderator, now, career).circle
    assert meeting_of(circle, 1) == FIRST_MEETING
    assert circle.plan[0].at >= now


def test_start_twice_is_illegal(started_circle, career, moderator, t0):
    circle = started_circle()
    text = error_of(engine.handle, circle, c.Start(None), moderator, t0, career)
    assert text == "\u201cTuesday crew\u201d is running, so you cannot start now."


def test_start_needs_the_kits_fewest_people(new_circle, career, moderator, t0):
    assert (career.size.places, career.size.to_start) == (5, 3)  # a circle is 4 or 5, the moderator included
    circle = new_circle(joined=1)
    text = error_of(engine.handle, circle, c.Start(None), moderator, t0, career)
    assert text == "A circle needs at least 3 people, the moderator included, to start; \u201cTuesday crew\u201d has 2."
    assert engine.handle(new_circle(joined=2), c.Start(None), moderator, t0, career).circle.state is State.ACTIVE
    small = career.model_copy(update={"size": career.size.model_copy(update={"to_start": 2})})
    assert engine.handle(circle, c.Start(None), moderator, t0, small).circle.state is State.ACTIVE


@pytest.mark.parametrize(("places", "allowed"), [(None, 5), (3, 3), (5, 5), (2, None), (6, None), (8, None), (-1, None)])
def test_new_takes_as_many_places_as_the_kit_allows(career, moderator, t0, places, allowed):
    command = c.NewCircle("Crew", "career", "Europe/London", Slot(1, time(17, 0)), places)
    if allowed is None:
        text = error_of(engine.create_circle, command, moderator, t0, {"career": career}, ())
        assert text == f"A circle on the {career.name} kit has 3 to 5 places, the moderator included."
    else:
        assert engine.create_circle(command, moderator, t0, {"career": career}, ()).circle.capacity == allowed


# ---------------------------------------------------------------- permissions


def _circle_for(command, new_circle, started_circle, moderator, career, t0):
    """A circle in which ``command`` is legal for the moderator."""
    if isinstance(command, c.Start):
        return new_circle()
    circle = started_circle()
    if isinstance(command, c.Resume):
        circle = engine.handle(circle, c.Pause(None), moderator, t0, career).circle
    return circle


MODERATOR_COMMANDS = [
    c.Start(None),
    c.Pause(None),
    c.Pause(None, weeks=2),
    c.Resume(None),
    c.Skip(None),
    c.Reschedule(None, Slot(3, time(18, 0))),
    c.Remove(None, "cleo"),
    c.HandOver(None, "cleo"),
    c.Close(None),
]


@pytest.mark.parametrize("command", MODERATOR_COMMANDS, ids=lambda x: type(x).__name__)
def test_only_the_moderator_or_an_admin_may(command, new_circle, started_circle, moderator, ben, outsider, admin, career, t0):
    circle = _circle_for(command, new_circle, started_circle, moderator, career, t0)
    for person in (ben, outsider):
        text = error_of(engine.handle, circle, command, person, t0, career)
        assert text == "Only the moderator of \u201cTuesday crew\u201d can do that."
    # The same command on the same circle works for the moderator and for an admin.
    for person in (moderator, admin):
        decision = engine.handle(circle, command, person, t0, career)
        assert decision.circle != circle
        assert decision.circle.revision == circle.revision + 1


def test_a_member_is_not_an_admin(started_circle, career, actor, t0):
    circle = started_circle()
    not_admin = actor("ben", admin=False)
    assert "Only the moderator" in error_of(engine.handle, circle, c.Close(None), not_admin, t0, career)


# ---------------------------------------------------------------- check-ins


def test_non_member_cannot_check_in(in_week, career, outsider):
    circle = in_week(1)
    text = error_of(engine.handle, circle, c.CheckInCommand(None, ("a", "b", "c")), outsider, circle.next_wake, career)
    assert text == "You are not a member of \u201cTuesday crew\u201d."


def test_check_in_before_week_1_is_refused(started_circle, career, ben, t0):
    circle = started_circle()
    text = error_of(engine.handle, circle, c.CheckInCommand(None, ("a", "b", "c")), ben, t0, career)
    assert text == "Check-ins open when week 1's exercise is posted."


def test_check_in_in_a_forming_circle_is_refused(new_circle, career, ben, t0):
    text = error_of(engine.handle, new_circle(), c.CheckInCommand(None, ("a",)), ben, t0, career)
    assert "so you cannot check in now" in text


def test_check_in_with_too_many_answers_is_refused(in_week, career, ben):
    circle = in_week(1)  # career week 1 has 3 questions
    now = circle.next_wake
    text = error_of(engine.handle, circle, c.CheckInCommand(None, ("a", "b", "c", "d")), ben, now, career)
    assert text.startswith("This week has 3 questions; separate your answers with \u201c|\u201d")


def test_check_in_answer_too_long_is_refused(in_week, career, ben):
    circle = in_week(1)
    text = error_of(engine.handle, circle, c.CheckInCommand(None, ("x" * 2001,)), ben, circle.next_wake, career)
    assert "at most 2000 characters" in text


def test_check_in_with_fewer_answers_pads_and_records_no_commitment(in_week, career, ben):
    circle = in_week(1)
    after = engine.handle(circle, c.CheckInCommand(None, ("Learn research",)), ben, circle.next_wake, career).circle
    assert after.checkin(1, ben.user).answers == ("Learn research", "", "")
    assert after.commitment(1, ben.user) is None


def test_check_in_without_answers_opens_the_form(in_week, career, ben):
    circle = in_week(1)
    decision = engine.handle(circle, c.CheckInCommand(None, ()), ben, circle.next_wake, career)
    assert decision.circle == circle  # nothing recorded yet
    (form,) = decision.effects
    assert isinstance(form, OpenForm)
    assert form.to == ben.user and form.circle_id == circle.id
    assert form.action == Action(Verb.SUBMIT_CHECKIN, circle.id, 1)  # the form remembers its circle and week
    assert [render(f.label) for f in form.fields] == list(career.week(1).checkin_questions)
    assert render(form.title) == "Week 1 check-in \u2014 Tuesday crew"


def test_check_in_is_shared_and_the_last_answer_becomes_the_commitment(in_week, career, ben):
    circle = in_week(1)
    now = circle.next_wake
    answers = ("Learn user research", "I am curious", "Email two researchers")
    decision = engine.handle(circle, c.CheckInCommand(None, answers), ben, now, career)
    after = decision.circle
    assert after.checkin(1, ben.user).answers == answers
    assert after.commitment(1, ben.user).text == "Email two researchers"
    (post,) = of_type(decision, PostInThread)
    assert post.parent == f"{circle.id}/exercise:1/post"  # under the week's post, as a new message
    assert render(post.message.title) == "ben checked in for week 1"
    assert render(post.message.lines[2]) == f"3. {career.week(1).checkin_questions[2]} \u2014 Email two researchers"
    # Checking in again replaces the entry and says so.
    again = engine.handle(after, c.CheckInCommand(None, ("a", "b", "Call Sam")), ben, now, career)
    assert len(again.circle.checkins) == 1
    assert again.circle.commitment(1, ben.user).text == "Call Sam"
    assert render(of_type(again, PostInThread)[0].message.title) == "ben updated their week 1 check-in"


def test_a_partial_check_in_after_a_full_one_keeps_the_earlier_answers_and_says_so(in_week, career, ben):
    circle = in_week(1)
    now = circle.next_wake
    full = engine.handle(circle, c.CheckInCommand(None, ("Learn research", "I am curious", "Email Sam")), ben, now, career)
    changed = engine.handle(full.circle, c.Commit(None, "Call Sam instead"), ben, now, career).circle
    decision = engine.handle(changed, c.CheckInCommand(None, ("Learn user research",)), ben, now, career)
    assert decision.circle.checkin(1, ben.user).answers == ("Learn user research", "I am curious", "Email Sam")
    assert decision.circle.commitment(1, ben.user).text == "Call Sam instead"  # a kept answer is not re-recorded
    post = of_type(decision, PostInThread)[0]
    assert render(post.message.lines[1]).endswith("\u2014 I am curious")
    (reply,) = of_type(decision, Reply)
    assert render(reply.message.lines[1]) == "You left questions 2 and 3 empty, so your earlier answers to them stay."


def test_commit_records_a_commitment(in_week, career, ben):
    circle = in_week(2)
    decision = engine.handle(circle, c.Commit(None, "Ask Sam for coffee"), ben, circle.next_wake, career)
    commitment = decision.circle.commitment(2, ben.user)
    assert commitment.text == "Ask Sam for coffee" and commitment.at == circle.next_wake
    (reply,) = of_type(decision, Reply)
    assert render(reply.message.lines[0]).startswith("Noted: \u201cAsk Sam for coffee\u201d.")


def test_commit_before_week_1_is_refused(started_circle, career, ben, t0):
    text = error_of(engine.handle, started_circle(), c.Commit(None, "x"), ben, t0, career)
    assert text == "Commitments open when week 1's exercise is posted."


def test_next_week_checkin_tick_sends_a_continuity_dm(in_week, career, ben, members, run_until):
    circle = in_week(1)
    answers = ("Learn user research", "I am curious", "Email two researchers")
    circle = engine.handle(circle, c.CheckInCommand(None, answers), ben, circle.next_wake, career).circle
    # Week 1's own check-in prompt sends no continuity DM: there was no week 0.
    week1 = run_until(circle, career, utc(2026, 12, 8, 18, 0))
    assert [e.key for e in week1.dms if e.key.endswith(ben.user.key)] == []
    run = run_until(week1.circle, career, utc(2026, 12, 15, 18, 0))
    dms = [e for e in run.dms if e.to != week1.circle.moderator.user]
    assert [dm.to for dm in dms] == [ben.user]  # cleo and dev made no commitment
    (dm,) = dms
    text = render(dm.message.lines[0])
    assert text == "Last time you committed to: \u201cEmail two researchers\u201d. How did it go?"
    assert render(dm.message.title) == "Tuesday crew: your commitment"
    assert dm.key == f"{circle.id}/checkin:2/{ben.user.key}"
    assert dm.not_before == utc(2026, 12, 15, 18, 0)  # 18:00 London is outside quiet hours


def test_continuity_dm_waits_for_the_end_of_quiet_hours(new_circle, run_until, career, moderator, actor, t0):
    night_owl = actor("kai", tz="Asia/Tokyo")
    circle = engine.handle(new_circle(joined=1), c.Join(None), night_owl, t0, career).circle
    circle = engine.handle(circle, c.Start(None), moderator, t0, career).circle
    circle = run_until(circle, career, utc(2026, 12, 6, 17, 0)).circle
    circle = engine.handle(circle, c.Commit(None, "Sketch a plan"), night_owl, utc(2026, 12, 7, 1, 0), career).circle
    run = run_until(circle, career, utc(2026, 12, 15, 18, 0))
    (dm,) = [e for e in run.dms if e.to == night_owl.user]
    # 18:00 UTC is 03:00 in Tokyo: held back until 08:00 Tokyo (23:00 UTC).
    assert dm.not_before == utc(2026, 12, 15, 23, 0)


def test_away_members_get_no_dms(in_week, career, ben, moderator, run_until):
    circle = in_week(1)
    now = circle.next_wake
    circle = engine.handle(circle, c.Commit(None, "Call Sam"), ben, now, career).circle
    circle = engine.handle(circle, c.Away(None, date(2026, 12, 20)), moderator, now, career).circle
    away = engine.handle(circle, c.Away(None, date(2026, 12, 20)), ben, now, career).circle
    run = run_until(away, career, utc(2026, 12, 15, 18, 0))
    assert [render(p.message.title) for p in run.posts][-1] == "Week 2 check-in"  # posts go on
    assert run.dms == []  # no continuity DM for ben, no week 2 notes for the moderator
    back = engine.handle(away, c.Away(None, None), ben, now, career).circle
    dms = run_until(back, career, utc(2026, 12, 15, 18, 0)).dms
    assert [dm.key for dm in dms] == [f"{circle.id}/checkin:2/{ben.user.key}"]


def test_away_date_in_the_past_is_refused(in_week, career, ben):
    circle = in_week(1)
    text = error_of(engine.handle, circle, c.Away(None, date(2026, 12, 1)), ben, circle.next_wake, career)
    assert text == "That date has passed; give a date from today on, e.g. 2026-12-08."


# ---------------------------------------------------------------- pause and resume


def test_pause_stops_the_plan(in_week, career, moderator, run_until):
    circle = in_week(2)
    now = circle.next_wake
    decision = engine.handle(circle, c.Pause(None), moderator, now, career)
    paused = decision.circle
    assert paused.state is State.PAUSED
    assert paused.paused_from is State.ACTIVE
    assert paused.plan == () and paused.next_wake is None
    assert of_type(decision, WakeAt) == [WakeAt(circle.id, None)]
    assert "/circle resume" in render(of_type(decision, PostToCircle)[0].message.lines[0])
    later = engine.tick(paused, career, FAR_FUTURE, timedelta(days=9999))
    assert later.effects == () and later.skipped == () and later.circle == paused


def test_pause_twice_is_illegal(in_week, career, moderator):
    circle = in_week(1)
    paused = engine.handle(circle, c.Pause(None), moderator, circle.next_wake, career).circle
    text = error_of(engine.handle, paused, c.Pause(None), moderator, circle.next_wake, career)
    assert text == "\u201cTuesday crew\u201d is paused, so you cannot pause now."


def test_pause_for_weeks_resumes_on_its_own(in_week, career, moderator, run_until):
    circle = in_week(2)
    now = utc(2026, 12, 14, 12, 0)  # Monday: week 2's exercise is out, its meeting is tomorrow
    paused = engine.handle(circle, c.Pause(None, weeks=3), moderator, now, career).circle
    (resume,) = paused.plan
    assert resume.kind is Kind.RESUME and resume.at == now + timedelta(weeks=3)
    # Nothing happens before the resume time.
    assert engine.tick(paused, career, resume.at - timedelta(seconds=1), timedelta(minutes=15)).circle == paused
    decision = engine.tick(paused, career, resume.at, timedelta(minutes=15))
    back = decision.circle
    assert back.state is State.ACTIVE and back.paused_from is None and back.paused_at is None
    assert resume.key in back.done
    assert [render(p.message.title) for p in of_type(decision, PostToCircle)] == ["\u201cTuesday crew\u201d is back"]
    # Week 2's exercise was already out, so week 2 meets at the next slot after the resume.
    assert back.plan[0].key == "reminder:2"
    assert all(o.at >= resume.at for o in back.plan)
    assert resume.at == utc(2027, 1, 4, 12, 0)
    assert meeting_of(back, 2) == utc(2027, 1, 5, 17, 0)
    assert meeting_of(back, 3) == utc(2027, 1, 12, 17, 0)
    assert back.done.isdisjoint(o.key for o in back.plan)


def test_resume_relays_the_remaining_weeks_after_now(in_week, career, moderator, run_until):
    circle = in_week(3)
    circle = run_until(circle, career, utc(2026, 12, 22, 18, 0)).circle  # week 3 met and checked in
    assert "checkin:3" in circle.done
    paused = engine.handle(circle, c.Pause(None), moderator, utc(2026, 12, 23, 9, 0), career).circle
    now = utc(2027, 1, 20, 12, 0)  # a Wednesday, four weeks later
    decision = engine.handle(paused, c.Resume(None), moderator, now, career)
    back = decision.circle
    assert back.state is State.ACTIVE
    # Week 4's exercise still has to go out 48 h ahead, so week 4 meets Tue 26 Jan.
    assert [o.key for o in back.plan[:3]] == ["exercise:4", "reminder:4", "checkin:4"]
    assert back.plan[0].at >= now
    assert [meeting_of(back, w) for w in (4, 5, 12)] == [utc(2027, 1, 26, 17), utc(2027, 2, 2, 17), utc(2027, 3, 23, 17)]
    assert {o.number for o in back.plan if o.kind is Kind.EXERCISE} == set(range(4, 13))
    assert of_type(decision, WakeAt) == [WakeAt(back.id, back.plan[0].at)]


def test_resume_of_a_circle_that_is_not_paused_is_illegal(started_circle, career, moderator, t0):
    assert error_of(engine.handle, started_circle(), c.Resume(None), moderator, t0, career) == "\u201cTuesday crew\u201d is running, so you cannot resume now."


def test_pause_after_graduation_keeps_the_tune_up_rhythm(started_circle, run_until, kits, moderator):
    kit = kits["starter"]
    circle = started_circle("starter")
    graduated = run_until(circle, kit, utc(2026, 12, 30, 18, 0)).circle
    assert graduated.state is State.GRADUATED
    tune_up = graduated.plan[0]
    paused = engine.handle(graduated, c.Pause(None), moderator, utc(2027, 1, 2, 12), kit).circle
    back = engine.handle(paused, c.Resume(None), moderator, utc(2027, 1, 15, 12), kit).circle
    assert back.state is State.GRADUATED
    # Paused 13 days: the tune-ups move two whole weeks, same weekday and time.
    assert [o.key for o in back.plan] == ["tune_up:1", "tune_up:2"]
    assert back.plan[0].at == tune_up.at + timedelta(weeks=2)


# ---------------------------------------------------------------- skip and reschedule


def _local_plan(circle):
    return {o.key: o.at.astimezone(LONDON).replace(tzinfo=None) for o in circle.plan}


def test_skip_moves_the_next_meeting_a_week_later(in_week, career, moderator):
    circle = in_week(2)
    now = circle.next_wake
    decision = engine.handle(circle, c.Skip(None), moderator, now, career)
    after = decision.circle
    assert meeting_of(circle, 2) == utc(2026, 12, 15, 17)
    assert meeting_of(after, 2) == utc(2026, 12, 22, 17)
    before_local, after_local = _local_plan(circle), _local_plan(after)
    assert set(before_local) == set(after_local)  # week 2's exercise is not sent again
    assert "exercise:2" not in after_local
    for key, when in before_local.items():
        assert after_local[key] == when + timedelta(weeks=1), key
    text = render(of_type(decision, PostToCircle)[0].message.lines[0])
    assert text == "Week 2 now meets Tue 22 Dec 2026 17:00 (Europe/London); the weeks after it move back too."


def test_skip_when_paused_is_refused(in_week, career, moderator):
    circle = in_week(1)
    paused = engine.handle(circle, c.Pause(None), moderator, circle.next_wake, career).circle
    assert "so you cannot skip a meeting now" in error_of(engine.handle, paused, c.Skip(None), moderator, circle.next_wake, career)


def test_reschedule_changes_the_weekday(in_week, career, moderator):
    circle = in_week(2)
    now = circle.next_wake  # Tue 15 Dec 16:00 UTC, an hour before week 2 meets
    decision = engine.handle(circle, c.Reschedule(None, Slot(3, time(18, 30))), moderator, now, career)
    after = decision.circle
    assert after.slot == Slot(3, time(18, 30))
    assert meeting_of(after, 2) == utc(2026, 12, 17, 18, 30)  # Thursday
    for week in range(2, 13):
        local = meeting_of(after, week).astimezone(LONDON)
        assert (local.weekday(), local.time()) == (3, time(18, 30))
    assert render(of_type(decision, PostToCircle)[0].message.lines[0]) == "The circle now meets Thursdays at 18:30 (Europe/London)."


def test_reschedule_after_a_skip_keeps_the_skipped_week_skipped(in_week, career, moderator):
    circle = in_week(2)
    now = circle.next_wake  # Tue 15 Dec, an hour before week 2 would have met
    skipped = engine.handle(circle, c.Skip(None), moderator, now, career).circle
    assert meeting_of(skipped, 2) == utc(2026, 12, 22, 17)
    decision = engine.handle(skipped, c.Reschedule(None, Slot(3, time(18, 0))), moderator, now, career)
    # Thursday of the week week 2 was moved to, not the Thursday of the skipped week (17 Dec).
    assert meeting_of(decision.circle, 2) == utc(2026, 12, 24, 18)
    assert meeting_of(decision.circle, 3) == utc(2026, 12, 31, 18)
    assert [render(line) for line in of_type(decision, PostToCircle)[0].message.lines] == [
        "The circle now meets Thursdays at 18:00 (Europe/London).",
        "The next meeting, week 2, is Thu 24 Dec 2026 18:00 (Europe/London).",
    ]


def test_reschedule_to_a_day_already_past_this_week_moves_to_the_next_free_slot(in_week, career, moderator):
    circle = in_week(2)
    now = circle.next_wake  # Tue 15 Dec 16:00 UTC; Monday 14 Dec has passed
    moved = engine.handle(circle, c.Reschedule(None, Slot(0, time(17, 0))), moderator, now, career).circle
    assert meeting_of(moved, 2) == utc(2026, 12, 21, 17)


def test_reschedule_while_forming_changes_the_first_meeting(new_circle, career, moderator, t0):
    circle = engine.handle(new_circle(), c.Reschedule(None, Slot(4, time(9, 0))), moderator, t0, career).circle
    assert circle.plan == ()
    started = engine.handle(circle, c.Start(None), moderator, t0, career).circle
    assert meeting_of(started, 1) == utc(2026, 12, 4, 9, 0)  # Friday, 72 h after t0


# ---------------------------------------------------------------- remove, hand-over, close


def test_remove_a_member(started_circle, career, moderator, members, t0):
    circle = started_circle()
    decision = engine.handle(circle, c.Remove(None, "<@cleo>"), moderator, t0, career)
    assert decision.circle.member(members[1].user) is None
    assert [m.name for m in decision.circle.members] == ["maya", "ben", "dev"]
    assert of_type(decision, RemoveFromSpace)[0].user == members[1].user
    (dm,) = of_type(decision, DirectMessage)
    assert dm.to == members[1].user and "no longer a member" in render(dm.message.lines[0])
    assert "/circle list" in render(dm.message.lines[1])  # other circles, and no reason given
    # The circle hears neither who nor why.
    (post,) = of_type(decision, PostToCircle)
    assert [render(line) for line in post.message.lines] == ["The circle's membership has changed. Members now: 3."]


def test_remove_refuses_the_moderator_and_strangers(started_circle, career, moderator, t0):
    circle = started_circle()
    assert "moderator cannot be removed" in error_of(engine.handle, circle, c.Remove(None, "maya"), moderator, t0, career)
    text = error_of(engine.handle, circle, c.Remove(None, "zed"), moderator, t0, career)
    assert text == "No member \u201czed\u201d in \u201cTuesday crew\u201d. Members: maya, ben, cleo, dev."


def test_a_removed_member_cannot_join_again_but_one_who_left_can(new_circle, career, moderator, members, t0):
    circle = new_circle(joined=3)
    ben, cleo = members[0], members[1]
    circle = engine.handle(circle, c.Remove(None, "cleo"), moderator, t0, career).circle
    circle = engine.handle(circle, c.Leave(None), ben, t0, career).circle
    text = error_of(engine.handle, circle, c.Join(None), cleo, t0, career)
    assert text.startswith("You were removed from \u201cTuesday crew\u201d, so you cannot join it again.")
    assert engine.handle(circle, c.Join(None), ben, t0, career).circle.member(ben.user)
    # A Join button from an old invitation is refused the same way.
    pressed = command_of(Action(Verb.JOIN, circle.id))
    assert error_of(engine.handle, circle, pressed, cleo, t0, career).startswith("You were removed from")


def test_hand_over_moves_the_moderator_role_once_the_member_accepts(started_circle, career, moderator, members, t0):
    circle = started_circle()
    offered = engine.handle(circle, c.HandOver(None, "Cleo"), moderator, t0, career)
    # Nothing moves until Cleo says yes; she is asked privately, with buttons.
    assert offered.circle.moderator.user == moderator.user and not of_type(offered, PostToCircle)
    [ask] = of_type(offered, DirectMessage)
    assert ask.to == members[1].user and [b.action.verb for b in ask.message.buttons] == [Verb.TAKE_ROLE, Verb.DECLINE_ROLE]
    assert "Nobody has offered" in error_of(engine.handle, offered.circle, c.AnswerHandOver(None, yes=True), members[0], t0, career)
    decision = engine.handle(offered.circle, c.AnswerHandOver(None, yes=True), members[1], t0, career)
    after = decision.circle
    assert after.moderator.user == members[1].user and after.handover_to is None
    # The new moderator gets the guide's first section.
    assert [d.message.title.params for d in of_type(decision, DirectMessage) if d.to == members[1].user]
    assert after.member(moderator.user).role is Role.MEMBER
    assert sum(m.role is Role.MODERATOR for m in after.members) == 1
    assert render(of_type(decision, PostToCircle)[0].message.lines[0]) == "cleo is now the moderator. Thank you, maya!"
    # The old moderator has lost their powers; the new one has them.
    assert "Only the moderator" in error_of(engine.handle, after, c.Pause(None), moderator, t0, career)
    assert engine.handle(after, c.Pause(None), members[1], t0, career).circle.state is State.PAUSED
    # ... and now the old moderator may leave.
    assert engine.handle(after, c.Leave(None), moderator, t0, career).circle.member(moderator.user) is None


def test_an_admin_handing_over_thanks_the_moderator_stepping_down(started_circle, career, members, actor, t0):
    offered = engine.handle(started_circle(), c.HandOver(None, "cleo"), actor("root", admin=True), t0, career)
    decision = engine.handle(offered.circle, c.AnswerHandOver(None, yes=True), members[1], t0, career)
    assert render(of_type(decision, PostToCircle)[0].message.lines[0]) == "cleo is now the moderator. Thank you, maya!"


def test_an_admin_closing_a_circle_is_announced_as_an_admin(started_circle, career, moderator, actor, t0):
    by_admin = engine.handle(started_circle(), c.Close(None), actor("root", admin=True), t0, career)
    assert render(of_type(by_admin, PostToCircle)[0].message.lines[0]) == (
        "A workspace admin has closed the circle. Thank you all."
    )
    by_moderator = engine.handle(started_circle(), c.Close(None), moderator, t0, career)
    assert render(of_type(by_moderator, PostToCircle)[0].message.lines[0]) == (
        "The moderator has closed the circle. Thank you all."
    )


def test_a_declined_hand_over_changes_nothing_and_the_moderator_hears(started_circle, career, moderator, members, t0):
    offered = engine.handle(started_circle(), c.HandOver(None, "cleo"), moderator, t0, career)
    declined = engine.handle(offered.circle, c.AnswerHandOver(None, yes=False), members[1], t0, career)
    assert declined.circle.moderator.user == moderator.user and declined.circle.handover_to is None
    assert [d.to for d in of_type(declined, DirectMessage)] == [moderator.user]


def test_a_co_moderator_runs_the_week_but_cannot_hand_over_or_close(started_circle, career, moderator, members, t0):
    decision = engine.handle(started_circle(), c.CoModerator(None, "ben"), moderator, t0, career)
    circle = decision.circle
    assert circle.member(members[0].user).role is Role.COMODERATOR
    assert [d.to for d in of_type(decision, DirectMessage)] == [members[0].user]  # the guide's first section
    assert engine.handle(circle, c.Pause(None), members[0], t0, career).circle.state is State.PAUSED
    assert "Only the moderator" in error_of(engine.handle, circle, c.Close(None), members[0], t0, career)
    assert "Only the moderator" in error_of(engine.handle, circle, c.HandOver(None, "cleo"), members[0], t0, career)
    assert "already co-moderator" in error_of(engine.handle, circle, c.CoModerator(None, "cleo"), moderator, t0, career)
    back = engine.handle(circle, c.CoModerator(None, "ben", remove=True), moderator, t0, career).circle
    assert back.member(members[0].user).role is Role.MEMBER
    assert "Only the moderator" in error_of(engine.handle, back, c.Pause(None), members[0], t0, career)


def test_hand_over_to_the_moderator_is_refused(started_circle, career, moderator, t0):
    assert "already moderates" in error_of(engine.handle, started_circle(), c.HandOver(None, "maya"), moderator, t0, career)


def test_close_empties_the_plan(in_week, career, moderator, ben):
    circle = in_week(4)
    now = circle.next_wake
    decision = engine.handle(circle, c.Close(None), moderator, now, career)
    closed = decision.circle
    assert closed.state is State.CLOSED and closed.plan == () and closed.next_wake is None
    assert of_type(decision, WakeAt) == [WakeAt(circle.id, None)]
    assert engine.tick(closed, career, FAR_FUTURE, timedelta(days=9999)).effects == ()
    assert error_of(engine.handle, closed, c.Close(None), moderator, now, career) == "\u201cTuesday crew\u201d is closed, so you cannot close now."
    assert "so you cannot check in now" in error_of(engine.handle, closed, c.CheckInCommand(None, ("a",)), ben, now, career)


def test_forming_circle_can_be_closed(new_circle, career, moderator, t0):
    assert engine.handle(new_circle(), c.Close(None), moderator, t0, career).circle.state is State.CLOSED


# ---------------------------------------------------------------- the whole run


def test_full_career_run(started_circle, run_until, career, members, moderator):
    circle = started_circle()
    run = run_until(circle, career, FAR_FUTURE)
    final = run.circle
    assert final.state is State.CLOSED
    assert final.plan == () and final.next_wake is None
    assert run.skipped == []

    titles = [render(p.message.title) for p in run.posts]
    exercises = [t for t in titles if t.startswith("Week ") and " of 12: " in t]
    assert exercises == [f"Week {n} of 12: {career.week(n).title}" for n in range(1, 13)]
    assert titles[-3:] == ["Graduation: Tuesday crew", "Tune-up 1: Tuesday crew", "Tune-up 2: Tuesday crew"]
    assert titles.index("Graduation: Tuesday crew") > titles.index(exercises[-1])
    assert Counter(t.split(":")[0] for t in titles if t.startswith("Meeting soon")) == {"Meeting soon": 12}
    assert sum(t.endswith(" check-in") and t.startswith("Week ") for t in titles) == 12

    # Exercises arrive in order, one week apart (all in GMT), and each week's notes go to the moderator.
    exercise_ticks = [tick for tick, d in zip(run.ticks, run.decisions) if any(k.startswith(f"{circle.id}/exercise:") for k in delivery_keys(d.effects))]
    assert exercise_ticks == [utc(2026, 12, 6, 17) + timedelta(weeks=n) for n in range(12)]
    notes = [dm for dm in run.dms if dm.key.endswith("/moderator")]
    assert [dm.to for dm in notes] == [moderator.user] * 12

    # The last tune-up says the circle closes; the state passed through every stage.
    assert "the circle closes after it" in render(run.posts[-1].message.lines[-1])
    states = [d.circle.state for d in run.decisions]
    assert states.index(State.GRADUATED) < states.index(State.FOLLOWING_UP) < states.index(State.CLOSED)
    assert states[-1] is State.CLOSED and states.count(State.CLOSED) == 1

    keys = delivery_keys(run.effects)
    assert len(keys) == len(set(keys))
    assert final.done >= {f"{kind}:{n}" for kind in ("exercise", "reminder", "checkin") for n in range(1, 13)}


def test_every_decision_has_unique_delivery_keys(kits, moderator, members, t0, run_until):
    """Across a busy scenario, no delivery key repeats within a decision or across decisions."""
    kit = kits["starter"]
    command = c.NewCircle("Crew", "starter", "Europe/London", Slot(1, time(17, 0)))
    decisions = [engine.create_circle(command, moderator, t0, kits, ())]

    def do(command, who, now):
        decisions.append(engine.handle(decisions[-1].circle, command, who, now, kit))

    def run(until):
        decisions.extend(run_until(decisions[-1].circle, kit, until).decisions)

    for person in members[:3]:
        do(c.Join(None), person, t0)
    do(c.Start(None), moderator, t0)
    run(utc(2026, 12, 6, 17))
    now = utc(2026, 12, 7, 9)
    do(c.CheckInCommand(None, ("a", "b", "Call Sam")), members[0], now)
    do(c.Commit(None, "Write it down"), members[1], now)
    do(c.Skip(None), moderator, now)
    do(c.Remove(None, "dev"), moderator, now)
    do(c.Pause(None, weeks=1), moderator, now)
    run(utc(2026, 12, 22, 18))
    do(c.CheckInCommand(None, ("a", "b", "c", "Again")), members[0], utc(2026, 12, 23, 9))
    do(c.Reschedule(None, Slot(3, time(18, 0))), moderator, utc(2026, 12, 23, 9))
    run(FAR_FUTURE)
    assert decisions[-1].circle.state is State.CLOSED
    assert sum(isinstance(e, DirectMessage) for d in decisions for e in d.effects) > 4

    for decision in decisions:
        keys = delivery_keys(decision.effects)
        assert len(keys) == len(set(keys)), keys
        assert all(k.startswith(f"{decision.circle.id}/") for k in keys)
    everything = [k for d in decisions for k in delivery_keys(d.effects)]
    assert len(everything) == len(set(everything))


# ---------------------------------------------------------------- late ticks


def test_late_tick_skips_stale_occurrences_but_moves_the_circle_on(started_circle, career):
    circle = started_circle()
    now = utc(2026, 12, 21, 9, 0)  # down since before week 1's exercise
    decision = engine.tick(circle, career, now, timedelta(hours=1))
    expected = ["exercise:1", "reminder:1", "checkin:1", "exercise:2", "reminder:2", "checkin:2", "exercise:3"]
    assert list(decision.skipped) == [f"{circle.id}/{k}" for k in expected]
    assert delivery_keys(decision.effects) == []
    assert [type(e) for e in decision.effects] == [WakeAt]
    after = decision.circle
    assert after.week == 3 and after.state is State.ACTIVE
    assert after.done >= set(expected)
    assert after.plan[0].key == "reminder:3" and after.next_wake == utc(2026, 12, 22, 16)
    # Nothing stale is sent later either: the next tick only carries week 3's reminder.
    nxt = engine.tick(after, career, after.next_wake, timedelta(hours=1))
    assert delivery_keys(nxt.effects) == [f"{circle.id}/reminder:3/0"]


def test_late_tick_sends_what_is_within_grace(started_circle, career):
    circle = started_circle()
    now = utc(2026, 12, 20, 17, 10)  # ten minutes after week 3's exercise was due
    decision = engine.tick(circle, career, now, timedelta(minutes=15))
    assert f"{circle.id}/exercise:2" in decision.skipped
    assert f"{circle.id}/exercise:3" not in decision.skipped
    posts = [render(e.message.title) for e in of_type(decision, PostToCircle)]
    assert posts == [f"Week 3 of 12: {career.week(3).title}"]


def test_late_tick_past_graduation_still_graduates(started_circle, kits):
    kit = kits["starter"]
    circle = started_circle("starter")
    decision = engine.tick(circle, kit, utc(2027, 1, 10), timedelta(hours=1))
    assert decision.circle.state is State.GRADUATED
    assert of_type(decision, PostToCircle) == []
    assert f"{circle.id}/graduation:0" in decision.skipped


def test_coarse_clock_delivers_everything_once(started_circle, run_until, career):
    """A scheduler that only wakes every six hours still sends each occurrence once, in order."""
    circle = started_circle()
    exact = run_until(circle, career, FAR_FUTURE)
    coarse = run_until(circle, career, FAR_FUTURE, step=timedelta(hours=6), grace=timedelta(hours=6))
    assert coarse.skipped == []
    assert [e.key for e in coarse.posts] == [e.key for e in exact.posts]
    assert coarse.circle.state is State.CLOSED


# ---------------------------------------------------------------- bugs


def test_tune_up_post_names_the_usual_local_time_across_dst(started_circle, run_until, kits):
    kit = kits["starter"]
    # Mondays 17:00 London from Sep 2026: the last meeting is Mon 28 Sep, tune-up 1 meets
    # Mon 26 Oct (GMT) and its prompt goes out Sat 24 Oct (still BST).
    circle = started_circle("starter", slot=Slot(0, time(17, 0)), now=utc(2026, 9, 1, 9))
    run = run_until(circle, kit, FAR_FUTURE)
    tune_up = next(p for p in run.posts if render(p.message.title).startswith("Tune-up 1"))
    assert render(tune_up.message.lines[0]) == "Meet at your usual time: Mon 26 Oct 2026 17:00 (Europe/London)."


def test_rescheduling_to_the_same_slot_is_refused_and_keys_stay_unique(new_circle, career, moderator, actor, t0):
    circle = new_circle(joined=1)
    with pytest.raises(CircleError) as refused:
        engine.handle(circle, c.Reschedule(None, circle.slot), moderator, t0, career)
    assert "already meets" in render(refused.value.text)
    moved = engine.handle(circle, c.Reschedule(None, Slot(3, time(18, 0))), moderator, t0, career)
    joined = engine.handle(moved.circle, c.Join(None), actor("nia"), t0, career)
    keys = delivery_keys(moved.effects) + delivery_keys(joined.effects)
    assert len(keys) == len(set(keys)), keys


def test_reschedule_while_paused_after_graduation_moves_the_tune_ups(started_circle, run_until, kits, moderator):
    kit = kits["starter"]
    graduated = run_until(started_circle("starter"), kit, utc(2026, 12, 30, 18, 0)).circle
    assert graduated.state is State.GRADUATED
    now = utc(2027, 1, 2, 12)
    paused = engine.handle(graduated, c.Pause(None), moderator, now, kit).circle
    moved = engine.handle(paused, c.Reschedule(None, Slot(3, time(18, 0))), moderator, now, kit).circle
    back = engine.handle(moved, c.Resume(None), moderator, now + timedelta(days=1), kit).circle
    for tune_up in back.plan:
        meeting = (tune_up.at + timedelta(hours=kit.timing.exercise_lead_hours)).astimezone(LONDON)
        assert (meeting.weekday(), meeting.time()) == (3, time(18, 0)), tune_up.key


def _timing(kit: Kit, **changes) -> dict:
    tune_ups = changes.pop("weeks_after", None)
    data = kit.model_dump()
    data["timing"].update(changes)
    if tune_ups:
        data["tune_ups"]["weeks_after"] = tune_ups
    return data


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        # Tune-up 1's prompt would come before graduation.
        (dict(exercise_lead_hours=144, graduation_delay_hours=48, weeks_after=(1, 2)), "tune_ups.weeks_after"),
        # Graduation would fire before the last check-in prompt, which could then never be answered.
        (dict(meeting_minutes=120, graduation_delay_hours=1), "timing.graduation_delay_hours"),
    ],
)
def test_kit_timing_that_would_run_out_of_order_is_refused(kits, changes, field):
    with pytest.raises(ValidationError) as refused:
        Kit.model_validate(_timing(kits["starter"], **changes))
    assert field in str(refused.value)


def test_the_tightest_valid_timing_runs_to_the_end(started_circle, run_until, kits):
    kit = Kit.model_validate(_timing(kits["starter"], exercise_lead_hours=144, meeting_minutes=15, graduation_delay_hours=1))
    assert run_until(started_circle(kit), kit, FAR_FUTURE).circle.state is State.CLOSED


# ---------------------------------------------------------------- what people read, in their own zone


def info_lines(circle, person, now, kit) -> list[str]:
    (reply,) = of_type(engine.handle(circle, c.Info(None), person, now, kit), Reply)
    return [render(line) for line in reply.message.lines]


def test_info_before_week_1_says_what_comes_next_not_that_it_has_not_started(
    new_circle, started_circle, career, moderator, t0
):
    started = info_lines(started_circle(), moderator, t0, career)
    assert started[:2] == [f"Kit: {career.name} \u2014 week 1 of 12 comes next", "State: running"]
    forming = info_lines(new_circle(), moderator, t0, career)
    assert forming[:2] == [f"Kit: {career.name} \u2014 12 meetings", "State: forming (not started yet)"]


def test_info_and_joining_tell_the_next_meeting_in_the_readers_zone(started_circle, career, actor, t0):
    circle = started_circle()
    tokyo = actor("yui", "Asia/Tokyo")
    joined = engine.handle(circle, c.Join(None), tokyo, t0, career)
    (welcome,) = of_type(joined, Reply)
    # Week 1 meets Tue 8 Dec 2026 17:00 in London: 02:00 on Wednesday in Tokyo.
    assert render(welcome.message.lines[0]) == (
        "You joined \u201cTuesday crew\u201d. It meets Tuesdays at 17:00 (Europe/London); "
        "in your time zone the next one is Wed 9 Dec 2026 02:00 (Asia/Tokyo)."
    )
    assert "Meets Tuesdays at 17:00 (Europe/London); in your time zone the next one is Wed 9 Dec 2026 02:00 (Asia/Tokyo)" in (
        info_lines(joined.circle, tokyo, t0, career)
    )
    # A reader in the circle's own zone reads the slot alone.
    assert "Meets Tuesdays at 17:00 (Europe/London)" in info_lines(circle, actor("maya"), t0, career)


def test_graduation_says_when_the_tune_ups_come_and_from_what(started_circle, run_until, kits, t0):
    kit = kits["starter"]  # four weekly meetings, the last on Tue 29 Dec 2026 at 17:00 in London
    run = run_until(started_circle("starter"), kit, utc(2027, 1, 2))
    [graduation] = [p for p in run.posts if "/graduation:0/" in p.key]
    assert (
        "Tune-ups will gather the circle again 4 and 12 weeks after the last meeting: "
        "Tue 26 Jan 2027 and Tue 23 Mar 2027, at 17:00 (Europe/London)."
    ) in [render(line) for line in graduation.message.lines]


def test_an_invitation_to_go_again_tells_the_slot_in_the_invitees_zone(new_circle, run_until, kits, moderator, actor, t0):
    kit = kits["starter"]
    yui = actor("yui", "Asia/Tokyo")
    circle = engine.handle(new_circle("starter", joined=2), c.Join(None), yui, t0, kit).circle
    circle = engine.handle(circle, c.Start(None), moderator, t0, kit).circle
    graduated = run_until(circle, kit, utc(2027, 1, 2)).circle
    now = utc(2027, 1, 4, 9)  # a Monday: the new run's slot comes next on Tue 5 Jan, 17:00 in London
    _, formed = form_again(graduated, c.Again(None), moderator, now, kits, taken_handles=[graduated.id])
    [invite] = [e for e in formed.effects if isinstance(e, DirectMessage) and e.to == yui.user]
    assert render(invite.message.lines[0]).endswith(
        "Tuesdays at 17:00 (Europe/London); in your time zone the next one is Wed 6 Jan 2027 02:00 (Asia/Tokyo)."
    )


def test_away_dates_are_days_of_the_members_own_calendar(new_circle, run_until, career, moderator, actor, t0):
    yui = actor("yui", "Asia/Tokyo")
    circle = engine.handle(new_circle(joined=2), c.Join(None), yui, t0, career).circle
    circle = engine.handle(circle, c.Start(None), moderator, t0, career).circle
    circle = run_until(circle, career, utc(2026, 12, 6, 17, 0)).circle
    circle = engine.handle(circle, c.Commit(None, "Sketch a plan"), yui, utc(2026, 12, 7, 1, 0), career).circle
    # Away through 15 Dec in Tokyo: week 2's check-in (18:00 in London on the 15th) is 03:00 on the 16th there.
    circle = engine.handle(circle, c.Away(None, date(2026, 12, 15)), yui, utc(2026, 12, 7, 1, 0), career).circle
    run = run_until(circle, career, utc(2026, 12, 15, 18, 0))
    (dm,) = [e for e in run.dms if e.to == yui.user]
    assert dm.key.endswith(f"checkin:2/{yui.user.key}") and dm.not_before == utc(2026, 12, 15, 23, 0)
