"""When things happen (bot/timetable.py): pure functions of slot, zone, kit and anchor."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.circle import Anchor, Kind, Slot
from bot.errors import CircleError
from bot.i18n import Day, Weekday, render
from bot.timetable import WEEKDAYS, first_meeting_on, format_when, lay_out, meeting_at, parse_slot, parse_zone

LONDON = "Europe/London"
MON_1700 = Slot(0, time(17, 0))
TUE_1700 = Slot(1, time(17, 0))


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def by_key(plan):
    return {o.key: o for o in plan}


def local(moment: datetime, tz: str = LONDON) -> datetime:
    return moment.astimezone(ZoneInfo(tz))


# ---------------------------------------------------------------- zones


@pytest.mark.parametrize("name", ["Europe/London", "America/New_York", "Asia/Kolkata", "UTC", "Australia/Lord_Howe"])
def test_parse_zone_accepts_iana_names(name):
    assert parse_zone(name) == name


@pytest.mark.parametrize(
    ("name", "suggested"),
    [
        ("Europe/Londn", "Europe/London"),
        ("europe/london", "Europe/London"),
        ("America/New York", "America/New_York"),
        ("Asia/Tokio", "Asia/Tokyo"),
    ],
)
def test_parse_zone_suggests_close_matches(name, suggested):
    with pytest.raises(CircleError) as caught:
        parse_zone(name)
    text = render(caught.value.text)
    assert text.startswith(f"Unknown time zone \u201c{name}\u201d. Use an IANA name such as: ")
    assert suggested in text


def test_parse_zone_with_nothing_close_still_names_valid_zones():
    with pytest.raises(CircleError) as caught:
        parse_zone("Middle-earth/Shire")
    text = render(caught.value.text)
    suggestions = text.split("such as: ", 1)[1].rstrip(".").split(", ")
    assert suggestions and all(parse_zone(s) == s for s in suggestions)


def test_case_mismatch_suggests_only_the_exact_zone():
    with pytest.raises(CircleError) as caught:
        parse_zone("asia/tokyo")
    assert render(caught.value.text).endswith("such as: Asia/Tokyo.")


# ---------------------------------------------------------------- slots


@pytest.mark.parametrize(
    ("day", "clock", "expected"),
    [
        ("mon", "17:00", Slot(0, time(17, 0))),
        ("Tue", "08:30", Slot(1, time(8, 30))),
        ("wednesday", "9:05", Slot(2, time(9, 5))),
        ("THURSDAY", "00:00", Slot(3, time(0, 0))),
        ("fri", "23:59", Slot(4, time(23, 59))),
        (" sat ", " 12:00 ", Slot(5, time(12, 0))),
        ("Sun", "7:45", Slot(6, time(7, 45))),
    ],
)
def test_parse_slot(day, clock, expected):
    assert parse_slot(day, clock) == expected


@pytest.mark.parametrize("day", ["xyz", "m", "", "1", "tue1", "t\u00fce"])
def test_parse_slot_unknown_weekday_lists_choices(day):
    with pytest.raises(CircleError) as caught:
        parse_slot(day, "17:00")
    assert render(caught.value.text) == f"Unknown weekday \u201c{day}\u201d. Use one of: {', '.join(WEEKDAYS)}."


@pytest.mark.parametrize(
    "clock", ["24:00", "12:60", "noon", "1700", "", "17:00pm", "99999999999999999999:00", "17:99999999999999999999", "-1:00"]
)
def test_parse_slot_bad_time(clock):
    with pytest.raises(CircleError) as caught:
        parse_slot("tue", clock)
    assert "Use 24-hour HH:MM" in render(caught.value.text)


# ---------------------------------------------------------------- first meeting


@pytest.mark.parametrize(
    ("not_before", "expected"),
    [
        (utc(2026, 12, 1, 9, 0), date(2026, 12, 1)),  # same day, before the slot
        (utc(2026, 12, 1, 17, 0), date(2026, 12, 1)),  # exactly at the slot
        (utc(2026, 12, 1, 17, 0, 1), date(2026, 12, 8)),  # a second late: next week
        (utc(2026, 12, 2, 9, 0), date(2026, 12, 8)),  # Wednesday
        (utc(2026, 11, 29, 23, 30), date(2026, 12, 1)),  # Sunday night
    ],
)
def test_first_meeting_on(not_before, expected):
    on = first_meeting_on(TUE_1700, LONDON, not_before)
    assert on == expected
    assert on.weekday() == TUE_1700.weekday
    assert meeting_at(TUE_1700, LONDON, on) >= not_before


def test_first_meeting_on_uses_the_circle_zone_for_the_date():
    # 23:00 UTC on Monday is already Tuesday 08:00 in Tokyo, and the 09:00 slot is still ahead.
    slot = Slot(1, time(9, 0))
    assert first_meeting_on(slot, "Asia/Tokyo", utc(2026, 11, 30, 23, 0)) == date(2026, 12, 1)
    # ... but at 00:30 UTC Tuesday it is 09:30 in Tokyo: the slot has passed.
    assert first_meeting_on(slot, "Asia/Tokyo", utc(2026, 12, 1, 0, 30)) == date(2026, 12, 8)


def test_meeting_at_is_local_wall_time_in_utc():
    assert meeting_at(TUE_1700, LONDON, date(2026, 12, 1)) == utc(2026, 12, 1, 17, 0)
    assert meeting_at(TUE_1700, LONDON, date(2026, 6, 2)) == utc(2026, 6, 2, 16, 0)
    assert meeting_at(TUE_1700, "America/New_York", date(2026, 12, 1)) == utc(2026, 12, 1, 22, 0)


def test_format_when():
    assert render(format_when(utc(2026, 12, 1, 17, 0), LONDON)) == "Tue 1 Dec 2026 17:00 (Europe/London)"
    assert render(format_when(utc(2026, 6, 2, 16, 0), LONDON)) == "Tue 2 Jun 2026 17:00 (Europe/London)"


def test_times_and_days_are_written_in_the_readers_language():
    moment = utc(2026, 12, 1, 16, 0)
    assert render(format_when(moment, "Europe/Madrid"), "es") == "mar, 1 dic 2026, 17:00 (Europe/Madrid)"
    assert render(format_when(moment, "Europe/Berlin"), "de") == "Di., 1. Dez. 2026, 17:00 (Europe/Berlin)"
    assert [render(Weekday(1), locale) for locale in ("en", "es", "de")] == ["Tuesday", "martes", "Dienstag"]
    assert render(Day(date(2027, 3, 4)), "de") == "Do., 4. März 2027"


# ---------------------------------------------------------------- lay_out: DST


def test_spring_forward_keeps_meetings_at_17_local(kits):
    kit = kits["career"]
    # Week 1 on Tue 2 Mar 2027; the clocks go forward on Sun 28 Mar 2027.
    plan = lay_out(kit, TUE_1700, LONDON, Anchor(1, date(2027, 3, 2)), frozenset())
    lead = timedelta(minutes=kit.timing.reminder_lead_minutes)
    meetings = {o.number: o.at + lead for o in plan if o.kind is Kind.REMINDER}
    assert [meetings[w].hour for w in (1, 2, 3, 4)] == [17, 17, 17, 17]  # GMT
    assert [meetings[w].hour for w in (5, 6, 7)] == [16, 16, 16]  # BST
    for week, at in meetings.items():
        assert local(at).time() == time(17, 0), week
        assert local(at).weekday() == 1, week
        assert local(at).date() == date(2027, 3, 2) + timedelta(weeks=week - 1)


def test_fall_back_keeps_meetings_at_17_local(kits):
    kit = kits["career"]
    # Week 1 on Tue 6 Oct 2026; the clocks go back on Sun 25 Oct 2026.
    plan = lay_out(kit, TUE_1700, LONDON, Anchor(1, date(2026, 10, 6)), frozenset())
    checkins = {o.number: o.at for o in plan if o.kind is Kind.CHECKIN}
    meetings = {w: at - timedelta(minutes=kit.timing.meeting_minutes) for w, at in checkins.items()}
    assert [meetings[w].hour for w in (1, 2, 3)] == [16, 16, 16]  # BST, up to 20 Oct
    assert [meetings[w].hour for w in (4, 5, 6)] == [17, 17, 17]  # GMT from 27 Oct
    assert all(local(at).time() == time(17, 0) for at in meetings.values())


def test_exercise_lead_is_counted_in_wall_time_across_the_change(kits):
    """Week 4 meets Tue 30 Mar 2027 (BST); its exercise, 48 h earlier, is Sun 28 Mar 17:00 local."""
    kit = kits["career"]
    plan = by_key(lay_out(kit, TUE_1700, LONDON, Anchor(1, date(2027, 3, 9)), frozenset()))
    exercise = plan["exercise:4"].at
    assert local(exercise).replace(tzinfo=None) == datetime(2027, 3, 28, 17, 0)
    assert exercise == utc(2027, 3, 28, 16, 0)


# ---------------------------------------------------------------- lay_out: offsets


@pytest.mark.parametrize("kit_id", ["career", "after-loss", "starter"])
def test_offsets_follow_the_kit_timing(kits, kit_id):
    kit = kits[kit_id]
    timing = kit.timing
    start = date(2026, 12, 1)
    plan = by_key(lay_out(kit, TUE_1700, LONDON, Anchor(1, start), frozenset()))
    for week in range(1, kit.length + 1):
        meeting = meeting_at(TUE_1700, LONDON, start + timedelta(weeks=(week - 1) * kit.cadence.weeks))
        assert plan[f"exercise:{week}"].at == meeting - timedelta(hours=timing.exercise_lead_hours)
        assert plan[f"reminder:{week}"].at == meeting - timedelta(minutes=timing.reminder_lead_minutes)
        assert plan[f"checkin:{week}"].at == meeting + timedelta(minutes=timing.meeting_minutes)


def test_career_timing_is_what_the_kit_says(kits):
    plan = by_key(lay_out(kits["career"], TUE_1700, LONDON, Anchor(1, date(2026, 12, 8)), frozenset()))
    assert plan["exercise:1"].at == utc(2026, 12, 6, 17, 0)  # 48 h before
    assert plan["reminder:1"].at == utc(2026, 12, 8, 16, 0)  # 60 min before
    assert plan["checkin:1"].at == utc(2026, 12, 8, 18, 0)  # after the 60-minute meeting


def test_after_loss_is_biweekly_with_its_own_timing(kits):
    kit = kits["after-loss"]
    plan = by_key(lay_out(kit, TUE_1700, LONDON, Anchor(1, date(2026, 12, 1)), frozenset()))
    reminders = [plan[f"reminder:{w}"].at for w in range(1, 7)]
    gaps = {b - a for a, b in zip(reminders, reminders[1:])}
    assert gaps == {timedelta(days=14)}  # all in GMT: Dec 2026 to Feb 2027
    assert plan["exercise:1"].at == utc(2026, 11, 28, 17, 0)  # 72 h before
    assert plan["reminder:1"].at == utc(2026, 12, 1, 15, 0)  # 120 min before
    assert plan["checkin:1"].at == utc(2026, 12, 1, 18, 30)  # after 90 minutes
    assert "exercise:7" not in plan
    last = utc(2026, 12, 1, 17, 0) + timedelta(weeks=10)
    assert plan["graduation:0"].at == last + timedelta(hours=48)


def test_plan_is_in_time_order_with_each_key_once(kits):
    for kit in kits.values():
        plan = lay_out(kit, TUE_1700, LONDON, Anchor(1, date(2026, 12, 1)), frozenset())
        assert [o.at for o in plan] == sorted(o.at for o in plan)
        keys = [o.key for o in plan]
        assert len(keys) == len(set(keys)) == 3 * kit.length + 1 + len(kit.tune_ups.weeks_after)
        assert all(o.at.tzinfo is not None and o.at.utcoffset() == timedelta(0) for o in plan)


# ---------------------------------------------------------------- graduation and tune-ups


def test_graduation_and_tune_ups_after_the_last_meeting(kits):
    kit = kits["starter"]  # 4 weekly meetings, Mondays 17:00: last meeting Mon 29 Mar 2027 (BST)
    plan = lay_out(kit, MON_1700, LONDON, Anchor(1, date(2027, 3, 8)), frozenset())
    last_meeting = utc(2027, 3, 29, 16, 0)
    by = by_key(plan)
    assert by["checkin:4"].at == last_meeting + timedelta(hours=1)
    assert by["graduation:0"].at == last_meeting + timedelta(hours=24)
    # Tune-ups meet 4 and 12 weeks after the last meeting, at the usual 17:00 local;
    # each prompt goes out with the exercise lead (48 h) before.
    tune_up_meetings = [by["tune_up:1"].at + timedelta(hours=48), by["tune_up:2"].at + timedelta(hours=48)]
    assert [local(m).date() for m in tune_up_meetings] == [date(2027, 4, 26), date(2027, 6, 21)]
    assert all(local(m).time() == time(17, 0) for m in tune_up_meetings)
    assert [o.kind for o in plan[-3:]] == [Kind.GRADUATION, Kind.TUNE_UP, Kind.TUNE_UP]
    assert [o.number for o in plan[-2:]] == [1, 2]


def test_tune_ups_follow_the_kit_weeks_after(kits):
    kit = kits["career"]
    kit = kit.model_copy(update={"tune_ups": kit.tune_ups.model_copy(update={"weeks_after": (2, 5, 9)})})
    plan = lay_out(kit, TUE_1700, LONDON, Anchor(1, date(2026, 12, 1)), frozenset())
    last = date(2026, 12, 1) + timedelta(weeks=11)
    tune_ups = [o for o in plan if o.kind is Kind.TUNE_UP]
    assert [o.number for o in tune_ups] == [1, 2, 3]
    assert [local(o.at + timedelta(hours=48)).date() for o in tune_ups] == [last + timedelta(weeks=w) for w in (2, 5, 9)]


# ---------------------------------------------------------------- done and anchors


def test_done_keys_are_left_out(kits):
    kit = kits["starter"]
    anchor = Anchor(1, date(2026, 12, 1))
    full = lay_out(kit, TUE_1700, LONDON, anchor, frozenset())
    done = frozenset({"exercise:1", "reminder:1", "checkin:1", "exercise:2", "tune_up:1"})
    rest = lay_out(kit, TUE_1700, LONDON, anchor, done)
    assert [o.key for o in rest] == [o.key for o in full if o.key not in done]
    assert {o.key for o in rest}.isdisjoint(done)
    assert by_key(rest)["reminder:2"] == by_key(full)["reminder:2"]  # the others do not move


def test_anchor_on_a_later_week_lays_out_from_that_week(kits):
    kit = kits["career"]
    plan = lay_out(kit, TUE_1700, LONDON, Anchor(5, date(2027, 1, 12)), frozenset())
    weeks = sorted({o.number for o in plan if o.kind is Kind.EXERCISE})
    assert weeks == list(range(5, 13))
    assert local(by_key(plan)["reminder:5"].at + timedelta(hours=1)).date() == date(2027, 1, 12)
    assert local(by_key(plan)["reminder:12"].at + timedelta(hours=1)).date() == date(2027, 3, 2)
