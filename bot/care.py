"""Care that outlasts the first rush: support for a member after a loss, an illness or a hard stretch.

The member cared for decides. They open support themselves (``support``), or
a peer suggests it (``support for <member>``) and the member says yes or no in
private; consent is recorded and can be revoked (``support end``). The member
sets the terms: who in the circle knows, how they like to be reached, dates to
remember, and a quiet "not now". Peers allowed to know may offer to help
(``support help <member>``) and then get private reminders on the kit's
cadence, in turns (bot/turns.py). Nothing reaches the circle's space unless the
member asks (``support tell circle``). None of it depends on the circle's
state: reminders go on after the circle graduates or closes.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

from bot import care_messages as cm
from bot import commands as c
from bot import turns
from bot.circle import CareReminder, Circle, Consent, LifeEvent, Member, SharedDate, UserRef
from bot.decision import Context, Out, find_member, require_member
from bot.effects import Effect
from bot.errors import CircleError
from bot.i18n import Text, _, hint
from bot.timetable import to_local
from kits.schema import Kit

#: What a member types to open support for themselves: on purpose, never by looking it up.
OPEN_COMMAND = hint("support", "open")
#: After a member declines or ends support, peers cannot suggest it again for this long.
ASKED_RECENTLY = timedelta(days=90)
#: A shared date must leave room for the reminder the day before.
DATE_LEAD_DAYS = 2
#: How far ahead a date may be shared: the kit's reminders reach two years at most (kits/schema.py).
DATE_HORIZON = timedelta(days=2 * 365)
MAX_DATES = 12
MAX_LABEL = 80


# ---------------------------------------------------------------- events and terms


def open_event(circle: Circle, user: UserRef) -> LifeEvent | None:
    """``user``'s event that waits for their answer or is consented to, if any."""
    return next((e for e in reversed(circle.life_events) if e.user == user and e.is_open), None)


def _saved(circle: Circle, event: LifeEvent) -> Circle:
    """``circle`` with ``event`` added, or replacing the event with the same id."""
    if all(e.id != event.id for e in circle.life_events):
        return replace(circle, life_events=(*circle.life_events, event))
    return replace(circle, life_events=tuple(event if e.id == event.id else e for e in circle.life_events))


def _replanned(circle: Circle, event: LifeEvent, kit: Kit, after: datetime) -> Circle:
    """Save ``event`` with its next reminder planned from ``after`` on."""
    return _saved(circle, replace(event, planned=turns.plan(circle, event, kit, after)))


def _who_can_help(circle: Circle) -> tuple[tuple[UserRef, date | None, str | None], ...]:
    """What the turns depend on about the members: who is in the circle, their absences and zones."""
    return tuple((m.user, m.away_until, m.tz) for m in circle.members)


def helpers_changed(before: Circle, after: Circle, kit: Kit, now: datetime) -> Circle:
    """Plan each open event's next reminder again when who can help has changed.

    A helper who left, was removed, went away or was forgotten would otherwise keep
    the turn they were planned for, and the reminder would be re-planned only when
    it fell due, too late for the other helpers' mornings of that day.
    """
    if _who_can_help(before) == _who_can_help(after):
        return after
    return replace(
        after,
        life_events=tuple(
            # A reminder already due (the tick has not run yet) is kept due, not pushed to later.
            replace(e, planned=turns.plan(after, e, kit, min(now, e.planned.at) if e.planned else now))
            if e.consent is Consent.GIVEN
            else e
            for e in after.life_events
        ),
    )


def _own_event(circle: Circle, ctx: Context) -> tuple[Member, LifeEvent]:
    """The actor and their consented-to event, for changing its terms."""
    member = require_member(circle, ctx)
    event = open_event(circle, member.user)
    if event is None or event.consent is not Consent.GIVEN:
        raise CircleError(
            _(
                "You have no support open in \u201c{name}\u201d. Open it with {command}.",
                name=circle.name,
                command=OPEN_COMMAND,
            )
        )
    return member, event


def _show_terms(circle: Circle, member: Member, ctx: Context, out: Out, *intro: Text | str) -> None:
    event = open_event(circle, member.user)
    assert event is not None
    out.reply(ctx.actor.user, cm.terms(circle, event, turns.opened_on(circle, event), intro))


def _invite(circle: Circle, before: LifeEvent, after: LifeEvent, out: Out) -> None:
    """Tell each peer the member has just allowed to know, privately, and ask if they would help."""
    member = circle.member(after.user)
    assert member is not None
    for peer in circle.members:
        if peer != member and after.may_know(peer.user) and not before.may_know(peer.user):
            out.dm(peer.user, cm.invitation(circle, after, member.name))


# ---------------------------------------------------------------- the member's side


def _shown(circle: Circle, member: Member, ctx: Context, out: Out) -> bool:
    """Show the member their open support (a peer's question, or their terms); false when none is open."""
    event = open_event(circle, member.user)
    if event is not None and event.consent is Consent.PROPOSED:
        proposer = circle.member(event.proposed_by) if event.proposed_by else None
        out.reply(ctx.actor.user, cm.question(circle, proposer.name if proposer else _("someone in your circle")))
    elif event is not None:
        _show_terms(circle, member, ctx, out)
    return event is not None


def _about(circle: Circle, cmd: c.AboutSupport, ctx: Context, out: Out) -> Circle:
    member = require_member(circle, ctx)
    if not _shown(circle, member, ctx, out):
        out.reply(ctx.actor.user, cm.about(circle, ctx.kit))
    return circle


def _open(circle: Circle, cmd: c.OpenSupport, ctx: Context, out: Out) -> Circle:
    member = require_member(circle, ctx)
    if not _shown(circle, member, ctx, out):
        circle = _saved(circle, LifeEvent(len(circle.life_events) + 1, member.user, ctx.now, consent_at=ctx.now))
        _show_terms(circle, member, ctx, out, *cm.opening_lines(ctx.kit))
    return circle


def _asked_recently(circle: Circle, member: Member, now: datetime) -> bool:
    return any(
        e.user == member.user and (e.is_open or (e.consent_at is not None and now - e.consent_at < ASKED_RECENTLY))
        for e in circle.life_events
    )


def _propose(circle: Circle, cmd: c.ProposeSupport, ctx: Context, out: Out) -> Circle:
    peer = require_member(circle, ctx)
    member = find_member(circle, cmd.member)
    if member == peer:
        raise CircleError(_("To open support for yourself, type {command}.", command=OPEN_COMMAND))
    if _asked_recently(circle, member, ctx.now):
        # The same words whatever the reason, so the peer learns nothing the member has not shared.
        raise CircleError(
            _(
                "It is up to {name} now; they can open support themselves at any time with {command}.",
                name=member.name,
                command=OPEN_COMMAND,
            )
        )
    event = LifeEvent(
        len(circle.life_events) + 1, member.user, ctx.now, proposed_by=peer.user, consent=Consent.PROPOSED
    )
    out.dm(member.user, cm.question(circle, peer.name))
    out.reply(
        ctx.actor.user,
        cm.private(
            _("Thank you for thinking of {name}. I have asked them privately.", name=member.name),
            _("Nothing happens unless they say yes, and you will hear only if they do."),
        ),
    )
    return _saved(circle, event)


def _answer(circle: Circle, cmd: c.AnswerSupport, ctx: Context, out: Out) -> Circle:
    member = require_member(circle, ctx)
    event = open_event(circle, member.user)
    if event is None or event.consent is not Consent.PROPOSED:
        raise CircleError(
            _(
                "Nobody has suggested support for you here. To open it yourself, type {command}.",
                command=OPEN_COMMAND,
            )
        )
    if not cmd.yes:
        out.reply(
            ctx.actor.user,
            cm.private(
                _("Understood. Nothing more happens, and nobody is told your answer."),
                _("If you change your mind, type {command}.", command=OPEN_COMMAND),
            ),
        )
        return _saved(circle, replace(event, consent=Consent.DECLINED, consent_at=ctx.now))
    proposer = circle.member(event.proposed_by) if event.proposed_by else None
    given = replace(
        event,
        consent=Consent.GIVEN,
        consent_at=ctx.now,
        opened_at=ctx.now,
        known_by=(proposer.user,) if proposer else (),
    )
    _invite(circle, event, given, out)
    circle = _replanned(circle, given, ctx.kit, ctx.now)
    _show_terms(circle, member, ctx, out, _("Thank you for saying yes."), *cm.opening_lines(ctx.kit))
    return circle


def _share_with(circle: Circle, cmd: c.ShareSupportWith, ctx: Context, out: Out) -> Circle:
    member, event = _own_event(circle, ctx)
    if cmd.members:
        named = [find_member(circle, who) for who in cmd.members]
        if member in named:
            raise CircleError(_("Name the others who may know; you are always included."))
        after = replace(event, everyone_knows=False, known_by=tuple(dict.fromkeys(m.user for m in named)))
    else:
        after = replace(event, everyone_knows=True, known_by=())
    # Someone no longer allowed to know stops helping; being allowed again means offering again.
    after = replace(after, helpers=tuple(user for user in after.helpers if after.may_know(user)))
    _invite(circle, event, after, out)
    circle = _replanned(circle, after, ctx.kit, ctx.now)
    _show_terms(circle, member, ctx, out)
    return circle


def _set_reach(circle: Circle, cmd: c.SetReach, ctx: Context, out: Out) -> Circle:
    member, event = _own_event(circle, ctx)
    circle = _saved(circle, replace(event, reach=cmd.reach))
    _show_terms(circle, member, ctx, out)
    return circle


def _not_now(circle: Circle, cmd: c.NotNow, ctx: Context, out: Out) -> Circle:
    member, event = _own_event(circle, ctx)
    circle = _replanned(circle, replace(event, not_now=cmd.paused), ctx.kit, ctx.now)
    if cmd.paused:
        intro = _(
            "Paused. Nobody is told; the dates keep their places, so resuming picks up where the year has got to."
        )
    else:
        intro = _("Reminders are on again.")
    _show_terms(circle, member, ctx, out, intro)
    return circle


def _share_date(circle: Circle, cmd: c.ShareDate, ctx: Context, out: Out) -> Circle:
    member, event = _own_event(circle, ctx)
    kept = tuple(d for d in event.dates if d.on != cmd.on)
    if not cmd.label:
        if len(kept) == len(event.dates):
            raise CircleError(_("You have not shared {day}.", day=cm.format_day(cmd.on)))
        dates = kept
    else:
        today = to_local(ctx.now, turns.tz_of(circle, member)).date()
        earliest, latest = today + timedelta(days=DATE_LEAD_DAYS), today + DATE_HORIZON
        if cmd.on < earliest:
            raise CircleError(
                _("Give a date from {day} on, so a helper can be reminded the day before.", day=cm.format_day(earliest))
            )
        if cmd.on > latest:
            raise CircleError(
                _("Give a date within two years, up to {day}; you can add later ones nearer the time.", day=cm.format_day(latest))
            )
        if len(cmd.label) > MAX_LABEL or len(kept) >= MAX_DATES:
            raise CircleError(
                _(
                    "You can share up to {count} dates, each with a label of up to {max} characters.",
                    count=MAX_DATES,
                    max=MAX_LABEL,
                )
            )
        dates = tuple(sorted((*kept, SharedDate(cmd.on, cmd.label)), key=lambda d: d.on))
    circle = _replanned(circle, replace(event, dates=dates), ctx.kit, ctx.now)
    _show_terms(circle, member, ctx, out)
    return circle


def _tell_circle(circle: Circle, cmd: c.TellCircle, ctx: Context, out: Out) -> Circle:
    member, event = _own_event(circle, ctx)
    if event.told_circle:
        raise CircleError(_("The circle has already been told."))
    after = replace(event, everyone_knows=True, known_by=(), told_circle=True)
    out.post(cm.circle_post(circle, after, member.name))
    circle = _replanned(circle, after, ctx.kit, ctx.now)
    _show_terms(circle, member, ctx, out, _("Posted in the circle, as you asked."))
    return circle


def ended(event: LifeEvent, now: datetime) -> LifeEvent:
    """``event`` with consent revoked: no more reminders, and the dates shared are forgotten."""
    return replace(event, consent=Consent.REVOKED, consent_at=now, planned=None, dates=())


def end_all(circle: Circle, user: UserRef, now: datetime) -> Circle:
    """End every open event of ``user``'s, as ``support end`` would (they are leaving for good, see bot/privacy.py)."""
    return replace(
        circle, life_events=tuple(ended(e, now) if e.user == user and e.is_open else e for e in circle.life_events)
    )


def _end(circle: Circle, cmd: c.EndSupport, ctx: Context, out: Out) -> Circle:
    member, event = _own_event(circle, ctx)
    for user in event.helpers:
        if circle.member(user):
            out.dm(user, cm.ended(circle, member.name))
    out.reply(
        ctx.actor.user,
        cm.private(
            _("Support has ended and no more reminders will go out; the dates you shared are forgotten."),
            _("Your circle is still here. To open support again, type {command}.", command=OPEN_COMMAND),
        ),
    )
    return _saved(circle, ended(event, ctx.now))


# ---------------------------------------------------------------- the helpers' side


def _supported(circle: Circle, ctx: Context, who: str) -> tuple[Member, Member, LifeEvent]:
    """The actor, the member they name, and that member's event, if the actor may know of it.

    Raises:
        CircleError: the same sentence whether there is no event or the actor may not know of it.
    """
    helper = require_member(circle, ctx)
    member = find_member(circle, who)
    event = open_event(circle, member.user)
    if event is None or event.consent is not Consent.GIVEN or member == helper or not event.may_know(helper.user):
        raise CircleError(_("There is no support for you to help with for {name} right now.", name=member.name))
    return helper, member, event


def _offer_help(circle: Circle, cmd: c.OfferHelp, ctx: Context, out: Out) -> Circle:
    helper, member, event = _supported(circle, ctx, cmd.member)
    if helper.user not in event.helpers:
        circle = _replanned(circle, replace(event, helpers=(*event.helpers, helper.user)), ctx.kit, ctx.now)
    out.reply(
        ctx.actor.user,
        cm.private(
            _(
                "Thank you. You will get an occasional private reminder about {name}, never more than one a week, "
                "each with one idea of something to do.",
                name=member.name,
            ),
            _(
                "{name} can see that you offered. To stop, type {command}.",
                name=member.name,
                command=cm.support_hint(circle, 'stop', f'@{member.user.id}'),
            ),
        ),
    )
    return circle


def _stop_helping(circle: Circle, cmd: c.StopHelping, ctx: Context, out: Out) -> Circle:
    helper = require_member(circle, ctx)
    member = find_member(circle, cmd.member)
    event = open_event(circle, member.user)
    if event is None or helper.user not in event.helpers:
        raise CircleError(_("You are not getting reminders about {name}.", name=member.name))
    helpers = tuple(user for user in event.helpers if user != helper.user)
    circle = _replanned(circle, replace(event, helpers=helpers), ctx.kit, ctx.now)
    out.reply(
        ctx.actor.user,
        cm.private(_("Done: no more reminders about {name}. Thank you for the care you gave.", name=member.name)),
    )
    return circle


# ---------------------------------------------------------------- the clock


def _why(step: turns.Step, opened: date, day: date, name: str) -> Text:
    """Why a reminder comes now, on the helper's calendar ``day`` (support opened on ``opened``)."""
    if step.shared is not None:
        when, label = cm.format_day(step.shared.on), step.shared.label
        if day < step.shared.on:
            return _(
                "Tomorrow, {day}, is a date {name} asked you to remember: \u201c{label}\u201d.",
                day=when,
                name=name,
                label=label,
            )
        return _(
            "Today, {day}, is a date {name} asked you to remember: \u201c{label}\u201d.",
            day=when,
            name=name,
            label=label,
        )
    years, rest = divmod(step.days, turns.DAYS_IN_YEAR)
    if rest or day != step.first:
        # A step that waited for a free helper says how long it has really been.
        return _("It is {days} days since support for {name} began.", days=(day - opened).days, name=name)
    if years == 1:
        return _("It is a year today since support for {name} began. Anniversaries can be hard.", name=name)
    return _("It is {years} years today since support for {name} began.", years=years, name=name)


def _send(circle: Circle, event: LifeEvent, kit: Kit, due: CareReminder, out: Out) -> Circle:
    """Record ``due`` as done, plan the next one, and write the helper's DM into ``out``."""
    member, helper = circle.member(event.user), circle.member(due.helper)
    assert member is not None and helper is not None  # turns.plan only picks members
    step = next(s for s in turns.steps(circle, event, kit) if s.name == due.step)
    suggestions = kit.support.suggestions
    idea = suggestions[len(event.reminders) % len(suggestions)]
    day = to_local(due.at, turns.tz_of(circle, helper)).date()
    why = _why(step, turns.opened_on(circle, event), day, member.name)
    out.dm(helper.user, cm.reminder(circle, event, member.name, why, idea), suffix=helper.user.key)
    return _replanned(circle, replace(event, reminders=(*event.reminders, due), planned=None), kit, due.at)


def remind(circle: Circle, kit: Kit, now: datetime, grace: timedelta) -> tuple[Circle, list[Effect], list[str]]:
    """Send every care reminder due at ``now``: event by event, each event's in time order.

    As with the timetable, a reminder more than ``grace`` late still counts as
    done and moves the turns on, but is not sent: its key is returned instead.

    Returns:
        The circle after, the DMs to send, and the keys of the reminders skipped.
    """
    effects: list[Effect] = []
    skipped: list[str] = []
    for event_id in [e.id for e in circle.life_events if e.planned]:
        while (event := next(e for e in circle.life_events if e.id == event_id)).planned and event.planned.at <= now:
            due = event.planned
            current = turns.plan(circle, event, kit, due.at)
            if current != due:
                # Planned before something changed (the helper left, went away or stopped): plan again.
                circle = _saved(circle, replace(event, planned=current))
                continue
            late = now - due.at > grace
            out = Out(circle.id, f"care:{event.id}:{due.step}")
            circle = _send(circle, event, kit, replace(due, sent=not late), out)
            if late:
                skipped.extend(e.key for e in out.effects)
            else:
                effects.extend(out.effects)
    return circle, effects, skipped


HANDLERS = {
    c.AboutSupport: _about,
    c.OpenSupport: _open,
    c.ProposeSupport: _propose,
    c.AnswerSupport: _answer,
    c.ShareSupportWith: _share_with,
    c.SetReach: _set_reach,
    c.NotNow: _not_now,
    c.ShareDate: _share_date,
    c.TellCircle: _tell_circle,
    c.EndSupport: _end,
    c.OfferHelp: _offer_help,
    c.StopHelping: _stop_helping,
}
