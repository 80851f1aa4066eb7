"""The adapter contract, tried as an adapter would: typed lines, pressed actions, submitted forms, receipts.

Each of the symptoms that showed the old seam was shaped for a terminal is a test here.
"""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from datetime import UTC, datetime, timedelta

import pytest
from dbfixtures import database_url, engine, pg_schema, stored_rows  # noqa: F401  (fixtures)
from fakes.sender import RecordingSender
from requesting import request, run

from adapters.console.render import Choices, effect_lines
from bot import commands as c
from bot.actions import MAX_ENCODED, Action, Verb, decode_action, encode_action
from bot.circle import Actor, UserRef
from bot.effects import (
    DELIVERY_TYPES,
    RESPONSE_TYPES,
    DirectMessage,
    OpenForm,
    PostInThread,
    Reply,
    UpdatePost,
    Visibility,
)
from bot.errors import CircleError
from bot.forming import circle_id
from bot.i18n import Hint, render
from bot.inputs import Pressed, Submitted
from circlebot.wiring import Wiring, wire
from kits import builtin_kits

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def person(name: str, workspace: str = "T1", tz: str | None = "Europe/London") -> Actor:
    return Actor(UserRef("slack", workspace, name), name.title(), tz)


ALICE, BOB, CAROL = person("alice"), person("bob"), person("carol")


@pytest.fixture
def app(engine) -> Wiring:
    return wire(engine, builtin_kits(), timedelta(hours=6))


def text_of(responses) -> str:
    return "\n".join(
        "\n".join(render(x) for x in ((r.message.title,) if r.message.title else ()) + r.message.lines)
        for r in responses if isinstance(r, Reply)
    )


def form_circle(app: Wiring, name: str = "Crew", people=(BOB, CAROL)) -> str:
    run(app.commands, ALICE, f'/circle new "{name}" starter Europe/London tue 17:00', T0)
    handle = name.lower()
    for someone in people:
        run(app.commands, someone, f"/circle join {handle}", T0)
    run(app.commands, ALICE, f"/circle start #{handle}", T0)
    return circle_id("slack", "T1", handle)


def until_done(app: Wiring, key: str, step: str) -> datetime:
    """Tick the circle along, step by step, until ``step`` (e.g. ``checkin:2``) has happened; returns that moment."""
    moment = T0
    while True:
        with app.store.transaction() as tx:
            circle = tx.load(key)
        if step in circle.done:
            return moment
        moment = circle.next_wake
        app.ticker.tick_due(moment)


def until_week(app: Wiring, key: str, week: int) -> datetime:
    """Tick the circle along until week ``week``'s exercise is out; returns that moment."""
    return until_done(app, key, f"exercise:{week}")


def stored(engine) -> dict[str, list]:
    return stored_rows(engine, leave_out=("handled_requests",))


# ---------------------------------------------------------------- the five symptoms


def test_a_form_answer_with_a_bar_is_one_answer(app):
    crew = form_circle(app)
    now = until_week(app, crew, 1)
    [form] = run(app.commands, BOB, "/circle checkin", now)
    answers = ("I tried A | B testing", "", "Write to two people")[: len(form.fields)]
    run(app.commands, BOB, Submitted(encode_action(form.action), answers), now)
    with app.store.transaction() as tx:
        saved = tx.load(crew).checkin(1, BOB.user)
    assert saved.answers[0] == "I tried A | B testing"
    assert len(saved.answers) == len(form.fields)


def test_the_check_in_button_in_a_dm_works_for_someone_in_two_circles(app):
    crew = form_circle(app, "Crew")
    other = form_circle(app, "Other")
    now = until_week(app, crew, 1)
    until_week(app, other, 1)
    run(app.commands, BOB, "/circle commit #crew call Sam", now)
    later = until_done(app, crew, "checkin:2")
    outbox = {q.effect.key: q.effect for q in app.outbox.claim(later + timedelta(days=1), 500)}
    [dm] = [e for k, e in outbox.items() if isinstance(e, DirectMessage) and e.circle_id == crew and e.to == BOB.user
            and "call Sam" in " ".join(render(x) for x in e.message.lines)]
    [button] = dm.message.buttons
    [form] = run(app.commands, BOB, Pressed(encode_action(button.action)), later)
    assert isinstance(form, OpenForm) and form.circle_id == crew  # not "You are in several circles"


def test_a_form_opened_in_week_1_and_sent_after_week_2_began_counts_for_week_1(app):
    crew = form_circle(app)
    now = until_week(app, crew, 1)
    [form] = run(app.commands, BOB, "/circle checkin", now)
    later = until_week(app, crew, 2)
    answers = tuple(f"answer {n}" for n in range(1, len(form.fields) + 1))
    reply = run(app.commands, BOB, Submitted(encode_action(form.action), answers), later)
    with app.store.transaction() as tx:
        circle = tx.load(crew)
    assert circle.checkin(1, BOB.user).answers == answers and circle.checkin(2, BOB.user) is None
    assert "saved" in text_of(reply)


@pytest.mark.parametrize("command", ["/circle remove bob", "/circle moderator bob", "/circle reschedule wed 18:00"])
def test_moderator_commands_in_a_closed_circle_are_refused_and_post_nothing(app, command):
    form_circle(app)
    run(app.commands, ALICE, "/circle close", T0)
    before = stored(app.engine)
    reply = text_of(run(app.commands, ALICE, command, T0))
    assert "is closed, so you cannot" in reply
    assert stored(app.engine) == before


def test_messages_teach_commands_as_hints_each_adapter_spells(app):
    form_circle(app)
    until_week(app, circle_id("slack", "T1", "crew"), 1)
    [refusal] = run(app.commands, person("dave"), "/circle support open", T0 + timedelta(days=7))
    hints = []

    def collect(text) -> None:
        if isinstance(text, Hint):
            hints.append(text)
        for _name, value in getattr(text, "params", ()):
            collect(value)

    for line in refusal.message.lines:
        collect(line)
    assert hints, "a refusal that teaches a command carries it as a hint"
    slack_style = render(refusal.message.lines[0], "en", hints=lambda h: f"`/circle {h.command} {' '.join(h.args)}`")
    assert "`/circle" in slack_style and "#crew" not in slack_style


# ---------------------------------------------------------------- actions, requests, receipts


def test_actions_encode_within_the_platforms_limits_and_round_trip():
    longest = Action(Verb.STOP_REMINDERS, "f" * 32, 999, "1" * 20)
    assert len(encode_action(longest)) <= MAX_ENCODED
    assert decode_action(encode_action(longest)) == longest
    for forged in ("", "checkin", "cb1|zz|crew|1|", "cb1|ci|CREW!|1|", "cb1|ci|crew|x|", "cb0|ci|crew|1|", "x" * 500):
        with pytest.raises(CircleError):
            decode_action(forged)


def test_a_forged_or_foreign_press_is_refused_and_changes_nothing(app):
    crew = form_circle(app)
    now = until_week(app, crew, 1)
    before = stored(app.engine)
    stranger, elsewhere = person("mallory"), person("eve", workspace="T2")
    cases = [
        (stranger, Pressed(encode_action(Action(Verb.RSVP_YES, crew, 1)))),  # not a member
        (elsewhere, Pressed(encode_action(Action(Verb.CHECKIN, crew, 1)))),  # another workspace
        (BOB, Pressed(encode_action(Action(Verb.STORY_APPROVE, crew, 0, "1")))),  # a moderator's button
        (BOB, Pressed("cb1|ry|" + "a" * 32 + "|1|")),  # a circle that does not exist
        (BOB, Pressed("/circle close")),  # command text is not an action
        (stranger, Submitted(encode_action(Action(Verb.SUBMIT_CHECKIN, crew, 1)), ("a", "b", "c"))),
    ]
    for someone, pressed in cases:
        [reply] = run(app.commands, someone, pressed, now)
        assert isinstance(reply, Reply) and render(reply.message.title) == "Sorry", pressed
    assert stored(app.engine) == before


def test_the_same_request_twice_has_one_effect(app):
    crew = form_circle(app)
    now = until_week(app, crew, 1)
    again = request(BOB, "/circle rsvp no")
    first = app.commands.handle(again, now)
    assert "Thanks for letting the circle know" in text_of(first)
    pending = app.outbox.counts().get("pending", 0)
    assert app.commands.handle(again, now) == []
    assert app.outbox.counts().get("pending", 0) == pending


async def test_receipts_are_kept_and_the_space_is_known_both_ways(app):
    crew = form_circle(app)
    sender = RecordingSender()
    runner = app.runner(sender)
    await runner.run_due(T0)  # the circle's space is made
    now = until_week(app, crew, 1)
    await runner.run_due(now)
    space = next(o for o in sender.outgoing if type(o.effect).__name__ == "OpenSpace")
    assert space.platform == "slack"
    # A command typed in the circle's channel acts on that circle, even for someone in two.
    form_circle(app, "Other")
    assert "Kit:" in text_of(run(app.commands, ALICE, "/circle info", now, channel=f"C-{crew}"))
    # An RSVP updates the week's post, whose receipt the adapter gets; a check-in threads under it.
    run(app.commands, BOB, "/circle rsvp #crew yes", now)
    [form] = run(app.commands, BOB, "/circle checkin #crew", now)
    run(app.commands, BOB, Submitted(encode_action(form.action), ("a", "b", "c")[: len(form.fields)]), now)
    await runner.run_due(now)
    weekly = next(o for o in sender.outgoing if o.effect.key == f"{crew}/exercise:1/post")
    update = next(o for o in sender.outgoing if isinstance(o.effect, UpdatePost))
    thread = next(o for o in sender.outgoing if isinstance(o.effect, PostInThread))
    assert update.earlier is not None and update.earlier.channel == f"C-{crew}"
    assert thread.earlier == update.earlier and thread.space is not None
    assert "1 coming" in " ".join(render(x) for x in update.effect.message.lines)
    assert weekly.locale == "en" and weekly.tz == "Europe/London"


def test_a_person_sets_their_own_zone_and_language_and_is_asked_for_a_zone_once(app):
    nobody_knows = person("zed", tz=None)
    first = text_of(run(app.commands, nobody_knows, "/circle list", T0))
    assert "Which time zone are you in?" in first
    assert "Which time zone" not in text_of(run(app.commands, nobody_knows, "/circle list", T0))
    reply = text_of(run(app.commands, nobody_knows, "/circle me timezone America/Toronto", T0))
    assert "Time zone: America/Toronto" in reply
    assert "Language: Spanish" in text_of(run(app.commands, nobody_knows, "/circle me language es", T0))
    assert "I can speak" in text_of(run(app.commands, nobody_knows, "/circle me language xx", T0))


def test_a_direct_message_is_queued_in_its_readers_language_and_zone(app):
    run(app.commands, BOB, "/circle me language de", T0)
    run(app.commands, BOB, "/circle me timezone Europe/Berlin", T0)
    crew = form_circle(app)
    now = until_week(app, crew, 1)
    run(app.commands, BOB, "/circle commit call Sam", now)
    later = until_done(app, crew, "checkin:2")
    claimed = app.outbox.claim(later + timedelta(days=1), 500)
    dm = next(q for q in claimed if isinstance(q.effect, DirectMessage) and q.effect.to == BOB.user)
    post = next(q for q in claimed if not isinstance(q.effect, DirectMessage))
    assert (dm.locale, dm.reader_tz) == ("de", "Europe/Berlin")
    assert (post.locale, post.reader_tz) == ("en", "Europe/London")


# ---------------------------------------------------------------- every adapter renders every effect


def sample(kind: type):
    """An instance of an effect type with plausible values, to render."""
    from bot.effects import FormField, Message

    values = {
        "key": "c/step/0", "circle_id": "c" * 32, "to": BOB.user, "user": BOB.user, "members": (BOB.user,),
        "name": "crew", "message": Message(("hello",), buttons=()), "parent": "c/exercise:1/post",
        "original": "c/exercise:1/post", "title": "Week 1 check-in", "fields": (FormField("q1", "How?"),),
        "action": Action(Verb.SUBMIT_CHECKIN, "c" * 32, 1), "filename": "export.json", "content": "{}",
    }
    assert is_dataclass(kind)
    return kind(**{f.name: values[f.name] for f in fields(kind) if f.name in values})


@pytest.mark.parametrize("kind", [*DELIVERY_TYPES, *RESPONSE_TYPES], ids=lambda k: k.__name__)
def test_the_console_renders_every_effect(kind):
    header, body = effect_lines(sample(kind), "en", handle_of=lambda key: "crew", choices=Choices())
    assert header and body


def test_every_circle_command_has_a_row_in_the_permission_table():
    from bot.state import PERMISSIONS

    commands = {cls.__name__ for cls in vars(c).values()
                if isinstance(cls, type) and issubclass(cls, c.CircleCommand)
                and cls not in (c.CircleCommand, c.ModeratorCommand, c.StoryStep)}
    assert commands <= set(PERMISSIONS)


def test_a_reply_says_how_private_and_lasting_it_is(app):
    form_circle(app)
    [reply] = run(app.commands, BOB, "/circle info", T0)
    assert reply.visibility is Visibility.EPHEMERAL
    [file] = run(app.commands, BOB, "/circle export", T0)
    assert file.visibility is Visibility.DIRECT


async def test_the_moderator_names_an_existing_channel_and_the_circle_moves_there(app):
    crew = form_circle(app)
    sender = RecordingSender()
    runner = app.runner(sender)
    await runner.run_due(T0)
    assert "being added" in text_of(run(app.commands, ALICE, "/circle space <#C0EXISTING|our-room>", T0))
    assert "Only the moderator" in text_of(run(app.commands, BOB, "/circle space C0OTHER", T0))
    await runner.run_due(T0)
    moved = [o.effect for o in sender.outgoing if type(o.effect).__name__ == "OpenSpace" and o.effect.channel]
    assert [(e.channel, set(e.members)) for e in moved] == [("C0EXISTING", {ALICE.user, BOB.user, CAROL.user})]
    # The space is now that channel, both ways: a command typed there acts on the circle, and posts go there.
    assert "Kit:" in text_of(run(app.commands, ALICE, "/circle info", T0, channel="C0EXISTING"))
    with app.store.transaction() as tx:
        assert tx.circle_of_space("slack", "C0EXISTING") == crew
    # Another circle cannot take the same channel.
    form_circle(app, "Other")
    assert "already another circle's space" in text_of(run(app.commands, ALICE, "/circle space #other C0EXISTING", T0))
