"""Care after a life event (bot/care.py, bot/turns.py), driven through the engine with a simulated clock.

The crew: "Tuesday crew" (#tuesday-crew), moderated by maya (no zone of her
own, so the circle's Europe/London), with ben in Europe/London, cleo in
America/New_York and dev in Asia/Tokyo. Support for maya opens at t0, Tue 1 Dec
2026 09:00 UTC, so day 3 is Fri 4 Dec 2026 and the first anniversary Wed 1 Dec
2027. Reminders come at 10:00 on the helper's own calendar.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from decisions import without_home_refresh

from bot import commands as c
from bot.actions import Action, Verb
from bot import engine
from bot.circle import CareReminder, Consent, Reach, UserRef
from bot.effects import DirectMessage, PostToCircle, Reply, WakeAt
from bot.errors import CircleError
from bot.grammar import parse
from bot.i18n import render
from bot.forming import circle_id
from bot.state import State
from bot.turns import days_after
from kits.schema import Kit
from storage.codec import dump_circle, load_circle

CREW = "tuesday-crew"
CREW_ID = circle_id("console", "local", CREW)
NOT_ALLOWED = "There is no support for you to help with for maya right now."
YEAR_ON = datetime(2027, 12, 31, tzinfo=UTC)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def local(moment: datetime, tz: str) -> str:
    return f"{moment.astimezone(ZoneInfo(tz)):%Y-%m-%d %H:%M}"


def reminders(effects) -> list[DirectMessage]:
    """The care reminders among ``effects`` (their keys carry ``/care:``)."""
    return [e for e in effects if isinstance(e, DirectMessage) and "/care:" in e.key]


def of_type(decision, cls):
    return [e for e in decision.effects if isinstance(e, cls)]


def lines(message) -> list[str]:
    return [render(line) for line in message.lines]


@pytest.fixture
def career(kits) -> Kit:
    return kits["career"]


@pytest.fixture
def people(actor, moderator):
    return {
        "maya": moderator,
        "ben": actor("ben", "Europe/London"),
        "cleo": actor("cleo", "America/New_York"),
        "dev": actor("dev", "Asia/Tokyo"),
    }


@pytest.fixture
def say(people, career):
    """``say(circle, who, text, now, kit=career)``: one person types one ``/circle`` line; returns the decision."""

    def run(circle, who: str, text: str, now: datetime, kit: Kit | None = None):
        return without_home_refresh(engine.handle(circle, parse(text), people[who], now, kit or career))

    return run


@pytest.fixture
def crew(new_circle, people, career, t0, say):
    """The started crew; ``crew(*lines)`` then runs ``(who, text)`` lines at t0 and returns the circle."""

    def make(*script: tuple[str, str], start: bool = True, kit: Kit | None = None):
        circle = new_circle(career, joined=0)
        for name in ("ben", "cleo", "dev"):
            circle = engine.handle(circle, c.Join(None), people[name], t0, career).circle
        if start:
            circle = say(circle, "maya", "start", t0).circle
        for who, text in script:
            circle = say(circle, who, text, t0, kit).circle
        return circle

    return make


def error_of(say, *args) -> str:
    with pytest.raises(CircleError) as caught:
        say(*args)
    return render(caught.value.text)


# ---------------------------------------------------------------- consent


def test_a_member_opens_support_for_themselves_and_nobody_is_told_yet(crew, say, t0, people):
    decision = say(crew(), "maya", "support open", t0)
    event = decision.circle.life_events[0]
    assert (event.id, event.user, event.consent, event.consent_at, event.opened_at) == (
        1,
        people["maya"].user,
        Consent.GIVEN,
        t0,
        t0,
    )
    assert not event.everyone_knows and event.known_by == () and event.planned is None
    [reply] = decision.effects
    assert isinstance(reply, Reply) and reply.to == people["maya"].user
    text = lines(reply.message)
    assert "3, 10, 21, 45, 90, 180, 365 days from today" in text[0]
    assert any("not a crisis service" in line for line in text)
    assert any(line.startswith("Who knows: nobody yet.") for line in text)
    assert text[-1] == "Only you see this."
    assert [b.action for b in reply.message.buttons] == [
        Action(Verb.SUPPORT_EVERYONE, CREW_ID),
        Action(Verb.REACH_CALL, CREW_ID),
        Action(Verb.SUPPORT_NOT_NOW, CREW_ID),
        Action(Verb.SUPPORT_END, CREW_ID),
    ]
    # Asking again shows the terms and changes nothing.
    again = say(decision.circle, "maya", "support", t0)
    assert again.circle == decision.circle and "Open since Tue 1 Dec 2026." in lines(again.effects[0].message)


def test_looking_support_up_explains_it_and_opens_nothing(crew, say, t0, people):
    circle = crew()
    decision = say(circle, "ben", "support", t0)
    assert decision.circle == circle and not decision.circle.life_events
    [reply] = decision.effects
    assert isinstance(reply, Reply) and reply.to == people["ben"].user
    text = lines(reply.message)
    assert render(reply.message.title) == "Support after a life event"
    assert "(3, 10, 21, 45, 90, 180 and 365 days after you open it)" in text[0]
    assert f"Nothing has started. To open it, type /circle support #{CREW} open." in text
    assert text[-1] == "Only you see this."
    # Once open, the same word shows the terms.
    opened = say(circle, "ben", "support open", t0).circle
    assert render(say(opened, "ben", "support", t0).effects[0].message.title) == "Your support in \u201cTuesday crew\u201d"


def test_a_peer_suggests_support_and_the_member_says_yes(crew, say, t0, people):
    circle = crew()
    proposed = say(circle, "cleo", "support for maya", t0)
    [question, reply] = proposed.effects
    assert isinstance(question, DirectMessage) and question.to == people["maya"].user
    assert render(question.message.title) == "cleo is thinking of you"
    assert [b.action for b in question.message.buttons] == [Action(Verb.CONSENT_YES, CREW_ID), Action(Verb.CONSENT_NO, CREW_ID)]
    assert "cleo is not told your answer" in " ".join(lines(question.message))
    assert reply.to == people["cleo"].user and "you will hear only if they do" in " ".join(lines(reply.message))
    assert proposed.circle.life_events[0].consent is Consent.PROPOSED
    # Until maya answers, `support` shows her the question again, and nobody can help.
    assert render(say(proposed.circle, "maya", "support", t0).effects[0].message.title) == "cleo is thinking of you"
    assert error_of(say, proposed.circle, "cleo", "support help maya", t0) == NOT_ALLOWED

    later = t0 + timedelta(days=2)
    yes = say(proposed.circle, "maya", "support yes", later)
    event = yes.circle.life_events[0]
    assert (event.consent, event.consent_at, event.opened_at, event.known_by) == (
        Consent.GIVEN,
        later,
        later,
        (people["cleo"].user,),
    )
    invitation = next(e for e in yes.effects if isinstance(e, DirectMessage))
    assert invitation.to == people["cleo"].user
    assert invitation.message.buttons[0].action == Action(Verb.OFFER_HELP, CREW_ID, item="maya")
    assert not [e for e in yes.effects if isinstance(e, PostToCircle)]


def test_saying_no_ends_it_quietly_and_peers_cannot_keep_asking(crew, say, t0):
    proposed = say(crew(), "cleo", "support for maya", t0).circle
    no = say(proposed, "maya", "support no", t0)
    assert no.circle.life_events[0].consent is Consent.DECLINED
    assert [type(e) for e in no.effects] == [Reply]  # the proposer hears nothing
    refused = "It is up to maya now; they can open support themselves at any time with /circle support open."
    assert error_of(say, no.circle, "cleo", "support for maya", t0 + timedelta(days=30)) == refused
    # The same words as while support is open, so a peer cannot tell a "no" from a "yes".
    opened = crew(("maya", "support open"))
    assert error_of(say, opened, "dev", "support for maya", t0) == refused
    # Much later a peer may ask once more; the member can always open it herself.
    assert (
        say(no.circle, "dev", "support for maya", t0 + timedelta(days=91)).circle.life_events[-1].consent
        is Consent.PROPOSED
    )
    assert say(no.circle, "maya", "support open", t0 + timedelta(days=1)).circle.life_events[-1].consent is Consent.GIVEN


def test_nobody_suggests_support_for_themselves_or_answers_an_unasked_question(crew, say, t0):
    circle = crew()
    assert error_of(say, circle, "ben", "support for ben", t0) == "To open support for yourself, type /circle support open."
    assert error_of(say, circle, "ben", "support yes", t0).startswith("Nobody has suggested support for you here.")
    assert error_of(say, circle, "ben", "support who all", t0).startswith("You have no support open in")


def test_ending_support_revokes_consent_and_stops_every_reminder(crew, say, run_until, career, t0, people):
    circle = crew(
        ("maya", "support open"),
        ("maya", "support who all"),
        ("maya", "support date 2027-03-04 Mum's birthday"),
        ("ben", "support help maya"),
        ("cleo", "support help maya"),
    )
    circle = run_until(circle, career, utc(2026, 12, 20)).circle
    ended = say(circle, "maya", "support end", utc(2026, 12, 20))
    event = ended.circle.life_events[0]
    assert (event.consent, event.consent_at, event.planned, event.dates) == (
        Consent.REVOKED,
        utc(2026, 12, 20),
        None,
        (),
    )
    thanked = [e.to for e in ended.effects if isinstance(e, DirectMessage)]
    assert thanked == [people["ben"].user, people["cleo"].user]
    assert "no more reminders" in lines(ended.effects[0].message)[0]
    assert not reminders(run_until(ended.circle, career, YEAR_ON).effects)
    assert error_of(say, ended.circle, "maya", "support end", t0 + timedelta(days=20)).startswith(
        "You have no support open"
    )
    # Opening again starts a new event, counted from the new day.
    reopened = say(ended.circle, "maya", "support open", utc(2027, 2, 1)).circle
    assert [(e.id, e.consent) for e in reopened.life_events] == [(1, Consent.REVOKED), (2, Consent.GIVEN)]


# ---------------------------------------------------------------- terms and permissions


def test_only_the_people_the_member_names_are_told_and_may_help(crew, say, t0, people):
    circle = crew(("maya", "support open"))
    named = say(circle, "maya", "support who cleo", t0)
    assert [e.to for e in named.effects if isinstance(e, DirectMessage)] == [people["cleo"].user]
    assert "Who knows: cleo." in lines(named.effects[-1].message)
    circle = say(named.circle, "cleo", "support help maya", t0).circle
    # dev was not named: the refusal reads exactly as if there were no support at all.
    assert error_of(say, circle, "dev", "support help maya", t0) == NOT_ALLOWED
    assert error_of(say, crew(), "dev", "support help maya", t0) == NOT_ALLOWED
    assert error_of(say, circle, "maya", "support help maya", t0) == NOT_ALLOWED
    # Widening tells only the newly allowed; narrowing drops a helper who may no longer know.
    everyone = say(circle, "maya", "support who all", t0)
    assert [e.to for e in everyone.effects if isinstance(e, DirectMessage)] == [people["ben"].user, people["dev"].user]
    narrowed = say(everyone.circle, "maya", "support who ben", t0).circle
    assert narrowed.life_events[0].helpers == ()
    assert (
        error_of(say, narrowed, "maya", "support who maya ben", t0)
        == "Name the others who may know; you are always included."
    )


def test_peers_not_named_hear_nothing_all_year(crew, run_until, career, people):
    circle = crew(("maya", "support open"), ("maya", "support who cleo"), ("cleo", "support help maya"))
    run = run_until(circle, career, YEAR_ON)
    assert {e.to for e in reminders(run.effects)} == {people["cleo"].user}
    baseline = run_until(crew(), career, YEAR_ON)
    for name in ("ben", "dev"):
        assert [e for e in run.dms if e.to == people[name].user] == [
            e for e in baseline.dms if e.to == people[name].user
        ]


def test_strangers_get_nothing(crew, say, actor, career, t0):
    circle = crew(("maya", "support open"), ("maya", "support who all"))
    stranger = actor("zed")
    for text in ("support", "support open", "support help maya", "support for maya", "support stop maya"):
        with pytest.raises(CircleError) as caught:
            engine.handle(circle, parse(text), stranger, t0, career)
        assert render(caught.value.text) == "You are not a member of \u201cTuesday crew\u201d."


def test_each_member_changes_only_their_own_terms(crew, say, t0):
    circle = crew(("maya", "support open"), ("maya", "support who all"))
    assert error_of(say, circle, "ben", "support end", t0).startswith("You have no support open")
    assert error_of(say, circle, "ben", "support stop maya", t0) == "You are not getting reminders about maya."
    assert circle.life_events[0].consent is Consent.GIVEN


def test_the_member_sets_how_to_be_reached_and_helpers_read_it(crew, say, run_until, career, t0):
    circle = crew(
        ("maya", "support open"), ("maya", "support who all"), ("maya", "support reach call"), ("ben", "support help maya")
    )
    assert circle.life_events[0].reach is Reach.CALL
    [first] = reminders(run_until(circle, career, utc(2026, 12, 5)).effects)
    assert "maya would welcome an offer to call." in lines(first.message)


def test_offering_twice_changes_nothing_and_stopping_ends_ones_own_reminders(crew, say, run_until, career, t0, people):
    circle = crew(("maya", "support open"), ("maya", "support who all"), ("ben", "support help maya"))
    again = say(circle, "ben", "support help maya", t0)
    assert again.circle.life_events == circle.life_events
    decision = say(circle, "ben", "support stop maya", t0)
    assert decision.circle.life_events[0].helpers == () and decision.circle.life_events[0].planned is None
    assert of_type(decision, WakeAt) == [WakeAt(CREW_ID, decision.circle.plan[0].at)]
    assert not reminders(run_until(decision.circle, career, YEAR_ON).effects)


# ---------------------------------------------------------------- the year


def test_a_year_of_reminders_in_turns_at_ten_in_each_helpers_zone(crew, run_until, career, people):
    circle = crew(
        ("maya", "support open"),
        ("maya", "support who all"),
        ("cleo", "support help maya"),
        ("dev", "support help maya"),
        ("ben", "support help maya"),
    )
    assert circle.next_wake == utc(2026, 12, 4, 15)  # cleo's 10:00 in New York, before the first exercise
    run = run_until(circle, career, YEAR_ON)
    sent = reminders(run.effects)
    zones = {people[name].user: (name, people[name].tz) for name in ("ben", "cleo", "dev")}
    ticks = {
        e.key: tick for d, tick in zip(run.decisions, run.ticks) for e in d.effects if isinstance(e, DirectMessage)
    }
    assert [(e.key.split("/")[1], zones[e.to][0], local(ticks[e.key], zones[e.to][1])) for e in sent] == [
        ("care:1:day3", "cleo", "2026-12-04 10:00"),
        ("care:1:day10", "dev", "2026-12-11 10:00"),
        ("care:1:day21", "ben", "2026-12-22 10:00"),
        ("care:1:day45", "cleo", "2027-01-15 10:00"),
        ("care:1:day90", "dev", "2027-03-01 10:00"),
        ("care:1:day180", "ben", "2027-05-30 10:00"),
        ("care:1:day365", "cleo", "2027-12-01 10:00"),
    ]
    assert [ticks[e.key] for e in sent] == [
        utc(2026, 12, 4, 15),
        utc(2026, 12, 11, 1),
        utc(2026, 12, 22, 10),
        utc(2027, 1, 15, 15),
        utc(2027, 3, 1, 1),
        utc(2027, 5, 30, 9),
        utc(2027, 12, 1, 15),  # London and New York on summer time in May
    ]
    assert sent[0].key == f"{CREW_ID}/care:1:day3/{people['cleo'].user.key}"
    assert [e.not_before for e in sent] == [ticks[e.key] for e in sent]  # 10:00 is nobody's quiet hours
    # Each reminder carries the next of the kit's suggestions, how maya likes to be reached, and who sees it.
    ideas = [lines(e.message)[1] for e in sent]
    assert ideas == [f"One idea: {s}" for s in career.support.suggestions[:7]]
    assert all(
        lines(e.message)[2:]
        == [
            "maya would rather get a message than a call.",
            "Only you see this reminder. Helpers take turns, so this one thing is plenty for now.",
        ]
        for e in sent
    )
    assert lines(sent[0].message)[0] == "It is 3 days since support for maya began."
    assert lines(sent[-1].message)[0] == "It is a year today since support for maya began. Anniversaries can be hard."
    assert sent[0].message.buttons[0].action == Action(Verb.STOP_REMINDERS, CREW_ID, item="maya")
    # The circle ran its course and closed in the meantime; care went on.
    closed_at = next(t for d, t in zip(run.decisions, run.ticks) if d.circle.state is State.CLOSED)
    assert closed_at < ticks[sent[-2].key]
    assert run.circle.next_wake is None and run.circle.life_events[0].planned is None
    # The circle's space saw exactly what it would have without support, and maya herself got no DM.
    baseline = run_until(crew(), career, YEAR_ON)
    assert run.posts == baseline.posts
    assert [e for e in run.dms if e.to == people["maya"].user] == [
        e for e in baseline.dms if e.to == people["maya"].user
    ]


def test_no_helper_hears_about_the_same_person_twice_in_a_week(crew, run_until, kits, people):
    kit = kits["career"].model_copy(
        update={"support": kits["career"].support.model_copy(update={"reminder_days": tuple(range(1, 15))})}
    )
    circle = crew(
        ("maya", "support open"),
        ("maya", "support who all"),
        ("ben", "support help maya"),
        ("cleo", "support help maya"),
        ("dev", "support help maya"),
        start=False,
        kit=kit,
    )
    sent = reminders(run_until(circle, kit, YEAR_ON).effects)
    names = {people[n].user: n for n in ("ben", "cleo", "dev")}
    days = [
        (
            names[e.to],
            e.key.split(":")[2].split("/")[0],
            e.not_before.astimezone(ZoneInfo(people[names[e.to]].tz)).date(),
        )
        for e in sent
    ]
    # Three turns, then the fourth step waits for the first helper's week to pass rather than pile on.
    assert days[:4] == [
        ("ben", "day1", date(2026, 12, 2)),
        ("cleo", "day2", date(2026, 12, 3)),
        ("dev", "day3", date(2026, 12, 4)),
        ("ben", "day4", date(2026, 12, 9)),
    ]
    for name in ("ben", "cleo", "dev"):
        mine = [day for who, _, day in days if who == name]
        assert all((b - a).days >= 7 for a, b in pairwise(mine)), name
    assert len(sent) < 14  # some steps found nobody free within their week and lapsed


def test_a_step_waits_for_a_helper_who_is_away_or_has_not_offered_yet(crew, say, run_until, career, t0, people):
    circle = crew(
        ("maya", "support open"),
        ("maya", "support who all"),
        ("ben", "away 2026-12-05"),
        ("ben", "support help maya"),
        start=False,
    )
    [first, *_] = reminders(run_until(circle, career, YEAR_ON).effects)
    assert (first.key.split("/")[1], first.not_before) == ("care:1:day3", utc(2026, 12, 6, 10))
    # With nobody offering, nothing is planned; an offer on day 5 still catches day 3's week.
    quiet = crew(("maya", "support open"), ("maya", "support who all"), start=False)
    assert quiet.next_wake is None
    offered = say(quiet, "dev", "support help maya", utc(2026, 12, 6, 9))
    assert offered.circle.next_wake == utc(2026, 12, 7, 1)  # 10:00 in Tokyo on 7 Dec
    assert of_type(offered, WakeAt) == [WakeAt(CREW_ID, utc(2026, 12, 7, 1))]


@pytest.mark.parametrize(
    "change",
    [
        ("cleo", "leave"),
        ("maya", "remove cleo"),
        ("cleo", "away 2026-12-06"),
        ("maya", "support who ben dev"),
        ("cleo", "support stop maya"),
        "forget",
    ],
)
def test_when_a_helper_drops_out_the_next_one_is_reminded_that_day(crew, say, run_until, career, people, change):
    circle = crew(
        ("maya", "support open"),
        ("maya", "support who all"),
        ("cleo", "support help maya"),
        ("ben", "support help maya"),
    )
    assert circle.life_events[0].planned.helper == people["cleo"].user  # 10:00 in New York on day 3
    now = utc(2026, 12, 2, 12)
    if change == "forget":
        anonymous = UserRef("console", "local", "former-member-1")
        changed = engine.forget(circle, people["cleo"].user, anonymous, now, career)
    else:
        changed = say(circle, *change, now)
    # Ben's 10:00 in London on day 3 comes before cleo's would have: planned now, not a day later.
    assert changed.circle.life_events[0].planned == CareReminder("day3", people["ben"].user, utc(2026, 12, 4, 10))
    assert WakeAt(CREW_ID, utc(2026, 12, 4, 10)) in of_type(changed, WakeAt)
    [first, *_] = reminders(run_until(changed.circle, career, utc(2026, 12, 31)).effects)
    assert (first.to, first.not_before) == (people["ben"].user, utc(2026, 12, 4, 10))
    assert lines(first.message)[0] == "It is 3 days since support for maya began."


def test_a_reminder_that_waited_says_how_many_days_it_has_really_been(crew, say, run_until, career, people):
    circle = crew(("maya", "support open"), ("maya", "support who all"), ("ben", "away 2026-12-05"), ("ben", "support help maya"))
    [first, *_] = reminders(run_until(circle, career, utc(2026, 12, 31)).effects)
    assert first.not_before == utc(2026, 12, 6, 10)  # day 3 waited for ben to come back
    assert lines(first.message)[0] == "It is 5 days since support for maya began."


def test_not_now_pauses_without_moving_the_dates(crew, say, run_until, career, t0):
    circle = crew(("maya", "support open"), ("maya", "support who all"), ("ben", "support help maya"), start=False)
    paused = say(circle, "maya", "support notnow", utc(2026, 12, 2))
    assert paused.circle.life_events[0].not_now and paused.circle.next_wake is None
    assert lines(paused.effects[0].message)[0].startswith("Paused. Nobody is told")
    assert not reminders(run_until(paused.circle, career, utc(2026, 12, 13)).effects)
    resumed = say(paused.circle, "maya", "support resume", utc(2026, 12, 13, 9))
    sent = reminders(run_until(resumed.circle, career, utc(2027, 1, 31)).effects)
    # Day 3's week has passed; day 10's is still open, so it comes the same morning; day 21 keeps its date.
    assert [(e.key.split("/")[1], e.not_before) for e in sent] == [
        ("care:1:day10", utc(2026, 12, 13, 10)),
        ("care:1:day21", utc(2026, 12, 22, 10)),
        ("care:1:day45", utc(2027, 1, 15, 10)),
    ]


def test_shared_dates_remind_the_day_before(crew, say, run_until, career, t0):
    circle = crew(
        ("maya", "support open"),
        ("maya", "support who all"),
        ("ben", "support help maya"),
        ("cleo", "support help maya"),
        start=False,
    )
    shared = say(circle, "maya", "support date 2027-03-04 Mum's birthday", t0)
    assert "A date you shared: Thu 4 Mar 2027 \u2014 Mum's birthday" in lines(shared.effects[0].message)
    sent = reminders(run_until(shared.circle, career, utc(2027, 3, 31)).effects)
    birthday = next(e for e in sent if "date:2027-03-04" in e.key)
    # day90 (1 Mar) went to ben; on 3 Mar it is cleo's turn, at 10:00 in New York.
    assert (birthday.key, birthday.not_before) == (
        f"{CREW_ID}/care:1:date:2027-03-04/console:local:cleo",
        utc(2027, 3, 3, 15),
    )
    assert (
        lines(birthday.message)[0]
        == "Tomorrow, Thu 4 Mar 2027, is a date maya asked you to remember: \u201cMum's birthday\u201d."
    )
    forgotten = say(shared.circle, "maya", "support date 2027-03-04", t0).circle
    assert not [e for e in reminders(run_until(forgotten, career, utc(2027, 3, 31)).effects) if "date:" in e.key]


def test_shared_dates_must_leave_room_for_the_day_before(crew, say, t0):
    circle = crew(("maya", "support open"))
    assert error_of(say, circle, "maya", "support date 2026-12-02 tomorrow", t0) == (
        "Give a date from Thu 3 Dec 2026 on, so a helper can be reminded the day before."
    )
    assert error_of(say, circle, "maya", "support date 2027-01-01", t0) == "You have not shared Fri 1 Jan 2027."


@pytest.mark.parametrize("day", ["2028-12-01", "9999-12-30", "9999-12-31"])
def test_shared_dates_lie_within_two_years(crew, say, t0, day):
    circle = crew(("maya", "support open"))
    assert error_of(say, circle, "maya", f"support date {day} far future", t0) == (
        "Give a date within two years, up to Thu 30 Nov 2028; you can add later ones nearer the time."
    )
    assert say(circle, "maya", "support date 2028-11-30 two years on", t0).circle != circle


def test_reminders_go_on_after_the_moderator_closes_the_circle(crew, say, run_until, career, t0):
    circle = crew(("maya", "support open"), ("maya", "support who all"), ("ben", "support help maya"))
    closed = say(circle, "maya", "close", utc(2026, 12, 2))
    assert closed.circle.state is State.CLOSED and closed.circle.plan == ()
    assert closed.circle.next_wake == utc(2026, 12, 4, 10)
    assert len(reminders(run_until(closed.circle, career, YEAR_ON).effects)) == 7


def test_a_late_tick_skips_the_reminder_but_moves_the_turns_on(crew, run_until, career, people):
    circle = crew(
        ("maya", "support open"),
        ("maya", "support who all"),
        ("ben", "support help maya"),
        ("cleo", "support help maya"),
        start=False,
    )
    decision = engine.tick(circle, career, utc(2026, 12, 4, 17), timedelta(hours=1))
    assert decision.skipped == (f"{CREW_ID}/care:1:day3/{people['ben'].user.key}",)
    assert not reminders(decision.effects)
    event = decision.circle.life_events[0]
    assert [(r.step, r.sent) for r in event.reminders] == [("day3", False)]
    assert event.planned.step == "day10" and event.planned.helper == people["cleo"].user
    # The skipped reminder never reached ben, so it does not count against his week.
    later = engine.tick(decision.circle, career, utc(2026, 12, 11, 15), timedelta(hours=1))
    assert [e.to for e in reminders(later.effects)] == [people["cleo"].user]


def test_the_circle_is_told_only_when_the_member_asks(crew, say, t0, people):
    circle = crew(("maya", "support open"), ("maya", "support who ben"), ("maya", "support reach call"))
    told = say(circle, "maya", "support tell circle", t0)
    [post] = of_type(told, PostToCircle)
    assert lines(post.message)[:2] == [
        "maya asked me to let you know that they are going through a hard time.",
        "maya would welcome an offer to call.",
    ]
    assert post.message.buttons[0].action == Action(Verb.OFFER_HELP, CREW_ID, item="maya")
    assert told.circle.life_events[0].everyone_knows and not of_type(told, DirectMessage)
    assert error_of(say, told.circle, "maya", "support tell circle", t0) == "The circle has already been told."


def test_the_anniversary_is_the_same_date_a_year_on_even_across_a_leap_day():
    assert days_after(date(2027, 6, 1), 365) == date(2028, 6, 1)  # 366 days: 29 Feb 2028 lies between
    assert days_after(date(2028, 2, 29), 365) == date(2029, 2, 28)
    assert days_after(date(2027, 6, 1), 730) == date(2029, 6, 1)
    assert days_after(date(2027, 6, 1), 180) == date(2027, 11, 28)


def test_life_events_survive_storage(crew, run_until, career):
    circle = crew(
        ("maya", "support open"),
        ("maya", "support who cleo"),
        ("maya", "support date 2027-03-04 Mum's birthday"),
        ("cleo", "support help maya"),
    )
    circle = run_until(circle, career, utc(2026, 12, 20)).circle
    assert load_circle(dump_circle(circle)) == circle
