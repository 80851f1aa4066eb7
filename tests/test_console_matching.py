"""Matching strangers, moderators and the kit's help, in the console as a person would use them."""

from __future__ import annotations

from test_console import posts, run_console

SIGN_UPS = "\n".join([
    "/as alice Europe/London",
    "/circle signup starter tue 17-20, thu 18-21 moderate yes",
    "/as bob Europe/Berlin",
    "/circle signup starter tue 18-20 known",
    "/as carol America/New_York",
    "/circle signup starter tue 12-14",
    "/as dan Asia/Kolkata",
    "/circle signup starter tue 22:30-23:30",
    "/as erin Asia/Tokyo",
    "/circle signup starter wed 10-11",
])


def test_people_who_sign_up_are_matched_into_a_circle_and_told_why_in_their_own_time_zone():
    output = run_console(SIGN_UPS + "\n" + "\n".join([
        "/as frank Europe/London",
        "/circle match",  # not an admin: refused, nothing happens
        "/as root UTC admin",
        "/circle match",
        "/tick 1d",
        "/as alice Europe/London",
        "/circle info",
        "/as erin Asia/Tokyo",
        "/circle signup",
        "/circle signup cancel",
        "/circle signup",
    ]) + "\n")
    assert "Only a workspace admin can match the pool." in output
    assert "1 new circles for 4 people: #starter-circle-alice" in output
    where = {where for _, where, title in posts(output) if title == "== You have a circle: #starter-circle-alice =="}
    assert where == {"DM to alice", "DM to bob", "DM to carol", "DM to dan"}  # frank never signed up: not a word
    # One instant, each in their own zone.
    assert "Matched on Tuesday 17:00 (Europe/London), your time: 3 of the 4 of you would rather meet strangers." in output
    assert "Matched on Tuesday 22:30 (Asia/Kolkata), your time" in output
    assert "Matched on Tuesday 12:00 (America/New_York), your time" in output
    # The volunteer moderates the forming circle and gets the guide's first section.
    assert "== Moderator guide 1/8: Preparing ==" in output
    info = output.split("alice> /circle info")[1]
    assert "State: forming (not started yet)" in info and "• alice (moderator)" in info and "Members (4 of 5)" in info
    # Erin could not be placed: told why, and still in the pool until she leaves it.
    assert "No circle could be formed with you this time: no hour you gave is one that 3 others" in output
    erin = output.split("erin> /circle signup\n")[1]
    assert "== Your sign-up ==" in erin.split("erin>")[0]
    assert "== You left the pool ==" in output and "== Not in the pool ==" in output.split("cancel\n")[-1]


def test_a_weekly_schedule_matches_the_pool_and_does_not_repeat_the_same_news():
    output = run_console("\n".join([
        "/as root Europe/London admin",
        "/circle match every tue 08:00",
        SIGN_UPS,
        "/tick 1d",
        "/tick 7d",
        "/tick 7d",
    ]) + "\n")
    assert "The pool is matched every Tuesday at 08:00 (Europe/London)." in output
    assert "Next: Tue 2 Feb 2027 08:00 (Europe/London)" in output
    titles = [(where, title) for _, where, title in posts(output)]
    assert titles.count(("DM to alice", "== You have a circle: #starter-circle-alice ==")) == 1
    # Erin hears why once for each reason, not every week: first no shared hour, then (alone) too few.
    assert titles.count(("DM to erin", "== Not matched yet ==")) == 2
    assert "no hour you gave is one that 3 others in the pool can also meet" in output
    assert "fewer than 4 people have signed up for this kit in your language so far" in output


def test_hand_over_waits_for_a_yes_and_a_co_moderator_runs_the_week():
    output = run_console("\n".join([
        '/circle new "Crew" starter Europe/London tue 17:00',
        "/as bob", "/circle join crew",
        "/as carol", "/circle join crew",
        "/as alice", "/circle comod bob",
        "/as bob", "/circle start", "/circle close",
        "/as alice", "/circle handover carol",
        "/circle info",
        "/as carol", "/circle moderator accept",
        "/circle info",
    ]) + "\n")
    assert "bob is now co-moderator." in output
    assert "== Moderator guide 1/8: Preparing ==" in output.split("/circle comod bob")[1]
    assert "== “Crew” has started ==" in output  # the co-moderator started it
    assert "Only the moderator of “Crew” can do that." in output.split("bob> /circle close")[1]
    assert "carol has been asked to moderate; the role moves once they accept." in output
    before = output.split("alice> /circle info")[1].split("carol>")[0]
    assert "• alice (moderator)" in before and "• bob (co-moderator)" in before
    assert "carol is now the moderator. Thank you, alice!" in output
    after = output.split("carol> /circle info")[1]
    assert "• carol (moderator)" in after and "• alice\n" in after


def test_the_faq_answers_in_the_readers_language_and_says_when_nothing_fits():
    output = run_console("\n".join([
        '/circle new "Crew" starter Europe/London tue 17:00',
        "/circle faq",
        "/circle faq what if I miss meetings",
        "/circle faq quantum physics",
        "/as maria Europe/Madrid", "/circle me language es", "/circle join crew",
        "/circle faq quién ve mis respuestas",
        "/circle guide 6",
    ]) + "\n")
    assert "== Questions about Starter Circle ==" in output
    assert "== What happens if I miss a meeting? ==" in output
    assert "Nothing here answers “quantum physics” well." in output
    assert "== ¿Quién ve mis respuestas? ==" in output
    assert "Compartir el papel" in output
