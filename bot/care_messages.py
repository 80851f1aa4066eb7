"""The messages of care after a life event (bot/care.py); each says who sees it.

Buttons carry the circle in their action because they are pressed in a DM,
where no circle is implied.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from bot.circle import Circle, LifeEvent, Reach, UserRef
from bot.effects import Button, Message
from bot.actions import Action, Verb
from bot.i18n import Hint, Text, _, hint, join, join_and
from bot.messages import NOT_A_CRISIS_SERVICE, SEEN_BY_YOU
from bot.timetable import format_day
from kits.schema import Kit

REACH_NAMES = {Reach.MESSAGE: _("a message"), Reach.CALL: _("an offer to call")}
REACH_LINES = {
    Reach.MESSAGE: _("{name} would rather get a message than a call."),
    Reach.CALL: _("{name} would welcome an offer to call."),
}
ONLY_THE_HELPER = _("Only you see this reminder. Helpers take turns, so this one thing is plenty for now.")


def support_hint(circle: Circle, *args: str) -> Hint:
    """A ``support`` command for this circle, to type."""
    return hint("support", *args, circle=circle.handle)


def reach_line(event: LifeEvent, name: str) -> Text:
    return _(REACH_LINES[event.reach].msgid, name=name)


def names_of(circle: Circle, users: Iterable[UserRef]) -> Text:
    return join([m.name for user in users if (m := circle.member(user))])


def private(*lines: Text | str, title: Text | None = None) -> Message:
    """A message for one person, saying so."""
    return Message((*lines, SEEN_BY_YOU), title=title)


def terms(circle: Circle, event: LifeEvent, opened: date, intro: tuple[Text | str, ...] = ()) -> Message:
    """The member's own view of their support, with buttons to change it. Only they see it."""
    lines: list[Text | str] = list(intro)
    if event.not_now:
        lines.append(
            _("Reminders are paused (\u201cnot now\u201d). The dates keep their places; resume when you like.")
        )
    else:
        lines.append(_("Open since {day}.", day=format_day(opened)))
    if event.everyone_knows:
        lines.append(_("Who knows: everyone in the circle."))
    elif event.known_by:
        lines.append(_("Who knows: {names}.", names=names_of(circle, event.known_by)))
    else:
        lines.append(
            _(
                "Who knows: nobody yet. Let everyone in the circle know with {all}, or only some people with {some}.",
                all=support_hint(circle, 'who', 'all'),
                some=support_hint(circle, 'who', '<names>'),
            )
        )
    helpers = [user for user in event.helpers if circle.member(user)]
    if helpers:
        lines.append(_("Offered to help: {names}.", names=names_of(circle, helpers)))
    lines.append(_("How you like to be reached: {reach}.", reach=REACH_NAMES[event.reach]))
    for shared in event.dates:
        lines.append(_("A date you shared: {day} \u2014 {label}", day=format_day(shared.on), label=shared.label))
    lines.append(
        _(
            "Add a date helpers should remember (a birthday, a holiday) with {command}.",
            command=support_hint(circle, 'date', '<YYYY-MM-DD>', '<what it is>'),
        )
    )
    if not event.told_circle:
        lines.append(
            _(
                "Nothing is posted in the circle unless you ask with {command}.",
                command=support_hint(circle, 'tell', 'circle'),
            )
        )
    lines.append(SEEN_BY_YOU)
    buttons = []
    if not event.everyone_knows:
        buttons.append(Button(_("Let everyone in the circle know"), Action(Verb.SUPPORT_EVERYONE, circle.id)))
    if event.reach is Reach.MESSAGE:
        buttons.append(Button(_("I'd welcome a call"), Action(Verb.REACH_CALL, circle.id)))
    else:
        buttons.append(Button(_("Messages are better"), Action(Verb.REACH_MESSAGE, circle.id)))
    if event.not_now:
        buttons.append(Button(_("Resume"), Action(Verb.SUPPORT_RESUME, circle.id)))
    else:
        buttons.append(Button(_("Not now"), Action(Verb.SUPPORT_NOT_NOW, circle.id)))
    buttons.append(Button(_("End support"), Action(Verb.SUPPORT_END, circle.id)))
    return Message(
        tuple(lines), title=_("Your support in \u201c{circle}\u201d", circle=circle.name), buttons=tuple(buttons)
    )


def about(circle: Circle, kit: Kit) -> Message:
    """What support is, for a member looking it up: nothing opens until they ask for it."""
    return Message(
        (
            _(
                "When you go through a loss, an illness or a hard stretch, support keeps your circle's care going "
                "for a year: the people you choose get a private reminder now and then ({days} days after you "
                "open it), each with one small idea of something to do. Nobody is reminded about you more than "
                "once a week.",
                days=join_and([str(d) for d in kit.support.reminder_days]),
            ),
            _("You decide who knows and how you like to be reached, and you can pause or end it at any time."),
            _("Nothing has started. To open it, type {command}.", command=support_hint(circle, 'open')),
            _(
                "To suggest it for someone else, type {command}; they are asked privately and decide.",
                command=support_hint(circle, 'for', '<member>'),
            ),
            NOT_A_CRISIS_SERVICE,
            SEEN_BY_YOU,
        ),
        title=_("Support after a life event"),
    )


def opening_lines(kit: Kit) -> tuple[Text | str, ...]:
    """What opening support means, and where else to turn, for the member who opens it or says yes."""
    return (
        _(
            "The people you choose can be reminded, privately and in turns, to be there for you over the "
            "coming year: {days} days from today, each time with one small idea of something to do. "
            "Nobody is reminded about you more than once a week.",
            days=join([str(d) for d in kit.support.reminder_days]),
        ),
        NOT_A_CRISIS_SERVICE,
        *kit.support.resources,
    )


def question(circle: Circle, proposer: Text | str) -> Message:
    """A peer suggested care: the member decides, in private."""
    return Message(
        (
            _(
                "{proposer} suggested that a few people in \u201c{circle}\u201d keep you in mind over the coming "
                "months: now and then one of them would get a private reminder to send you a message or offer a call.",
                proposer=proposer,
                circle=circle.name,
            ),
            _(
                "It only starts if you say yes. If you do, {proposer} will know, you choose who else does, and you "
                "can pause or end it whenever you like.",
                proposer=proposer,
            ),
            _("If you say no, nothing more happens and {proposer} is not told your answer.", proposer=proposer),
            SEEN_BY_YOU,
        ),
        title=_("{proposer} is thinking of you", proposer=proposer),
        buttons=(
            Button(_("Yes, please"), Action(Verb.CONSENT_YES, circle.id)),
            Button(_("No, thank you"), Action(Verb.CONSENT_NO, circle.id)),
        ),
    )


def help_button(circle: Circle, event: LifeEvent) -> Button:
    return Button(_("I'd like to help"), Action(Verb.OFFER_HELP, circle.id, item=event.user.id))


def invitation(circle: Circle, event: LifeEvent, name: str) -> Message:
    """To a peer the member allowed to know."""
    return Message(
        (
            _("{name} is going through a hard time and would like you to know.", name=name),
            _(
                "If you would like to help, you will get an occasional private reminder over the coming year, each "
                "with one idea of something to do, never more than one a week. Helpers take turns, so nobody "
                "carries it alone.",
            ),
            reach_line(event, name),
            _("{name} will see that you offered. Only you see this message.", name=name),
        ),
        title=_("{circle}: {name} could use some support", circle=circle.name, name=name),
        buttons=(help_button(circle, event),),
    )


def circle_post(circle: Circle, event: LifeEvent, name: str) -> Message:
    """Posted in the circle's space only because the member asked."""
    return Message(
        (
            _("{name} asked me to let you know that they are going through a hard time.", name=name),
            reach_line(event, name),
            _(
                "If you would like to help, you will get an occasional private reminder, each with one idea; "
                "offer with the button or {command}.",
                command=support_hint(circle, 'help', f'@{event.user.id}'),
            ),
            _("Only {name} will see that you offered.", name=name),
        ),
        title=_("{name} could use some support", name=name),
        buttons=(help_button(circle, event),),
    )


def reminder(circle: Circle, event: LifeEvent, name: str, why: Text, suggestion: str) -> Message:
    """One helper's private reminder: why now, one idea, and how the person likes to be reached."""
    return Message(
        (
            why,
            _("One idea: {suggestion}", suggestion=suggestion),
            reach_line(event, name),
            ONLY_THE_HELPER,
        ),
        title=_("{circle}: thinking of {name}", circle=circle.name, name=name),
        buttons=(Button(_("Stop these reminders"), Action(Verb.STOP_REMINDERS, circle.id, item=event.user.id)),),
    )


def ended(circle: Circle, name: str) -> Message:
    """To each helper, when the member ends their support."""
    return Message(
        (
            _(
                "{name} has ended their support in \u201c{circle}\u201d, so there will be no more reminders. "
                "Thank you for being there.",
                name=name,
                circle=circle.name,
            ),
            SEEN_BY_YOU,
        ),
        title=_("{circle}: no more reminders about {name}", circle=circle.name, name=name),
    )
