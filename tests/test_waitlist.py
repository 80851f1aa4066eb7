"""A full circle's waitlist and its seat offers (bot/waitlist.py), through the engine with fixed datetimes.

The standard circle (see conftest) is made full: maya moderates, ben, cleo, dev
and eli fill its five seats; fay, gus and hal want in.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot import commands as c
from bot import engine
from bot.actions import Action, Verb, command_of
from bot.circle import Kind
from bot.effects import DirectMessage, PostToCircle, Reply, WakeAt
from bot.errors import CircleError
from bot.forming import joinable
from bot.i18n import render
from bot.privacy import stand_in
from bot.waitlist import OFFER_TIME, WAITLIST_CAP
from conftest import make_actor
from storage.codec import dump_circle, load_circle

FAY, GUS, HAL = make_actor("fay", "America/New_York"), make_actor("gus"), make_actor("hal")


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def error_of(call, *args) -> str:
    with pytest.raises(CircleError) as caught:
        call(*args)
    return render(caught.value.text)


def of_type(decision, cls):
    return [e for e in decision.effects if isinstance(e, cls)]


@pytest.fixture
def career(kits):
    return kits["career"]


@pytest.fixture
def full(new_circle):
    circle = new_circle(joined=4, capacity=5)
    assert circle.is_full
    return circle


def waiting(circle, career, t0, *people):
    """``circle`` with ``people`` in its line, in that order."""
    for person in people:
        circle = engine.handle(circle, c.Join(None), person, t0, career).circle
    return circle


def test_joining_a_full_circle_puts_them_in_line_at_once(full, career, t0, rendered):
    decision = engine.handle(full, c.Join(None), FAY, t0, career)
    assert decision.circle.members == full.members and not decision.circle.seat_offers  # nobody joined
    assert [w.user for w in decision.circle.waitlist] == [FAY.user]
    [reply] = of_type(decision, Reply)
    assert rendered(reply.message) == (
        "On the waitlist\n"
        "\u201cTuesday crew\u201d is full (5 people), so you are now number 1 in line for a seat.\n"
        "If a seat frees up before its second week, you get a private message and a day to take it.\n"
        "To leave the line: /circle leave #tuesday-crew.\n"
        "Or try /circle list for other circles."
    )
    assert not reply.message.buttons
    # Being in line is undone as simply.
    assert not engine.handle(decision.circle, c.Leave(None), FAY, t0, career).circle.waitlist


def test_people_wait_in_the_order_they_came_and_are_told_their_place(full, career, t0, rendered):
    circle = full
    for place, person in enumerate((FAY, GUS, HAL), 1):
        decision = engine.handle(circle, c.Join(None), person, t0 + timedelta(minutes=place), career)
        circle = decision.circle
        [reply] = of_type(decision, Reply)
        assert f"so you are now number {place} in line for a seat." in rendered(reply.message)
        assert not of_type(decision, PostToCircle)  # the circle is not told who waits
    assert [w.user for w in circle.waitlist] == [FAY.user, GUS.user, HAL.user]
    assert circle.waitlist[0].tz == "America/New_York"
    # No one twice: asking again tells them their place and changes nothing.
    assert error_of(engine.handle, circle, c.Join(None), GUS, t0, career) == (
        "You are already waiting for a seat in \u201cTuesday crew\u201d: number 2 in line."
    )


def test_the_waitlist_has_a_cap(full, career, t0):
    people = [make_actor(f"w{n}") for n in range(WAITLIST_CAP)]
    circle = waiting(full, career, t0, *people)
    assert len(circle.waitlist) == WAITLIST_CAP
    assert error_of(engine.handle, circle, c.Join(None), FAY, t0, career) == (
        "The waitlist of \u201cTuesday crew\u201d is full too (10 people are waiting). Try /circle list for other circles."
    )


def test_a_removed_person_cannot_wait(full, career, moderator, members, t0):
    circle = engine.handle(full, c.Remove(None, "ben"), moderator, t0, career).circle
    circle = engine.handle(circle, c.Join(None), FAY, t0, career).circle  # the freed seat is taken
    text = error_of(engine.handle, circle, c.Join(None), members[0], t0, career)
    assert text.startswith("You were removed from \u201cTuesday crew\u201d")


def test_a_freed_seat_is_offered_to_the_first_in_line_and_held_for_a_day(full, career, members, t0, rendered):
    circle = waiting(full, career, t0, FAY, GUS)
    now = utc(2026, 12, 1, 15, 0)  # 10:00 in New York: fay can read it at once
    decision = engine.handle(circle, c.Leave(None), members[0], now, career)
    circle = decision.circle
    [offer] = circle.seat_offers
    assert (offer.user, offer.until) == (FAY.user, now + OFFER_TIME)
    assert [w.user for w in circle.waitlist] == [GUS.user]
    [dm] = [e for e in of_type(decision, DirectMessage) if e.to == FAY.user]
    text = rendered(dm.message)
    assert "A seat for you in \u201cTuesday crew\u201d" in text
    assert "It is held for you until Wed 2 Dec 2026 10:00 (America/New_York)." in text  # her own zone
    assert [b.action.verb for b in dm.message.buttons] == [Verb.TAKE_SEAT, Verb.PASS_SEAT]
    # The seat is held: nobody else may take it, and the list does not show the circle as open.
    assert circle.open_seats == 0 and not joinable(circle)
    after = engine.handle(circle, c.Join(None), HAL, now, career).circle
    assert after.seat_offers == circle.seat_offers and [w.user for w in after.waitlist] == [GUS.user, HAL.user]
    # The clock wakes when the offer runs out.
    assert circle.next_wake == offer.until
    assert WakeAt(circle.id, offer.until) in engine.handle(waiting(full, career, t0, FAY), c.Leave(None), members[0],
                                                           now, career).effects


def test_an_offer_made_in_the_night_counts_its_day_from_the_morning(full, career, members, t0):
    circle = waiting(full, career, t0, GUS)  # gus reads in the circle's zone, London
    night = utc(2026, 12, 1, 23, 0)
    circle = engine.handle(circle, c.Leave(None), members[0], night, career).circle
    assert circle.seat_offers[0].until > night + OFFER_TIME


def test_taking_the_seat_is_joining(full, career, members, t0, rendered):
    circle = waiting(full, career, t0, FAY, GUS)
    circle = engine.handle(circle, c.Leave(None), members[0], t0, career).circle
    decision = engine.handle(circle, command_of(Action(Verb.TAKE_SEAT, circle.id)), FAY, t0, career)
    circle = decision.circle
    assert circle.member(FAY.user) and not circle.seat_offers
    assert [w.user for w in circle.waitlist] == [GUS.user]
    assert rendered(of_type(decision, PostToCircle)[0].message) == "fay joined the circle. Welcome!"
    assert rendered(of_type(decision, Reply)[0].message).startswith("Welcome\nYou joined \u201cTuesday crew\u201d.")


def test_a_take_press_without_a_held_seat_is_refused_and_changes_nothing(full, career, members, t0):
    circle = waiting(full, career, t0, FAY, GUS)
    circle = engine.handle(circle, c.Leave(None), members[0], t0, career).circle
    take = command_of(Action(Verb.TAKE_SEAT, circle.id))
    for stranger in (GUS, HAL):  # second in line, or not in line at all
        text = error_of(engine.handle, circle, take, stranger, t0, career)
        assert text.startswith("No seat in \u201cTuesday crew\u201d is held for you now")
    # Even when a seat is free, the button takes none that is not held for the presser.
    opened = engine.handle(full, c.Leave(None), members[0], t0, career).circle
    assert error_of(engine.handle, opened, take, HAL, t0, career).startswith("No seat")
    # A member's "No thanks" press never makes them leave.
    text = error_of(engine.handle, circle, command_of(Action(Verb.PASS_SEAT, circle.id)), members[1], t0, career)
    assert text == "You are not waiting for a seat in \u201cTuesday crew\u201d."


def test_no_thanks_passes_the_seat_to_the_next_in_line(full, career, members, t0, rendered):
    circle = waiting(full, career, t0, FAY, GUS)
    circle = engine.handle(circle, c.Leave(None), members[0], t0, career).circle
    decision = engine.handle(circle, command_of(Action(Verb.PASS_SEAT, circle.id)), FAY, t0, career)
    circle = decision.circle
    assert [o.user for o in circle.seat_offers] == [GUS.user] and not circle.waitlist
    assert [e.to for e in of_type(decision, DirectMessage)] == [GUS.user]
    assert "the seat goes to the next person in line" in rendered(of_type(decision, Reply)[0].message)


def test_an_unanswered_offer_lapses_on_the_clock_and_goes_to_the_next(full, career, members, t0, grace, rendered):
    circle = waiting(full, career, t0, FAY, GUS)
    circle = engine.handle(circle, c.Leave(None), members[0], t0, career).circle
    until = circle.seat_offers[0].until
    assert engine.tick(circle, career, until - timedelta(minutes=1), grace).circle.seat_offers == circle.seat_offers
    decision = engine.tick(circle, career, until, grace)
    circle = decision.circle
    assert [(o.user, o.until) for o in circle.seat_offers] == [(GUS.user, until + OFFER_TIME)]
    lapsed, offered = of_type(decision, DirectMessage)
    assert lapsed.to == FAY.user and "has gone to the next person in line" in rendered(lapsed.message)
    assert offered.to == GUS.user and offered.message.buttons[0].action.verb is Verb.TAKE_SEAT
    assert WakeAt(circle.id, until + OFFER_TIME) in decision.effects
    # Gus lets it lapse too: nobody waits, so the seat is open to anyone again.
    circle = engine.tick(circle, career, until + OFFER_TIME, grace).circle
    assert not circle.seat_offers and not circle.waitlist and circle.open_seats == 1 and joinable(circle)
    assert circle.next_wake is None  # a forming circle has nothing else to wake for
    assert engine.handle(circle, c.Join(None), HAL, until + OFFER_TIME, career).circle.member(HAL.user)


def test_leaving_the_waitlist(full, career, t0, rendered):
    circle = waiting(full, career, t0, FAY, GUS)
    decision = engine.handle(circle, c.Leave(None), FAY, t0, career)
    assert [w.user for w in decision.circle.waitlist] == [GUS.user]
    assert rendered(of_type(decision, Reply)[0].message) == "You have left the waitlist of \u201cTuesday crew\u201d."
    assert error_of(engine.handle, decision.circle, c.Leave(None), FAY, t0, career) == (
        "You are not a member of \u201cTuesday crew\u201d."
    )


def test_the_waitlist_closes_kindly_once_week_2_begins(started_circle, run_until, career, members, t0, rendered):
    circle = started_circle(joined=4, capacity=5)
    circle = waiting(circle, career, t0, FAY, GUS)
    week_2 = next(o.at for o in circle.plan if o.kind is Kind.EXERCISE and o.number == 2)
    ran = run_until(circle, career, week_2)
    circle = ran.circle
    assert circle.week == 2 and not circle.waitlist
    told = [d for d in ran.dms if "waitlist is closed" in rendered(d.message)]
    assert sorted(d.to.id for d in told) == ["fay", "gus"]  # once each
    assert "/circle list" in rendered(told[0].message)
    # A seat freed now is offered to nobody; a full circle past week 2 offers no waitlist.
    circle = engine.handle(circle, c.Leave(None), members[0], week_2, career).circle
    assert not circle.seat_offers and circle.open_seats == 1
    circle = engine.handle(circle, c.Join(None), HAL, week_2, career).circle
    assert error_of(engine.handle, circle, c.Join(None), FAY, week_2, career).startswith(
        "\u201cTuesday crew\u201d is full and its weeks are under way"
    )


def test_a_seat_freed_in_week_1_is_offered(started_circle, run_until, career, members, t0):
    circle = waiting(started_circle(joined=4, capacity=5), career, t0, FAY)
    week_1 = next(o.at for o in circle.plan if o.kind is Kind.EXERCISE and o.number == 1)
    circle = run_until(circle, career, week_1).circle
    assert circle.week == 1 and circle.waitlist
    circle = engine.handle(circle, c.Leave(None), members[0], week_1, career).circle
    assert [o.user for o in circle.seat_offers] == [FAY.user]


def test_closing_the_circle_tells_those_waiting(full, career, moderator, t0):
    circle = waiting(full, career, t0, FAY)
    decision = engine.handle(circle, c.Close(None), moderator, t0, career)
    assert not decision.circle.waitlist
    # (the members are thanked by DM too: bot/running.py's close)
    assert [e.to for e in of_type(decision, DirectMessage) if not circle.member(e.to)] == [FAY.user]


def test_forgetting_someone_waiting_takes_them_out_of_line_and_passes_their_seat(full, career, members, t0):
    circle = waiting(full, career, t0, FAY, GUS)
    circle = engine.handle(circle, c.Leave(None), members[0], t0, career).circle
    after = engine.forget(circle, FAY.user, stand_in(FAY.user, "x"), t0, career).circle
    assert [o.user for o in after.seat_offers] == [GUS.user] and not after.waitlist
    assert "fay" not in dump_circle(after)


def test_the_waitlist_round_trips_and_old_circles_load(full, career, members, t0):
    circle = waiting(full, career, t0, FAY, GUS)
    circle = engine.handle(circle, c.Leave(None), members[0], t0, career).circle
    assert load_circle(dump_circle(circle)) == circle
    old = dump_circle(replace(full, waitlist=(), seat_offers=())).replace(',"waitlist":[],"seat_offers":[]', "")
    assert "waitlist" not in old
    assert load_circle(old) == full
