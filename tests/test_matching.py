"""The matching algorithm (bot/matching.py): properties over any pool, and the cases people ask about."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.circle import UserRef
from bot.errors import CircleError
from bot.matching import (
    Reason,
    Signup,
    Window,
    hours_text,
    match,
    may_meet,
    met_from,
    moments,
    parse_hours,
)

NOW = datetime(2027, 2, 1, 9, 0, tzinfo=UTC)  # a Monday
ZONES = ("Europe/London", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "UTC")


def person(n: int, hours: str = "tue 17-20", tz: str = "Europe/London", *, kit: str = "starter", language: str = "en",
           strangers: bool = True, moderate: bool = False) -> Signup:
    return Signup(UserRef("console", "W", f"u{n}"), f"p{n}", kit, tz, parse_hours(hours), language, strangers,
                  moderate, NOW - timedelta(minutes=1000 - n))


signups = st.builds(
    lambda n, day, start, length, tz, kit, strangers, moderate: Signup(
        UserRef("console", "W", f"u{n}"), f"p{n}", kit, tz, (Window(day, start * 60, (start + length) * 60),), "en",
        strangers, moderate, NOW - timedelta(minutes=n),
    ),
    st.integers(0, 10_000), st.integers(0, 1), st.integers(16, 19), st.integers(1, 3), st.sampled_from(ZONES[:2]),
    st.sampled_from(("starter", "career")), st.booleans(), st.booleans(),
)
pools = st.lists(signups, max_size=60, unique_by=lambda s: s.user.key)


def history(pool: list[Signup], pairs: list[tuple[int, int]]) -> dict[str, frozenset[str]]:
    keys = [s.user.key for s in pool]
    return met_from([(keys[a % len(keys)], keys[b % len(keys)]) for a, b in pairs] if keys else [])


@settings(max_examples=150, deadline=None)
@given(pools, st.lists(st.tuples(st.integers(0, 99), st.integers(0, 99)), max_size=40), st.randoms())
def test_every_group_is_4_or_5_with_one_volunteer_moderating_at_an_hour_all_share_and_no_repeat_pairs(pool, pairs, rnd):
    met = history(pool, pairs)
    result = match(pool, met, NOW)
    placed = [s for g in result.groups for s in g.members]
    assert len(placed) == len({s.user.key for s in placed})  # nobody twice
    assert {s.user.key for s in placed} | {u.signup.user.key for u in result.unplaced} == {s.user.key for s in pool}
    assert not {s.user.key for s in placed} & {u.signup.user.key for u in result.unplaced}
    for group in result.groups:
        assert 4 <= len(group.members) <= 5
        assert group.moderator.moderate
        assert all(group.at in moments(s, NOW) for s in group.members)
        assert len({(s.kit, s.language) for s in group.members}) == 1
        assert all(may_meet(a, b, met) for a in group.members for b in group.members if a != b)
    # Deterministic: the same pool in any order gives the same result.
    shuffled = list(pool)
    rnd.shuffle(shuffled)
    assert match(shuffled, met, NOW) == result


def test_fourteen_at_one_hour_make_five_five_four_not_six_six_two():
    pool = [person(n, moderate=n < 3) for n in range(14)]
    result = match(pool, {}, NOW)
    assert sorted(len(g.members) for g in result.groups) == [4, 5, 5]
    assert not result.unplaced


def test_six_at_one_hour_make_one_group_of_five_and_the_spare_volunteer_waits_to_moderate_another():
    result = match([person(n, moderate=n < 2) for n in range(6)], {}, NOW)
    assert [len(g.members) for g in result.groups] == [5]
    assert [u.signup.name for u in result.unplaced] == ["p1"]
    nine = match([person(n, moderate=n < 3) for n in range(9)], {}, NOW)
    assert [len(g.members) for g in nine.groups] == [5, 4]


def test_hours_in_different_zones_meet_at_the_same_instant():
    # Tue 17:00 London is Tue 18:00 Berlin and Tue 22:30 Kolkata in February.
    pool = [
        person(1, "tue 17-18", "Europe/London", moderate=True),
        person(2, "tue 18-19", "Europe/Berlin"),
        person(3, "tue 22:30-23:30", "Asia/Kolkata"),
        person(4, "tue 12-13", "America/New_York"),
    ]
    [group] = match(pool, {}, NOW).groups
    assert group.at == datetime(2027, 2, 2, 17, 0, tzinfo=UTC)


def test_people_who_met_before_are_not_matched_again_unless_both_ask():
    pool = [person(n, moderate=n == 0) for n in range(4)]
    met = met_from([["console:W:u0", "console:W:u1"]])
    result = match(pool, met, NOW)
    assert not result.groups
    assert {u.reason for u in result.unplaced} == {Reason.MET_BEFORE}
    # Both would rather meet people they know: then they may.
    pool[0], pool[1] = person(0, moderate=True, strangers=False), person(1, strangers=False)
    assert [len(g.members) for g in match(pool, met, NOW).groups] == [4]


def test_those_left_are_told_why():
    few = match([person(n, kit="career", moderate=True) for n in range(3)], {}, NOW)
    assert {u.reason for u in few.unplaced} == {Reason.TOO_FEW}
    apart = match([person(n, f"{['mon', 'tue', 'wed', 'thu'][n]} 17-18", moderate=True) for n in range(4)], {}, NOW)
    assert {u.reason for u in apart.unplaced} == {Reason.NO_SLOT}
    nobody = match([person(n) for n in range(5)], {}, NOW)
    assert {u.reason for u in nobody.unplaced} == {Reason.NO_MODERATOR}


def test_kits_and_languages_are_matched_apart():
    pool = [person(n, moderate=n in (0, 4), language="en" if n < 4 else "es") for n in range(8)]
    assert sorted((g.language, len(g.members)) for g in match(pool, {}, NOW).groups) == [("en", 4), ("es", 4)]


def test_a_kit_with_four_places_makes_groups_of_four():
    result = match([person(n, moderate=n < 2) for n in range(8)], {}, NOW, {"starter": 4})
    assert [len(g.members) for g in result.groups] == [4, 4]


def test_hours_are_read_as_people_write_them():
    assert hours_text(parse_hours("Tue 17-20,  thursday 18:30-21")) == "tue 17-20, thu 18:30-21"
    too_many = ", ".join(f"{day} {h}-{h + 1}" for day in ("mon", "tue", "wed", "thu", "fri") for h in range(8, 14))
    for bad in ("tue", "tue 20-17", "tue 17-17:30", "someday 17-20", "tue 17-25", too_many):
        with pytest.raises(CircleError):
            parse_hours(bad)


def test_a_slot_earlier_today_is_next_weeks():
    monday_early = person(1, "mon 8-9")
    assert moments(monday_early, NOW) == (datetime(2027, 2, 8, 8, 0, tzinfo=UTC),)
