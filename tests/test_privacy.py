"""Privacy controls: who sees each answer, ``export`` and ``forget-me``.

The core tests use the standard circle (see conftest); the storage tests go
through the service on SQLite and PostgreSQL and then search every row of every
table for what the person wrote.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from dbfixtures import database_url, engine, pg_schema  # noqa: F401  (fixtures)
from fakes.sender import RecordingSender
from sqlalchemy import MetaData
from test_console import run_console

from bot.actions import Action, Verb
from bot import commands as c
from bot import engine as core
from bot import messages as m
from bot.circle import Actor, UserRef
from bot.effects import OpenForm, PostToCircle, RemoveFromSpace, Reply, SendFile
from bot.errors import CircleError
from bot.forming import circle_id
from bot.grammar import parse
from bot.i18n import render
from bot.privacy import RECORD_FIELDS, export_file, stand_in
from circlebot.wiring import Wiring, wire
from requesting import run
from kits import builtin_kits
from scheduler.delivery import deliver_due_messages
from storage.outbox import Outbox
from storage.repository import Store

WEEK_1_OPEN = datetime(2026, 12, 6, 18, 0, tzinfo=UTC)  # the standard circle's week 1 exercise is out
WEEK_3_OPEN = datetime(2026, 12, 20, 18, 0, tzinfo=UTC)
BEN_ANSWERS = ("Ben's first answer", "Ben's second answer", "Ben will phone his sister")
CLEO_ANSWERS = ("Cleo's first answer", "Cleo's second answer", "Cleo will rest")


def rendered_lines(message) -> list[str]:
    return [render(line) for line in ((message.title,) if message.title else ()) + message.lines]


@pytest.fixture
def kit(kits):
    return kits["career"]


@pytest.fixture
def week_1(started_circle, run_until, kit, members):
    """The standard circle in week 1: ben and cleo have checked in, ben wrote a note and a story."""
    circle = run_until(started_circle(), kit, WEEK_1_OPEN).circle
    ben, cleo = members[0], members[1]
    for person, answers in ((ben, BEN_ANSWERS), (cleo, CLEO_ANSWERS)):
        circle = core.handle(circle, c.CheckInCommand(None, answers), person, WEEK_1_OPEN, kit).circle
    circle = core.handle(circle, c.Struggling(None, "a hard week at work"), ben, WEEK_1_OPEN, kit).circle
    circle = core.handle(circle, c.Attend(None, going=False), ben, WEEK_1_OPEN, kit).circle
    circle = core.handle(circle, c.Share(None, "Ben's story"), ben, WEEK_1_OPEN, kit).circle
    return core.handle(circle, c.ConfirmStory(None, 1), ben, WEEK_1_OPEN, kit).circle


# ---------------------------------------------------------------- export


def test_export_holds_the_persons_own_data_and_nobody_elses(week_1, members, kit):
    ben = members[0]
    # A circle ben has left still holds his old answers: they are his, so they are exported too.
    other = replace(core.handle(week_1, c.Leave(None), ben, WEEK_1_OPEN, kit).circle, id="other", name="Other")
    file = export_file([week_1, other], ben.user, WEEK_1_OPEN)
    data = json.loads(file.content)
    assert file.to == ben.user and file.filename == "circlebot-export-2026-12-06.json"
    assert data["person"] == {"platform": "console", "workspace": "local", "id": "ben"}
    current, left = data["circles"]
    assert current["circle"] == {"id": "tuesday-crew", "name": "Tuesday crew", "kit": "career", "state": "active"}
    assert current["membership"]["name"] == "ben" and current["membership"]["role"] == "member"
    assert left["membership"] is None
    for circle in (current, left):
        assert [x["answers"] for x in circle["checkins"]] == [list(BEN_ANSWERS)]
        assert [x["text"] for x in circle["commitments"]] == ["Ben will phone his sister"]
    assert [x["note"] for x in current["red_flags"]] == ["a hard week at work"]
    assert [x["rsvp"] for x in current["attendance"]] == ["not_going"]
    assert [(x["text"], x["status"]) for x in current["stories"]] == [("Ben's story", "pending")]
    assert set(RECORD_FIELDS) <= set(current)  # every kind of record is there, even when empty
    for someone_else in ("Cleo", "maya", "cleo", "dev"):
        assert someone_else not in file.content


def test_export_of_a_stranger_is_empty(week_1, actor):
    data = json.loads(export_file([week_1], actor("zed").user, WEEK_1_OPEN).content)
    assert data["circles"] == []


# ---------------------------------------------------------------- forgetting, in the core


def test_forgetting_erases_text_and_identity_but_counts_stay(week_1, members, moderator, kit):
    ben = members[0]
    anonymous = stand_in(ben.user, "3f9a0c")
    decision = core.forget(week_1, ben.user, anonymous, WEEK_1_OPEN, kit)
    circle = decision.circle
    assert circle.member(ben.user) is None and len(circle.members) == len(week_1.members) - 1
    assert len([x for x in circle.checkins if x.week == 1]) == 2  # two check-ins for week 1, as before
    assert len(circle.attendance) == len(week_1.attendance) and len(circle.red_flags) == 1
    for field in RECORD_FIELDS:
        assert ben.user not in {record.user for record in getattr(circle, field)}
    assert circle.checkin(1, anonymous).answers == ("", "", "")
    assert circle.stories[0].text == "" and circle.stories[0].status.value == "withdrawn"
    stored = repr(circle)
    for text in (*BEN_ANSWERS, "a hard week at work", "Ben's story", "id='ben'", "name='ben'"):
        assert text not in stored
    assert all(text in stored for text in CLEO_ANSWERS)  # nobody else loses a word
    removed, notice = [e for e in decision.effects if isinstance(e, RemoveFromSpace | PostToCircle)]
    assert removed.user == ben.user
    assert rendered_lines(notice.message) == ["A member has left the circle."]


def test_forgetting_ends_their_support_and_takes_their_id_out_of_others_support_too(week_1, members, kit):
    ben, cleo = members[0], members[1]
    circle = week_1
    for person, line in (
        (ben, "support open"),
        (ben, "support who all"),
        (ben, "support date 2027-03-14 Mum's birthday"),
        (cleo, "support help ben"),
        (cleo, "support open"),
        (cleo, "support who all"),
        (ben, "support help cleo"),
    ):
        circle = core.handle(circle, parse(line), person, WEEK_1_OPEN, kit).circle
    exported = export_file([circle], ben.user, WEEK_1_OPEN).content
    [own] = json.loads(exported)["circles"][0]["life_events"]
    assert own["dates"][0]["label"] == "Mum's birthday" and own["helpers"] == ["another member"]
    assert "cleo" not in exported  # the helper is someone else: the export does not say who

    anonymous = stand_in(ben.user, "77")
    after = core.forget(circle, ben.user, anonymous, WEEK_1_OPEN, kit).circle
    bens, cleos = after.life_events
    assert (bens.user, bens.consent.value, bens.dates, bens.planned) == (anonymous, "revoked", (), None)
    assert cleos.helpers == (anonymous,) and cleos.user == cleo.user  # cleo's support is hers, untouched
    # Her only helper is gone, so no reminder stays planned for them.
    assert circle.life_events[1].planned is not None and cleos.planned is None
    assert "Mum's birthday" not in repr(after) and "id='ben'" not in repr(after)


def test_a_moderator_hands_over_first_and_the_last_one_out_closes_the_circle(week_1, moderator, new_circle, kit):
    with pytest.raises(CircleError) as refused:
        core.forget(week_1, moderator.user, stand_in(moderator.user, "1"), WEEK_1_OPEN, kit)
    assert "hand the role on first with /circle moderator #tuesday-crew <member>" in render(refused.value.text)
    alone = new_circle(joined=0)
    closed = core.forget(alone, moderator.user, stand_in(moderator.user, "2"), WEEK_1_OPEN, None).circle
    assert closed.state.value == "closed" and closed.members == ()


# ---------------------------------------------------------------- who sees each answer

#: Buttons whose answers someone will read: the prompt must say who.
#: Buttons that send an answer somewhere (the rest change the presser's own settings).
ANSWERING = {
    Verb.CHECKIN, Verb.RSVP_YES, Verb.RSVP_NO, Verb.STRUGGLING, Verb.STORY_CONFIRM, Verb.STORY_WITHDRAW,
    Verb.STORY_APPROVE, Verb.STORY_DECLINE, Verb.OFFER_HELP, Verb.CONSENT_YES, Verb.CONSENT_NO,
}


def _answer(action: Action) -> Verb | None:
    """What a button answers, or ``None`` when it asks nothing."""
    return action.verb if action.verb in ANSWERING else None


def test_every_prompt_says_who_will_see_the_answer(started_circle, run_until, kit, members, moderator):
    ben, cleo = members[0], members[1]
    run = run_until(started_circle(), kit, WEEK_1_OPEN)
    circle, replies = run.circle, []
    for person, command in (
        (cleo, c.CheckInCommand(None, CLEO_ANSWERS)),
        (cleo, c.CheckInCommand(None)),  # opens the form
        (cleo, c.Commit(None, "rest more")),
        (cleo, c.Share(None, "Cleo's story")),
        (cleo, c.ConfirmStory(None, 1)),
        (ben, parse("support open")),
        (ben, parse("support who all")),  # invites the others to help
        (ben, parse("support tell circle")),
        (cleo, parse("support for dev")),  # asks dev in private
    ):
        decision = core.handle(circle, command, person, WEEK_1_OPEN, kit)
        circle, replies = decision.circle, [*replies, *decision.effects]
    later = run_until(circle, kit, WEEK_3_OPEN)  # ben misses two meetings: a nudge; cleo hears her commitment back
    effects = [*run.effects, *replies, *later.effects]
    prompts = [e for e in effects if getattr(e, "message", None) and any(_answer(b.action) for b in e.message.buttons)]
    privacy = [render(line) for line in m.PRIVACY_LINES]
    for prompt in prompts:
        text = "\n".join(rendered_lines(prompt.message))
        answers = {_answer(b.action) for b in prompt.message.buttons}
        if answers == {Verb.OFFER_HELP}:
            assert "will see that you offered" in text, text  # the member cared for, and nobody else
        else:
            assert any(line in text for line in privacy), text
        if "struggling" in answers:
            assert render(m.STRUGGLING_GOES_TO_MODERATOR) in text
    titles = {render(p.message.title) for p in prompts}
    assert titles >= {
        "Week 1 of 12: A purpose and a first goal",  # the exercise
        "Meeting soon: week 1",
        "Week 1 check-in",
        "Tuesday crew: your commitment",  # the continuity DM
        "We missed you",  # the nudge
        "Your story 1, before it leaves the circle",
        "Tuesday crew: story 1 to share beyond the circle?",  # the moderator's DM
        "Tuesday crew: ben could use some support",  # the invitation to help
        "ben could use some support",  # told in the circle, as ben asked
        "cleo is thinking of you",  # dev is asked whether he wants support
    }, titles
    [form] = [e for e in effects if isinstance(e, OpenForm)]
    assert form.intro in m.PRIVACY_LINES
    [commit_reply] = [e for e in replies if isinstance(e, Reply) and "Noted" in rendered_lines(e.message)[0]]
    assert m.SEEN_BY_CIRCLE in commit_reply.message.lines


# ---------------------------------------------------------------- through storage, on SQLite and PostgreSQL

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
EXERCISE_OUT = T0 + timedelta(days=6)  # the starter kit's week 1 exercise: Sunday 17:00
WEEK_2_CHECKIN = datetime(2026, 12, 15, 19, 0, tzinfo=UTC)
BOB_WORDS = ("Bob's hope for the month", "Bob's reason to join", "Bob will call his sister", "Bob's note about work", "Bob's story about asking for help")


def person(name: str) -> Actor:
    return Actor(UserRef("slack", "T1", name.lower()), name, None, False)


ALICE, BOB, CAROL = person("Alice"), person("Bob"), person("Carol")
CREW, OTHER = circle_id("slack", "T1", "crew"), circle_id("slack", "T1", "other")


@pytest.fixture
def service(engine) -> Wiring:
    return wire(engine, builtin_kits(), timedelta(hours=6))


def say(service: Wiring, actor: Actor, text: str, now: datetime = EXERCISE_OUT) -> str:
    return "\n".join(
        line for r in run(service.commands, actor, text, now) if isinstance(r, Reply) for line in rendered_lines(r.message)
    )


def stored_text(engine) -> dict[str, list[str]]:
    """Every row of every table, as text, by table."""
    tables = MetaData()
    tables.reflect(engine)
    with engine.connect() as connection:
        return {
            table.name: [" | ".join(str(value) for value in row) for row in connection.execute(table.select())]
            for table in tables.sorted_tables
        }


async def bob_has_said_a_lot(service: Wiring, engine) -> None:
    """A starter circle in week 2: Bob has answered, committed, asked for support and shared a story."""
    say(service, ALICE, '/circle new "Crew" starter UTC tue 17:00', T0)
    for someone in (BOB, CAROL):
        say(service, someone, "/circle join crew", T0)
    say(service, ALICE, "/circle start", T0)
    say(service, CAROL, '/circle new "Other" starter UTC wed 17:00', T0)
    say(service, BOB, "/circle join other", T0)  # and leaves without a word: only the outbox knows he was there
    say(service, BOB, "/circle leave #other", T0)
    service.ticker.tick(CREW, EXERCISE_OUT)
    say(service, BOB, "/circle checkin " + " | ".join(BOB_WORDS[:3]))
    say(service, CAROL, "/circle checkin #crew Carol's hope | Carol's reason | Carol will rest")
    say(service, BOB, f"/circle struggling {BOB_WORDS[3]}")
    say(service, BOB, "/circle rsvp no")
    say(service, BOB, f"/circle share --named {BOB_WORDS[4]}")
    say(service, BOB, "/circle share confirm 1")
    say(service, ALICE, "/circle share approve 1")
    await deliver_due_messages(Outbox(engine), RecordingSender(), EXERCISE_OUT)  # sent rows hold words too
    service.ticker.tick(CREW, WEEK_2_CHECKIN)  # queues Bob's "how did it go?" DM
    outbox = stored_text(engine)["outbox"]
    assert any("Bob will call his sister" in row and " | pending | " in row for row in outbox)
    assert any("Bob will call his sister" in row and " | sent | " in row for row in outbox)
    assert any(f" | {OTHER}/" in row and '"Bob"' in row for row in outbox)


async def test_forget_me_asks_first_and_changes_nothing_until_confirmed(service, engine):
    await bob_has_said_a_lot(service, engine)
    before = stored_text(engine)
    preview = say(service, BOB, "/circle forget-me", WEEK_2_CHECKIN)
    assert "Forget me?" in preview and "\u201cCrew\u201d (you are a member)" in preview
    assert "/circle forget-me confirm" in preview
    handled = "handled_requests"  # the preview's request id, so a retry of it is not run twice; nothing of Bob's
    assert {**stored_text(engine), handled: []} == {**before, handled: []}


async def test_forget_me_erases_the_person_everywhere_in_storage_but_counts_stay(service, engine):
    await bob_has_said_a_lot(service, engine)
    with service.store.transaction() as tx:
        checkins_before = len(tx.load(CREW).checkins)
    assert "erased" in say(service, BOB, "/circle forget-me confirm", WEEK_2_CHECKIN)
    stored = stored_text(engine)
    everything = "\n".join(row for rows in stored.values() for row in rows)
    for word in ("Bob", *BOB_WORDS):
        assert word not in everything, word
    # His platform id stays only in the request to take him out of the circle's space, which the platform needs.
    assert all("RemoveFromSpace" in row for row in stored["outbox"] if "bob" in row)
    assert not any("bob" in row for row in stored["memberships"] + stored["circles"])
    with service.store.transaction() as tx:
        circle = tx.load(CREW)
        assert tx.circle_ids_of(BOB.user, closed=True) == []
    assert len(circle.checkins) == checkins_before  # "two checked in for week 1" stays true
    assert {x.user.id.startswith("former-member-") for x in circle.checkins if x.user != CAROL.user} == {True}
    assert "Carol will rest" in everything  # Carol keeps every word
    assert [m.name for m in circle.members] == ["Alice", "Carol"]


async def test_forget_me_erases_only_the_persons_own_deliveries_not_those_of_an_id_that_contains_theirs(service, engine):
    u2, u22 = person("U2"), person("U22")
    say(service, ALICE, '/circle new "Crew" starter UTC tue 17:00', T0)
    for someone in (u2, u22):
        say(service, someone, "/circle join crew", T0)
    say(service, ALICE, "/circle start", T0)
    service.ticker.tick(CREW, EXERCISE_OUT)
    say(service, u2, "/circle checkin hope | reason | U2 will walk daily")
    say(service, u22, "/circle checkin hope | reason | U22 will read a book")
    service.ticker.tick(CREW, WEEK_2_CHECKIN)  # queues each one's "how did it go?" DM
    pending = Outbox(engine).keys("pending")
    assert f"{CREW}/checkin:2/slack:T1:u22" in pending and f"{CREW}/checkin:2/slack:T1:u2" in pending
    assert "erased" in say(service, u2, "/circle forget-me confirm", WEEK_2_CHECKIN)
    pending = Outbox(engine).keys("pending")
    assert f"{CREW}/checkin:2/slack:T1:u22" in pending and f"{CREW}/checkin:2/slack:T1:u2" not in pending


async def test_a_moderator_must_hand_over_before_being_forgotten(service, engine):
    await bob_has_said_a_lot(service, engine)
    before = stored_text(engine)
    assert "hand the role on first" in say(service, ALICE, "/circle forget-me", WEEK_2_CHECKIN)
    assert "hand the role on first" in say(service, ALICE, "/circle forget-me confirm", WEEK_2_CHECKIN)
    assert stored_text(engine) == before
    say(service, ALICE, "/circle moderator carol", WEEK_2_CHECKIN)
    say(service, CAROL, "/circle moderator #crew accept", WEEK_2_CHECKIN)  # the role moves once she says yes
    assert "erased" in say(service, ALICE, "/circle forget-me confirm", WEEK_2_CHECKIN)


async def test_export_through_the_service_sends_a_file_only_to_the_asker(service, engine):
    await bob_has_said_a_lot(service, engine)
    [file] = run(service.commands, BOB, "/circle export", WEEK_2_CHECKIN)
    assert isinstance(file, SendFile) and file.to == BOB.user
    [crew] = json.loads(file.content)["circles"]
    assert crew["checkins"][0]["answers"] == list(BOB_WORDS[:3])
    assert "Carol" not in file.content and "Alice" not in file.content
    assert "No circle here holds anything about you." in say(service, person("Zed"), "/circle forget-me")


def test_the_console_writes_an_export_to_the_files_folder(tmp_path):
    output = run_console(
        '/circle new "Crew" starter UTC tue 17:00\n/as bob\n/circle join crew\n/circle export\n', "--files", str(tmp_path)
    )
    saved = tmp_path / "bob" / "circlebot-export-2027-02-01.json"
    assert f"saved to {saved}" in output
    assert json.loads(saved.read_text())["circles"][0]["membership"]["name"] == "bob"
