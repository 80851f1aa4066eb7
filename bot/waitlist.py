"""A full circle's waitlist, and the freed seats it is offered in turn.

Someone who joins a full circle is put in line for it at once: they asked for
this very circle, and ``leave`` takes them out of the line again. When a seat
frees up (someone leaves, is removed or is forgotten) while the waitlist is
open, it is held for the first in line: a private offer with a button and a day
to take it (``join``) or pass (``leave``). Nobody else may take a held seat. A
pass, or the day running out (on the clock: an offer's deadline is one of the
circle's ``next_wake`` moments), offers it to the next in line; once nobody
waits, the seat is open to anyone again.

The waitlist is open while the circle forms or runs its first week (``week`` is
below :data:`CLOSES_AT_WEEK`): once week 2's exercise goes out, a newcomer
would have missed too much. The people still waiting are then told once,
kindly, and the line is cleared; so it is when the circle closes. A paused
circle keeps its line but offers nothing until it resumes.

:func:`settled` runs after every command and tick (bot/engine.py), so whatever
frees a seat offers it, and no handler has to remember to.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from bot import messages as m
from bot.actions import Action, Verb
from bot.circle import Circle, SeatOffer, UserRef, Waiting
from bot.decision import Context, Out
from bot.effects import Button, Message
from bot.errors import CircleError
from bot.i18n import _, hint
from bot.plan import next_meeting
from bot.state import State
from bot.timetable import after_quiet_hours
from kits.schema import Kit

#: People who may wait for one circle: more could not hope for a seat in its first week.
WAITLIST_CAP = 10
#: How long a freed seat is held for the person it is offered to, from when they can read the offer.
OFFER_TIME = timedelta(days=1)
#: The week whose exercise closes the waitlist.
CLOSES_AT_WEEK = 2


def is_open(circle: Circle) -> bool:
    """Whether people may wait for a seat, and freed seats are offered to them."""
    return circle.state in (State.FORMING, State.ACTIVE) and circle.week < CLOSES_AT_WEEK


def _kept(circle: Circle) -> bool:
    """Whether the line is kept: open, or paused before week 2 (offers wait for the resume)."""
    return is_open(circle) or (circle.state is State.PAUSED and circle.week < CLOSES_AT_WEEK)


def place(circle: Circle, user: UserRef) -> int:
    """``user``'s place in line, from 1."""
    return next(n for n, w in enumerate(circle.waitlist, 1) if w.user == user)


def _require_line(circle: Circle) -> None:
    """Refuse a newcomer in line when the waitlist is closed (week 2 began) or at its cap."""
    if not is_open(circle):
        raise CircleError(
            _(
                "\u201c{name}\u201d is full and its weeks are under way, so it takes nobody new. Try {command} for others.",
                name=circle.name,
                command=hint("list"),
            )
        )
    if len(circle.waitlist) >= WAITLIST_CAP:
        raise CircleError(
            _(
                "The waitlist of \u201c{name}\u201d is full too ({count} people are waiting). Try {command} for other circles.",
                name=circle.name,
                count=len(circle.waitlist),
                command=hint("list"),
            )
        )


def wait(circle: Circle, ctx: Context, out: Out) -> Circle:
    """Put the actor, who asked to join the full ``circle``, at the end of its line, and tell them their place.

    Raises:
        CircleError: they already wait, the waitlist is closed, or its line is at its cap.
    """
    user = ctx.actor.user
    if circle.waiting(user):
        raise CircleError(
            _(
                "You are already waiting for a seat in \u201c{name}\u201d: number {place} in line.",
                name=circle.name,
                place=place(circle, user),
            )
        )
    _require_line(circle)
    circle = replace(circle, waitlist=(*circle.waitlist, Waiting(user, ctx.actor.name, ctx.now, ctx.actor.tz)))
    out.reply(
        user,
        m.plain(
            _(
                "\u201c{name}\u201d is full ({capacity} people), so you are now number {place} in line for a seat.",
                name=circle.name,
                capacity=circle.capacity,
                place=len(circle.waitlist),
            ),
            _("If a seat frees up before its second week, you get a private message and a day to take it."),
            _("To leave the line: {command}.", command=hint("leave", circle=circle.handle)),
            _("Or try {command} for other circles.", command=hint("list")),
            title=_("On the waitlist"),
        ),
    )
    return circle


def left(circle: Circle, user: UserRef, out: Out) -> Circle:
    """``user`` gives up their place in line, or the seat held for them (it goes to the next in line).

    Raises:
        CircleError: they neither wait nor have a seat held.
    """
    if circle.seat_offer(user):
        out.reply(user, m.plain(_("Understood: the seat goes to the next person in line. Take care.")))
        return without(circle, user)
    if circle.waiting(user):
        out.reply(user, m.plain(_("You have left the waitlist of \u201c{name}\u201d.", name=circle.name)))
        return without(circle, user)
    raise CircleError(_("You are not waiting for a seat in \u201c{name}\u201d.", name=circle.name))


def without(circle: Circle, user: UserRef) -> Circle:
    """``circle`` with ``user`` out of its line and any seat held for them let go."""
    return replace(
        circle,
        waitlist=tuple(w for w in circle.waitlist if w.user != user),
        seat_offers=tuple(o for o in circle.seat_offers if o.user != user),
    )


def settled(circle: Circle, kit: Kit, now: datetime, out: Out) -> Circle:
    """Offer every unclaimed seat to the next in line, or close the line once the circle is past taking anyone."""
    if not circle.waitlist and not circle.seat_offers:
        return circle
    if not _kept(circle):
        return _closed(circle, out)
    while is_open(circle) and circle.waitlist and circle.open_seats > 0:
        circle = _offer(circle, kit, now, out)
    return circle


def lapsed(circle: Circle, now: datetime, out: Out) -> Circle:
    """Let go of the seats whose day ran out; their people are told the seat went on."""
    for offer in [o for o in circle.seat_offers if o.until <= now]:
        out.dm(
            offer.user,
            m.plain(
                _(
                    "The seat held for you in \u201c{name}\u201d has gone to the next person in line, as a day passed. "
                    "{command} shows circles you can join.",
                    name=circle.name,
                    command=hint("list"),
                )
            ),
            suffix=f"seat-lapsed/{offer.user.key}",
        )
        circle = without(circle, offer.user)
    return circle


def _offer(circle: Circle, kit: Kit, now: datetime, out: Out) -> Circle:
    first, rest = circle.waitlist[0], circle.waitlist[1:]
    tz = first.tz or circle.tz
    # The day starts when they can read the offer: a DM waits for the end of their quiet hours.
    offer = SeatOffer(first.user, first.name, after_quiet_hours(now, tz) + OFFER_TIME, first.tz)
    slot = m.slot_for(circle, tz, next_meeting(circle, kit, now))
    out.dm(
        first.user,
        Message(
            (
                _("A seat has opened in \u201c{name}\u201d, which meets {slot}.", name=circle.name, slot=slot),
                _("It is held for you until {until}.", until=m.format_when(offer.until, tz)),
                _(
                    "Take it with the button or {join}; {leave} passes it to the next person.",
                    join=hint("join", circle.handle),
                    leave=hint("leave", circle=circle.handle),
                ),
            ),
            title=_("A seat for you in \u201c{name}\u201d", name=circle.name),
            buttons=(
                Button(_("Take the seat"), Action(Verb.TAKE_SEAT, circle.id)),
                Button(_("No thanks"), Action(Verb.PASS_SEAT, circle.id)),
            ),
        ),
        suffix=f"seat/{first.user.key}",
    )
    return replace(circle, waitlist=rest, seat_offers=(*circle.seat_offers, offer))


def _closed(circle: Circle, out: Out) -> Circle:
    """Tell everyone still waiting (a seat held for them included), once, that no seat will come."""
    line = (
        _("\u201c{name}\u201d has closed, so its waitlist is closed too.", name=circle.name)
        if circle.state is State.CLOSED
        else _("\u201c{name}\u201d has begun its second week, so its waitlist is closed: no seat will open for you there.",
               name=circle.name)
    )
    for user in [o.user for o in circle.seat_offers] + [w.user for w in circle.waitlist]:
        out.dm(
            user,
            m.plain(line, _("Thank you for waiting. {command} shows circles you can join now.", command=hint("list")),
                    title=_("Waitlist closed")),
            suffix=f"waitlist-closed/{user.key}",
        )
    return replace(circle, waitlist=(), seat_offers=())
