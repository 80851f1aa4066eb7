"""The console demo, driven the way a newcomer would: a script piped into ``circlebot console``."""

from __future__ import annotations

import re
import subprocess
import sys

MEMBERS = ("bob", "carol", "dan")
STAMP = re.compile(r"^\[(?P<when>[^\]]+)\] (?P<where>.+)$")


def run_console(script: str, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "circlebot.cli", "console", "--start", "2027-02-01T09:00:00+00:00", *args],
        input=script, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    return result.stdout


def posts(output: str) -> list[tuple[str, str, str]]:
    """(stamp, where, first line) for every delivery the console printed."""
    lines = output.splitlines()
    found = []
    for index, line in enumerate(lines):
        match = STAMP.match(line)
        if match and index + 1 < len(lines):
            found.append((match["when"], match["where"], lines[index + 1].strip()))
    return found


def full_run_script() -> str:
    lines = ['/circle new "Crew" career Europe/London tue 17:00']
    for name in MEMBERS:
        lines += [f"/as {name}", "/circle join crew"]
    lines += ["/as alice", "/circle start", "/circle info"]
    for week in range(1, 13):
        lines.append("/tick 7d")
        for name in ("alice", *MEMBERS):
            lines += [
                f"/as {name}",
                f"/circle checkin week {week} went fine",
                f"/circle commit {name} will take step {week}",
            ]
    lines += ["/tick 30w", "/as alice", "/circle info"]
    return "\n".join(lines) + "\n"


def test_a_whole_circle_runs_from_forming_to_the_last_tune_up():
    output = run_console(full_run_script())
    delivered = posts(output)
    exercises = [(when, title) for when, where, title in delivered if title.startswith("== Week ") and " of 12: " in title]
    assert [int(re.match(r"== Week (\d+) of 12", t)[1]) for _, t in exercises] == list(range(1, 13))
    # 48 h before each Tuesday 17:00 London meeting, across the March clock change.
    assert all(when.startswith("Sun ") and when.endswith("17:00 (Europe/London)") for when, _ in exercises)
    assert exercises[0][0] == "Sun 7 Feb 2027 17:00 (Europe/London)"
    assert exercises[-1][0] == "Sun 25 Apr 2027 17:00 (Europe/London)"
    titles = [title for _, _, title in delivered]
    assert sum(t.startswith("== Graduation") for t in titles) == 1
    assert [t for t in titles if t.startswith("== Tune-up")] == ["== Tune-up 1: Crew ==", "== Tune-up 2: Crew =="]
    assert titles.index("== Tune-up 2: Crew ==") > titles.index("== Tune-up 1: Crew ==") > titles.index("== Graduation: Crew ==")
    continuity = [where for _, where, title in delivered if title == "== Crew: your commitment =="]
    assert len(continuity) == 4 * 11  # weeks 2..12, each member hears back their last commitment
    assert "Last time you committed to: \u201cbob will take step 3\u201d. How did it go?" in output
    assert "State: closed" in output.split("alice> /circle info")[-1]


def test_bad_input_gets_a_clear_message_and_changes_nothing():
    script = "\n".join([
        "/circle frobnicate",
        '/circle new "Crew" carear Europe/London tue 17:00',
        '/circle new "Crew" career Europe/Lundon tue 17:00',
        '/circle new "Crew" career Europe/London tuesdai 17:00',
        '/circle new "Crew" career Europe/London tue 25:00',
        '/circle new "Crew',
        "/circle join nowhere",
        "/circle start",
        '/circle new "Crew" career Europe/London tue 17:00',
        "/circle start",
        "/circle start #crew extra",
        "/as bob",
        "/circle join crew",
        "/circle pause",
        "/tick soon",
        "/as alice",
        "/circle start",
        "/as carol",
        "/circle join crew",
        "/as alice",
        "/circle start",
        "/circle start",
        "/circle list",
    ]) + "\n"
    output = run_console(script)
    for expected in (
        "I don't know \u201cfrobnicate\u201d. Try /circle help",
        "Unknown kit \u201ccarear\u201d. Choose one of: after-loss, career, starter.",
        "Unknown time zone \u201cEurope/Lundon\u201d. Use an IANA name such as: Europe/London",
        "Unknown weekday \u201ctuesdai\u201d. Use one of: mon, tue, wed, thu, fri, sat, sun.",
        "Unknown time \u201c25:00\u201d. Use 24-hour HH:MM",
        "I could not read that: a quote is not closed.",
        "There is no circle \u201cnowhere\u201d here.",
        "You are not in a circle yet.",
        "A circle needs at least 3 people, the moderator included, to start",
        "Usage: /circle start [#circle]",
        "Only the moderator of \u201cCrew\u201d can do that.",
        "Usage: /tick <N>w|d|h|m",
        "\u201cCrew\u201d is running, so you cannot start now.",
    ):
        assert expected in output, expected
    # Only the one valid `new` formed a circle, and it started once.
    assert output.count("== Circle formed ==") == 1
    assert output.count("has started ==") == 1
    assert "#crew \u2014 \u201cCrew\u201d" in output


def test_care_after_a_life_event_outlasts_the_circle():
    script = "\n".join([
        '/circle new "Crew" starter Europe/London tue 17:00',
        "/as bob America/New_York", "/circle join crew",
        "/as carol Asia/Tokyo", "/circle join crew",
        "/circle support open", "/circle support who all", "/circle support date 2027-06-10 Dad's birthday",
        "/as bob", "/circle support help carol",
        "/as alice", "/circle support help carol", "/circle close",
        "/tick 53w",
        "/as carol", "/circle support",
    ]) + "\n"
    output = run_console(script)
    reminders = [(when, where) for when, where, title in posts(output) if title == "== Crew: thinking of carol =="]
    # 10:00 on each helper's own calendar, in turns, stamped in the reader's own zone; the circle closed on day 0.
    assert reminders == [
        ("Thu 4 Feb 2027 10:00 (America/New_York)", "DM to bob"),
        ("Thu 11 Feb 2027 10:00 (Europe/London)", "DM to alice"),
        ("Mon 22 Feb 2027 10:00 (America/New_York)", "DM to bob"),
        ("Thu 18 Mar 2027 10:00 (Europe/London)", "DM to alice"),
        ("Sun 2 May 2027 10:00 (America/New_York)", "DM to bob"),
        ("Wed 9 Jun 2027 10:00 (Europe/London)", "DM to alice"),
        ("Sat 31 Jul 2027 10:00 (America/New_York)", "DM to bob"),
        ("Tue 1 Feb 2028 10:00 (Europe/London)", "DM to alice"),
    ]
    assert "Tomorrow, Thu 10 Jun 2027, is a date carol asked you to remember: \u201cDad's birthday\u201d." in output
    assert "It is a year today since support for carol began. Anniversaries can be hard." in output
    # The circle's space saw people join and the circle close, and nothing of carol's support.
    assert [title for _, where, title in posts(output) if where == "#crew"][-3:] == [
        "(carol was added to the space)", "carol joined the circle. Welcome!", "== \u201cCrew\u201d is closed ==",
    ]
    assert "Offered to help: bob, alice." in output.split("carol> /circle support\n")[-1]


def test_buttons_are_numbered_choices_and_a_form_is_filled_field_by_field():
    script = "\n".join([
        '/circle new "Crew" starter Europe/London tue 17:00',
        "/as bob Europe/London", "/circle join crew",
        "/as carol", "/circle join crew",
        "/as alice", "/circle start",
        "/tick 7d",
        "/as bob", "/press 1", "I tried A | B testing", "", "Call Sam",
        "/press 2",
        "/press 99",
    ]) + "\n"
    output = run_console(script)
    assert "[1] Check in [2] I'll be there [3] Can't make it" in output
    assert "bob (1/3) What is your small goal for this month?> I tried A | B testing" in output
    # One answer with a bar in it, not two; the empty one stays empty; the last is the commitment.
    assert "1. What is your small goal for this month? \u2014 I tried A | B testing" in output
    assert "3. What is one thing you will do toward your goal before next meeting? \u2014 Call Sam" in output
    assert "#crew (in the thread of the week's post)" in output
    assert "See you at week 1's meeting" in output and "1 coming, 0 can't make it" in output
    assert "Usage: /press <N>" in output


def test_one_circle_reads_in_three_languages_and_its_calendars_follow_a_reschedule(tmp_path):
    from storage.database import make_engine
    from storage.repository import Store
    from kits import builtin_kits
    from tests.test_calendar import assert_matches_timetable

    database, files = f"sqlite:///{tmp_path / 'crew.db'}", tmp_path / "files"
    zones = {"alice": "Europe/London", "bob": "America/New_York", "carol": "Europe/Berlin"}
    first = run_console("\n".join([
        '/circle new "Crew" starter Europe/London tue 17:00',
        "/as bob America/New_York", "/circle me language es", "/circle join crew",
        "/as carol Europe/Berlin", "/circle me language de", "/circle join crew",
        "/as alice Europe/London", "/circle place https://meet.example.com/crew", "/circle start",
        "/tick 7d",
        "/as bob", "/circle next", "/circle commit llamar a mi hermana",
        "/as carol", "/circle next", "/circle commit meine Schwester anrufen",
        "/as alice", "/circle next", "/circle commit call my sister",
        "/tick 10d",
        *[line for name in zones for line in (f"/as {name}", "/circle calendar")],
    ]) + "\n", "--db", database, "--files", str(files))
    # The week's post, in the circle's language and zone, with its place.
    week1 = first.split("== Week 1 of 4")[1].split("[")[0]
    assert "Where: https://meet.example.com/crew" in week1
    # The same week as each member reads it, in their language and zone.
    replies = {name: first.split(f"{name}> /circle next")[1].split(f"{name}> ")[0] for name in zones}
    assert "What's next in" in replies["alice"] and "(Europe/London)" in replies["alice"]
    assert "Qué viene ahora en" in replies["bob"] and "(America/New_York)" in replies["bob"]
    assert "Was als Nächstes kommt in" in replies["carol"] and "(Europe/Berlin)" in replies["carol"]
    # Week 2's check-in brings each commitment back by DM, stamped in the reader's zone, in their language.
    titles = ("== Crew: your commitment ==", "== Crew: tu compromiso ==", "== Crew: dein Vorsatz ==")
    dms = {where.removeprefix("DM to "): when for when, where, title in posts(first) if title in titles}
    assert "La última vez te comprometiste a: \u201cllamar a mi hermana\u201d" in first
    assert "Letztes Mal hast du dir vorgenommen: \u201emeine Schwester anrufen\u201c" in first
    assert "Last time you committed to: \u201ccall my sister\u201d" in first
    assert {name: when.rsplit(" ", 1)[-1] for name, when in dms.items()} == {name: f"({zone})" for name, zone in zones.items()}

    kit = builtin_kits()["starter"]

    def timetable_now():
        engine = make_engine(database)
        try:
            with Store(engine).transaction() as tx:
                return tx.find("console", "local", "crew")
        finally:
            engine.dispose()

    before = {name: assert_matches_timetable((files / name / "crew.ics").read_text(encoding="utf-8"), timetable_now(),
                                             kit, zone) for name, zone in zones.items()}
    run_console("\n".join([
        "/as alice Europe/London", "/circle reschedule thu 18:30",
        *[line for name, zone in zones.items() for line in (f"/as {name} {zone}", "/circle calendar")],
    ]) + "\n", "--db", database, "--files", str(files), "--start", "2027-02-18T10:00:00+00:00")
    circle = timetable_now()
    for name, zone in zones.items():
        after = assert_matches_timetable((files / name / "crew.ics").read_text(encoding="utf-8"), circle, kit, zone)
        assert set(after) == set(before[name])
        assert all(a["sequence"] > b["sequence"] for a, b in zip(after.values(), before[name].values()))
        assert any(a["start"] != b["start"] for a, b in zip(after.values(), before[name].values()))
