"""Safety: private reports about a member or a message, on the core and through the service with storage."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from dbfixtures import database_url, engine, pg_schema, stored_rows  # noqa: F401  (fixtures)
from sqlalchemy import select
from sqlmodel import Session

from bot import commands as c
from bot import engine as core
from bot.actions import Action, Verb, command_of, encode_action
from bot.circle import Actor, UserRef
from bot.effects import DirectMessage, PostToCircle, Reply
from bot.errors import CircleError
from bot.forming import circle_id
from bot.i18n import render
from bot.inputs import Pressed, ReportedMessage
from bot.state import State
from circlebot.wiring import Wiring, wire
from kits import builtin_kits
from requesting import run
from storage.models import OutboxRow, PersonRow, SpaceRow

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def error_of(call, *args) -> str:
    with pytest.raises(CircleError) as caught:
        call(*args)
    return render(caught.value.text)


def dms(decision) -> list[DirectMessage]:
    return [e for e in decision.effects if isinstance(e, DirectMessage)]


def text(message) -> str:
    return "\n".join(render(x) for x in (message.title or "", *message.lines))


# ---------------------------------------------------------------- the core


@pytest.fixture
def crew(started_circle, members, moderator, career, t0):
    """maya moderates; ben is co-moderator; cleo and dev are members."""
    circle = started_circle()
    return core.handle(circle, c.CoModerator(None, "ben"), moderator, t0, career).circle


@pytest.fixture
def career(kits):
    return kits["career"]


ADMIN = UserRef("console", "local", "root")


def test_a_report_reaches_the_moderators_and_admins_privately_and_nobody_else(crew, members, career, t0):
    cleo = members[1]
    decision = core.handle(crew, c.Report(None, "dev", "shouted at me", admins=(ADMIN,)), cleo, t0, career)
    assert not [e for e in decision.effects if isinstance(e, PostToCircle)]  # nothing in the circle
    told = [dm.to.id for dm in dms(decision)]
    assert told == ["maya", "ben", "root"]  # not dev, not cleo
    report = text(dms(decision)[0].message)
    assert "cleo reported dev, a member of \u201cTuesday crew\u201d." in report
    assert "\u201cshouted at me\u201d" in report and "dev is not told" in report
    (reply,) = [e for e in decision.effects if isinstance(e, Reply)]
    assert reply.to == cleo.user and "dev is not told" in text(reply.message)
    assert decision.circle.members == crew.members


def test_a_report_about_the_moderator_goes_to_the_admins_only(crew, members, career, t0):
    decision = core.handle(crew, c.Report(None, "maya", admins=(ADMIN,)), members[2], t0, career)
    assert [dm.to.id for dm in dms(decision)] == ["root"]
    # With no admin known there is nobody to send it to: said plainly, nothing sent.
    assert "nobody I can send the report to" in error_of(core.handle, crew, c.Report(None, "maya"), members[2], t0, career)


def test_a_reported_message_shows_an_excerpt_and_where_it_is(crew, members, career, t0):
    words = "word " * 200
    command = c.Report(None, "dev", excerpt=words, link="https://example.slack.com/archives/C1/p1")
    (first, *_rest) = dms(core.handle(crew, command, members[1], t0, career))
    report = text(first.message)
    assert "The message: \u201cword word" in report and "\u2026\u201d" in report and len(report) < 1200
    assert "Where: https://example.slack.com/archives/C1/p1" in report


def test_a_message_not_from_a_member_is_refused_kindly(crew, members, career, t0):
    """The bot's own post, or one by someone who has left: nobody to report, and nobody is told anything."""
    command = c.Report(None, "B0BOT", excerpt="Week 3's exercise", link="C1/1700000000.3")
    text = error_of(core.handle, crew, command, members[1], t0, career)
    assert text.startswith("That message is not from a member of “") and "/circle struggling" in text


def test_the_same_report_twice_is_one_delivery(crew, members, career, t0):
    """Its keys name what it is about, not the circle's revision: the outbox keeps one delivery a key."""
    command = c.Report(None, "dev", link="C1/1700000000.1")
    first = core.handle(crew, command, members[1], t0, career)
    again = core.handle(first.circle, command, members[1], t0 + timedelta(minutes=1), career)
    assert [d.key for d in dms(first)] == [d.key for d in dms(again)]
    other = core.handle(first.circle, c.Report(None, "dev", link="C1/1700000000.2"), members[1], t0, career)
    assert not {d.key for d in dms(first)} & {d.key for d in dms(other)}


def test_who_may_report(crew, members, career, t0, actor):
    stranger = actor("zed", admin=True)
    assert "not a member" in error_of(core.handle, crew, c.Report(None, "dev"), stranger, t0, career)
    assert "cannot report yourself" in error_of(core.handle, crew, c.Report(None, "cleo"), members[1], t0, career)
    assert "No member \u201czed\u201d" in error_of(core.handle, crew, c.Report(None, "zed"), members[1], t0, career)


# ---------------------------------------------------------------- through the service


@pytest.fixture
def service(engine) -> Wiring:
    return wire(engine, builtin_kits(), timedelta(hours=6))


def person(name: str, workspace: str = "T1", admin: bool = False) -> Actor:
    return Actor(UserRef("slack", workspace, name), name.title(), None, admin)


ALICE, BOB, CAROL, DAN = person("alice"), person("bob"), person("carol"), person("dan")
BOSS = person("boss", admin=True)


def say(service: Wiring, actor: Actor, what, channel: str | None = None) -> str:
    return "\n".join(text(r.message) for r in run(service.commands, actor, what, T0, channel) if isinstance(r, Reply))


def report_dms(engine) -> list[tuple[str, str]]:
    with engine.connect() as connection:
        rows = connection.execute(select(OutboxRow.key, OutboxRow.recipient, OutboxRow.payload)).all()
    return [(recipient, payload) for key, recipient, payload in rows if "/report/" in key]


@pytest.fixture
def circle(service):
    say(service, ALICE, '/circle new "Crew" starter UTC tue 17:00')
    for member in (BOB, CAROL, DAN):
        say(service, member, "/circle join crew")
    say(service, BOSS, "/circle list")  # the bot learns who the admins are as they use it
    return "crew"


def test_a_typed_report_reaches_the_known_admins(service, engine, circle):
    answer = say(service, CAROL, "/circle report #crew dan he keeps interrupting")
    assert "Dan is not told" in answer
    sent = report_dms(engine)
    assert sorted(recipient for recipient, _payload in sent) == ["slack:T1:alice", "slack:T1:boss"]
    assert all("he keeps interrupting" in payload for _recipient, payload in sent)
    # The same report again: one each still.
    say(service, CAROL, "/circle report #crew dan he keeps interrupting")
    assert len(report_dms(engine)) == 2


def test_an_admin_who_is_no_longer_one_stops_getting_reports(service, engine, circle):
    say(service, person("boss"), "/circle list")
    say(service, CAROL, "/circle report #crew dan")
    assert [recipient for recipient, _payload in report_dms(engine)] == ["slack:T1:alice"]


def test_a_reported_message_is_about_the_circle_whose_space_it_is_in(service, engine, circle):
    with Session(service.engine) as session, session.begin():  # the circle's space, as its OpenSpace receipt left it
        session.add(SpaceRow(circle_id=circle_id("slack", "T1", "crew"), platform="slack", channel="G1"))
    message = ReportedMessage("dan", "you are all idiots", "https://x.slack.com/archives/G1/p1")
    assert "Dan is not told" in say(service, CAROL, message, channel="G1")
    (first, second) = report_dms(engine)
    assert "you are all idiots" in first[1]
    assert "only messages in a circle can be reported" in say(service, CAROL, message, channel="C0GENERAL")
    # Someone outside the circle cannot report into it.
    assert "not a member" in say(service, person("eve"), message, channel="G1")


def test_forget_me_erases_the_reporters_reports(service, engine, circle):
    say(service, CAROL, "/circle report #crew dan he keeps interrupting")
    say(service, CAROL, "/circle forget-me confirm")
    assert report_dms(engine) == []
    with engine.connect() as connection:
        assert connection.execute(select(PersonRow.user_key).where(PersonRow.user_key == CAROL.user.key)).all() == []


# ---------------------------------------------------------------- a circle grown small


def test_a_running_circle_grown_small_offers_its_moderator_the_choice_privately(started_circle, new_circle, moderator,
                                                                                members, career, t0):
    circle = started_circle()  # maya, ben, cleo, dev
    three = core.handle(circle, c.Remove(None, "cleo"), moderator, t0, career)
    assert [dm.to.id for dm in dms(three)] == ["cleo"]  # three is enough: nobody else is told anything
    two = core.handle(three.circle, c.Leave(None), members[2], t0, career)
    (offer,) = [dm for dm in dms(two) if dm.to == moderator.user]
    said = text(offer.message)
    assert "\u201cTuesday crew\u201d has 2 members now" in said and "/circle merge #tuesday-crew shows them" in said
    assert [b.action for b in offer.message.buttons] == [Action(Verb.CLOSE, circle.id)]
    # A forming circle is still gathering people: nothing to offer.
    forming = core.handle(new_circle(joined=2), c.Leave(None), members[0], t0, career)
    assert not dms(forming)


def test_the_small_circle_notice_mentions_a_seat_offered_from_its_waitlist(started_circle, moderator, members, actor,
                                                                         career, t0):
    circle = started_circle()  # maya, ben, cleo, dev: full at four
    circle = core.handle(replace(circle, capacity=4), c.Join(None), actor("fay"), t0, career).circle  # fay waits
    circle = core.handle(circle, c.Remove(None, "cleo"), moderator, t0, career).circle  # the seat is held for fay
    two = core.handle(circle, c.Leave(None), members[2], t0, career)
    (notice,) = [dm for dm in dms(two) if dm.to == moderator.user]
    assert "A freed seat is being offered to the next person on its waitlist" in text(notice.message)


def test_closing_kindly_thanks_each_member_and_only_the_moderator_may_press_it(started_circle, moderator, members,
                                                                               career, t0):
    circle = started_circle(joined=2)  # maya, ben and cleo
    circle = core.handle(circle, c.Remove(None, "cleo"), moderator, t0, career).circle
    press = command_of(Action(Verb.CLOSE, circle.id))
    assert "Only the moderator" in error_of(core.handle, circle, press, members[0], t0, career)
    closed = core.handle(circle, press, moderator, t0, career)
    assert closed.circle.state is State.CLOSED
    (thanks,) = dms(closed)
    assert thanks.to == members[0].user and "Thank you for the time you gave it" in text(thanks.message)


def outbox(engine, part: str) -> list[tuple[str, str]]:
    """(recipient, payload) of the deliveries whose key holds ``part``."""
    with engine.connect() as connection:
        rows = connection.execute(select(OutboxRow.key, OutboxRow.recipient, OutboxRow.payload)).all()
    return [(recipient, payload) for key, recipient, payload in rows if part in key]


def press(service: Wiring, actor: Actor, verb: Verb, circle: str, item: str = "") -> str:
    return say(service, actor, Pressed(encode_action(Action(verb, circle_id("slack", "T1", circle), 0, item))))


ERIN, FRED, GINA = person("erin"), person("fred"), person("gina")


@pytest.fixture
def two_circles(service):
    """Crew (alice; bob, carol) and Other (erin; fred, gina), both running the starter kit, both in week 0."""
    for moderator, name, members in ((ALICE, "Crew", (BOB, CAROL)), (ERIN, "Other", (FRED, GINA))):
        say(service, moderator, f'/circle new "{name}" starter UTC tue 17:00')
        for member in members:
            say(service, member, f"/circle join {name.lower()}")
        say(service, moderator, f"/circle start #{name.lower()}")


def test_a_small_circle_goes_on_in_another_once_its_moderator_agrees_and_each_member_joins(service, engine,
                                                                                           two_circles):
    say(service, CAROL, "/circle leave #crew")
    assert [r for r, _payload in outbox(engine, "/small/")] == ["slack:T1:alice"]
    # The circles that could take them in: same kit, same week, running, with room for both.
    say(service, DAN, '/circle new "Third" career UTC tue 17:00')
    listed = say(service, ALICE, "/circle merge #crew")
    assert "#other \u2014 Other, meets Tuesdays at 17:00 (UTC), 2 free places" in listed and "#third" not in listed
    assert "is asked" in say(service, ALICE, "/circle merge #crew other")
    (asked,) = outbox(engine, "/merge/")
    assert asked[0] == "slack:T1:erin" and "Take in members of" in asked[1]

    # Only Other's moderator can answer; a member pressing the button changes nothing.
    before = stored_rows(engine)
    assert "Only the moderator of \u201cOther\u201d" in press(service, FRED, Verb.MERGE_YES, "other", "crew")
    assert stored_rows(engine) == before

    assert "are invited" in press(service, ERIN, Verb.MERGE_YES, "other", "crew")
    with service.store.transaction() as tx:
        crew = tx.find("slack", "T1", "crew")
    assert crew.state is State.CLOSED and crew.merge_into is None
    invited = sorted(recipient for recipient, _payload in outbox(engine, "/merged/"))
    assert invited == ["slack:T1:alice", "slack:T1:bob"]
    # Each decides: Bob joins with the invitation's button; Alice does nothing.
    assert "You joined \u201cOther\u201d" in press(service, BOB, Verb.JOIN, "other")
    # The answer is spent: pressing it again reaches nothing.
    assert "No circle is waiting" in press(service, ERIN, Verb.MERGE_YES, "other", "crew")


def test_a_merge_is_refused_when_it_does_not_fit_or_was_never_asked(service, engine, two_circles):
    say(service, DAN, '/circle new "Third" career UTC tue 17:00')
    assert "same kit in the same week" in say(service, ALICE, "/circle merge #crew third")
    assert "There is no circle \u201cnowhere\u201d" in say(service, ALICE, "/circle merge #crew nowhere")
    assert "Only the moderator" in say(service, BOB, "/circle merge #crew other")
    # A forged answer for a request never made changes nothing.
    before = stored_rows(engine)
    assert "No circle is waiting" in press(service, ERIN, Verb.MERGE_YES, "other", "crew")
    assert stored_rows(engine) == before
    assert "\u201cOther\u201d has 2 free places; your circle needs 3." in say(service, ALICE, "/circle merge #crew other")
    assert "No running circle of the same kit in week 0 has room for all 3" in say(service, ALICE, "/circle merge #crew")
    # A decline leaves both as they were, and the asking moderator hears it.
    say(service, CAROL, "/circle leave #crew")
    say(service, ALICE, "/circle merge #crew other")
    assert "nothing changes" in say(service, ERIN, "/circle merge #other decline crew")
    with service.store.transaction() as tx:
        assert tx.find("slack", "T1", "crew").merge_into is None and tx.find("slack", "T1", "crew").members
    assert any("declined" in payload for recipient, payload in outbox(engine, "/") if recipient == "slack:T1:alice")
