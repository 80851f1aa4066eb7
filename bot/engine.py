"""The circle engine: commands and clock ticks in, a new circle and effects out.

:func:`handle` runs one person's command against one circle, :func:`tick` moves
a circle along its timetable, and :func:`create_circle` forms a new one. All
three are pure: they take the current time as an argument and return a
:class:`Decision`. A command that cannot be carried out raises
:class:`~bot.errors.CircleError` and the caller keeps the circle as it was.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from bot import commands as c
from bot import messages as m
from bot.circle import (
    Actor,
    Anchor,
    Attendance,
    Circle,
    CheckIn,
    Commitment,
    Kind,
    Member,
    Occurrence,
    Role,
    Rsvp,
    UserRef,
)
from bot.effects import (
    DELIVERY_TYPES,
    AddToSpace,
    DirectMessage,
    Effect,
    Message,
    OpenForm,
    OpenSpace,
    PostToCircle,
    RemoveFromSpace,
    Reply,
    WakeAt,
)
from bot.errors import CircleError
from bot.grammar import PREFIX
from bot.i18n import Text, _, join
from bot.state import STATE_NAMES, Event, State, transition
from bot.timetable import after_quiet_hours, first_meeting_on, lay_out, meeting_at, meeting_on, parse_zone, to_local
from kits.schema import Kit

MIN_MEMBERS_TO_START = 2
MAX_NAME = 60
MAX_ANSWER = 2000


@dataclass(frozen=True)
class Decision:
    """The outcome of a command or a tick.

    Attributes:
        circle: the circle after the change (unchanged for read-only commands).
        effects: what to do, in order.
        skipped: keys of occurrences that came due too long ago to send.
    """

    circle: Circle
    effects: tuple[Effect, ...] = ()
    skipped: tuple[str, ...] = ()


@dataclass
class _Out:
    """Collects the effects of one decision and gives each delivery a unique key."""

    circle_id: str
    stem: str
    effects: list[Effect] = field(default_factory=list)

    def _key(self, suffix: str | None) -> str:
        return f"{self.circle_id}/{self.stem}/{suffix or len(self.effects)}"

    def post(self, message: Message) -> None:
        self.effects.append(PostToCircle(self._key(None), self.circle_id, message))

    def dm(self, to: UserRef, message: Message, suffix: str | None = None) -> None:
        self.effects.append(DirectMessage(self._key(suffix), self.circle_id, to, message))

    def reply(self, to: UserRef, message: Message) -> None:
        self.effects.append(Reply(to, message))

    def add(self, make: Callable[[str], Effect]) -> None:
        self.effects.append(make(self._key(None)))


# ---------------------------------------------------------------- forming


def slug(name: str) -> str:
    """A short circle id from its name: ``Tuesday Crew!`` -> ``tuesday-crew``."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:24].strip("-") or "circle"


def create_circle(
    command: c.NewCircle,
    actor: Actor,
    now: datetime,
    kits: Mapping[str, Kit],
    taken_ids: Iterable[str],
) -> Decision:
    """Form a new circle with ``actor`` as its moderator.

    Raises:
        CircleError: unknown kit or time zone, or an unusable name.
    """
    name = command.name.strip()
    if not name or len(name) > MAX_NAME:
        raise CircleError(_("A circle name needs 1 to {max} characters.", max=MAX_NAME))
    if command.kit not in kits:
        raise CircleError(
            _("Unknown kit \u201c{kit}\u201d. Choose one of: {choices}.", kit=command.kit, choices=join(sorted(kits)))
        )
    tz = parse_zone(command.tz)
    taken = set(taken_ids)
    base = slug(name)
    circle_id = next(candidate for n in range(1, len(taken) + 2) if (candidate := base if n == 1 else f"{base}-{n}") not in taken)
    kit = kits[command.kit]
    moderator = Member(actor.user, actor.name, Role.MODERATOR, now, actor.tz)
    circle = Circle(
        id=circle_id,
        platform=actor.user.platform,
        workspace=actor.user.workspace,
        name=name,
        kit_id=kit.id,
        tz=tz,
        slot=command.slot,
        created_at=now,
        capacity=command.capacity,
        members=(moderator,),
        revision=1,
    )
    out = _Out(circle_id, "r1")
    out.add(lambda key: OpenSpace(key, circle_id, name, (actor.user,)))
    out.post(
        m.plain(
            kit.summary,
            _("Meets {slot}. The kit has {weeks} meetings.", slot=m.slot_text(circle), weeks=kit.length),
            title=_("Welcome to \u201c{name}\u201d", name=name),
        )
    )
    out.reply(
        actor.user,
        m.plain(
            _("You moderate \u201c{name}\u201d (#{id}).", name=name, id=circle_id),
            _("Invite people with: {command}", command=f"{PREFIX} join {circle_id}"),
            _(
                "When {min} to {max} people have joined, begin with {command}.",
                min=MIN_MEMBERS_TO_START,
                max=command.capacity,
                command=f"{PREFIX} start",
            ),
            title=_("Circle formed"),
        ),
    )
    return Decision(circle, tuple(out.effects))


def list_message(circles: Iterable[Circle], actor: Actor, kits: Mapping[str, Kit]) -> Message:
    """The circles ``actor`` is in, and those still open to join."""
    mine, open_ = [], []
    for circle in circles:
        kit = kits.get(circle.kit_id)
        line = _(
            "#{id} \u2014 \u201c{name}\u201d, {kit}, {slot}, {state}, {count}/{capacity}",
            id=circle.id,
            name=circle.name,
            kit=kit.name if kit else circle.kit_id,
            slot=m.slot_text(circle),
            state=STATE_NAMES[circle.state],
            count=len(circle.members),
            capacity=circle.capacity,
        )
        if circle.member(actor.user):
            mine.append(line)
        elif circle.state in (State.FORMING, State.ACTIVE) and not circle.is_full:
            open_.append(line)
    lines = [_("Your circles:"), *(mine or [_("(none yet)")]), _("Open to join:"), *(open_ or [_("(none right now)")])]
    lines.append(_("Join with {join}, or form your own with {new}.", join=f"{PREFIX} join <circle>", new=f"{PREFIX} new"))
    return m.plain(*lines, title=_("Circles"))


# ---------------------------------------------------------------- commands


@dataclass(frozen=True)
class _Context:
    actor: Actor
    now: datetime
    kit: Kit


def _require_member(circle: Circle, ctx: _Context) -> Member:
    member = circle.member(ctx.actor.user)
    if member is None:
        raise CircleError(_("You are not a member of \u201c{name}\u201d.", name=circle.name))
    return member


def _require_moderator(circle: Circle, ctx: _Context) -> None:
    member = circle.member(ctx.actor.user)
    if not ctx.actor.is_admin and (member is None or member.role is not Role.MODERATOR):
        raise CircleError(_("Only the moderator of \u201c{name}\u201d can do that.", name=circle.name))


def _require_state(circle: Circle, states: tuple[State, ...], doing: Text) -> None:
    if circle.state not in states:
        raise CircleError(
            _("\u201c{name}\u201d is {state}, so you cannot {doing} now.", name=circle.name, state=STATE_NAMES[circle.state], doing=doing)
        )


def _find_member(circle: Circle, who: str) -> Member:
    wanted = who.strip().lstrip("<").rstrip(">").lstrip("@!").lower()
    for member in circle.members:
        if wanted in (member.user.id.lower(), member.name.lower()):
            return member
    raise CircleError(
        _(
            "No member \u201c{who}\u201d in \u201c{name}\u201d. Members: {members}.",
            who=who,
            name=circle.name,
            members=join([x.name for x in circle.members]),
        )
    )


def _meeting(circle: Circle, kit: Kit, week: int) -> datetime:
    assert circle.anchor is not None
    return meeting_at(circle.slot, circle.tz, meeting_on(kit, circle.anchor, week))


def _tune_up_meeting(circle: Circle, kit: Kit, number: int) -> datetime:
    """Tune-up ``number`` meets at the usual slot, ``weeks_after`` weeks after the last meeting."""
    assert circle.anchor is not None
    on = meeting_on(kit, circle.anchor, kit.length) + timedelta(weeks=kit.tune_ups.weeks_after[number - 1])
    return meeting_at(circle.slot, circle.tz, on)


def _next_week(circle: Circle, kit: Kit) -> int:
    """The first week whose meeting has not been held (``length + 1`` after the last)."""
    return next((w for w in range(1, kit.length + 1) if f"{Kind.CHECKIN.value}:{w}" not in circle.done), kit.length + 1)


def _replan(circle: Circle, kit: Kit, anchor: Anchor) -> Circle:
    return replace(circle, anchor=anchor, plan=lay_out(kit, circle.slot, circle.tz, anchor, circle.done))


def _reanchor(circle: Circle, kit: Kit, now: datetime) -> Circle:
    """Lay the rest of the run out from the next free slot.

    A week whose exercise is still to come starts no sooner than the exercise
    lead time from now, so its exercise is never sent late.
    """
    week = _next_week(circle, kit)
    if week > kit.length:
        return circle
    lead = timedelta(0) if f"{Kind.EXERCISE.value}:{week}" in circle.done else timedelta(hours=kit.timing.exercise_lead_hours)
    return _replan(circle, kit, Anchor(week, first_meeting_on(circle.slot, circle.tz, now + lead)))


def _join(circle: Circle, cmd: c.Join, ctx: _Context, out: _Out) -> Circle:
    if circle.member(ctx.actor.user):
        raise CircleError(_("You are already in \u201c{name}\u201d.", name=circle.name))
    _require_state(circle, (State.FORMING, State.ACTIVE), _("join"))
    if circle.is_full:
        raise CircleError(
            _("\u201c{name}\u201d is full ({capacity} people). Try {command} for others.", name=circle.name, capacity=circle.capacity, command=f"{PREFIX} list")
        )
    circle = circle.with_member(Member(ctx.actor.user, ctx.actor.name, Role.MEMBER, ctx.now, ctx.actor.tz))
    out.add(lambda key: AddToSpace(key, circle.id, ctx.actor.user))
    out.post(m.plain(_("{name} joined the circle. Welcome!", name=ctx.actor.name)))
    out.reply(
        ctx.actor.user,
        m.plain(
            _("You joined \u201c{name}\u201d. It meets {slot}.", name=circle.name, slot=m.slot_text(circle)),
            m.state_line(circle),
            _("What members write stays inside the circle."),
            title=_("Welcome"),
        ),
    )
    return circle


def _leave(circle: Circle, cmd: c.Leave, ctx: _Context, out: _Out) -> Circle:
    member = _require_member(circle, ctx)
    if member.role is Role.MODERATOR and len(circle.members) > 1:
        raise CircleError(
            _("You moderate \u201c{name}\u201d: hand the role on first with {command}.", name=circle.name, command=f"{PREFIX} moderator <member>")
        )
    circle = circle.without_member(member.user)
    out.add(lambda key: RemoveFromSpace(key, circle.id, member.user))
    out.reply(ctx.actor.user, m.plain(_("You left \u201c{name}\u201d. Take care.", name=circle.name)))
    if not circle.members:
        return replace(circle, state=transition(circle.state, Event.CLOSE), plan=())
    out.post(m.plain(_("{name} has left the circle.", name=member.name)))
    return circle


def _info(circle: Circle, cmd: c.Info, ctx: _Context, out: _Out) -> Circle:
    member = circle.member(ctx.actor.user)
    viewer_tz = ctx.actor.tz or (member.tz if member else None) or circle.tz
    if member or ctx.actor.is_admin:
        out.reply(ctx.actor.user, m.info_message(circle, ctx.kit, viewer_tz, _next_week(circle, ctx.kit)))
    else:
        # People outside the circle see what they need to decide to join, not who is in it.
        out.reply(
            ctx.actor.user,
            m.plain(
                _("Kit: {kit}. Meets {slot}.", kit=ctx.kit.name, slot=m.slot_text(circle)),
                _("{free} of {capacity} places free; {state}", free=circle.capacity - len(circle.members), capacity=circle.capacity, state=m.state_line(circle)),
                title=_("Circle \u201c{name}\u201d (#{id})", name=circle.name, id=circle.id),
            ),
        )
    return circle


def _next(circle: Circle, cmd: c.Next, ctx: _Context, out: _Out) -> Circle:
    member = _require_member(circle, ctx)
    viewer_tz = ctx.actor.tz or member.tz or circle.tz
    lines: list = [m.state_line(circle)]
    if circle.week:
        week = ctx.kit.week(circle.week)
        lines.append(_("This week: {title} \u2014 {goal}", title=week.title, goal=week.goal))
        lines.extend(_("\u2022 {title}", title=e.title) for e in week.exercises)
        done = circle.checkin(circle.week, member.user)
        lines.append(_("You have checked in this week.") if done else _("You have not checked in yet this week."))
    commitment = circle.commitment(circle.week, member.user) or circle.commitment(circle.week - 1, member.user)
    if commitment:
        lines.append(_("Your commitment: \u201c{text}\u201d", text=commitment.text))
    if circle.plan:
        lines.append(_("Next: {item}", item=m.occurrence_text(circle.plan[0], viewer_tz)))
    out.reply(ctx.actor.user, m.plain(*lines, title=_("What's next in \u201c{name}\u201d", name=circle.name)))
    return circle


def _start(circle: Circle, cmd: c.Start, ctx: _Context, out: _Out) -> Circle:
    state = transition(circle.state, Event.START)
    if len(circle.members) < MIN_MEMBERS_TO_START:
        raise CircleError(
            _("A circle needs at least {min} members to start; \u201c{name}\u201d has {count}.", min=MIN_MEMBERS_TO_START, name=circle.name, count=len(circle.members))
        )
    circle = _reanchor(replace(circle, state=state), ctx.kit, ctx.now)
    first = _meeting(circle, ctx.kit, 1)
    out.post(
        m.plain(
            _("The first meeting is {when}.", when=m.format_when(first, circle.tz)),
            _("Week 1's exercise arrives {hours} hours before it.", hours=ctx.kit.timing.exercise_lead_hours),
            title=_("\u201c{name}\u201d has started", name=circle.name),
        )
    )
    return circle


def _pause(circle: Circle, cmd: c.Pause, ctx: _Context, out: _Out) -> Circle:
    state = transition(circle.state, Event.PAUSE)
    plan: tuple[Occurrence, ...] = ()
    line = _("Nothing will be posted until the moderator resumes it with {command}.", command=f"{PREFIX} resume")
    if cmd.weeks:
        resume_at = ctx.now + timedelta(weeks=cmd.weeks)
        plan = (Occurrence(Kind.RESUME, circle.revision, resume_at),)
        line = _("It resumes on its own on {when}.", when=m.format_when(resume_at, circle.tz))
    out.post(m.plain(line, title=_("\u201c{name}\u201d is paused", name=circle.name)))
    return replace(circle, state=state, paused_from=circle.state, paused_at=ctx.now, plan=plan)


def _resumed(circle: Circle, kit: Kit, now: datetime, out: _Out) -> Circle:
    """Resume a paused circle: its remaining weeks move to the next free slot."""
    state = transition(circle.state, Event.RESUME, circle.paused_from)
    circle = replace(circle, state=state, paused_from=None, plan=())
    if _next_week(circle, kit) > kit.length and circle.anchor and circle.paused_at:
        # After the last meeting: graduation and tune-ups keep their rhythm, shifted by the pause.
        shift = -(-(now - circle.paused_at).days // 7) or 1
        circle = _replan(circle, kit, replace(circle.anchor, on=circle.anchor.on + timedelta(weeks=shift)))
    else:
        circle = _reanchor(circle, kit, now)
    circle = replace(circle, paused_at=None)
    upcoming = m.occurrence_text(circle.plan[0], circle.tz) if circle.plan else _("nothing scheduled")
    out.post(m.plain(_("Next: {item}", item=upcoming), title=_("\u201c{name}\u201d is back", name=circle.name)))
    return circle


def _resume(circle: Circle, cmd: c.Resume, ctx: _Context, out: _Out) -> Circle:
    return _resumed(circle, ctx.kit, ctx.now, out)


def _skip(circle: Circle, cmd: c.Skip, ctx: _Context, out: _Out) -> Circle:
    _require_state(circle, (State.ACTIVE,), _("skip a meeting"))
    week = _next_week(circle, ctx.kit)
    if week > ctx.kit.length or circle.anchor is None:
        raise CircleError(_("There is no meeting left to skip."))
    moved = meeting_on(ctx.kit, circle.anchor, week) + timedelta(weeks=ctx.kit.cadence.weeks)
    circle = _replan(circle, ctx.kit, Anchor(week, moved))
    out.post(
        m.plain(
            _("Week {week} now meets {when}; the weeks after it move back too.", week=week, when=m.format_when(_meeting(circle, ctx.kit, week), circle.tz)),
            title=_("Next meeting skipped"),
        )
    )
    return circle


def _reschedule(circle: Circle, cmd: c.Reschedule, ctx: _Context, out: _Out) -> Circle:
    _require_state(circle, (State.FORMING, State.ACTIVE, State.PAUSED, State.GRADUATED, State.FOLLOWING_UP), _("reschedule"))
    if cmd.slot == circle.slot:
        raise CircleError(_("The circle already meets {slot}.", slot=m.slot_text(circle)))
    circle = replace(circle, slot=cmd.slot)
    if circle.anchor is not None and _next_week(circle, ctx.kit) > ctx.kit.length:
        # After the last meeting the tune-ups keep their week and move to the new weekday.
        anchor = replace(circle.anchor, on=circle.anchor.on + timedelta(days=(cmd.slot.weekday - circle.anchor.on.weekday()) % 7))
        circle = replace(circle, anchor=anchor)
        if circle.state is not State.PAUSED:
            circle = _replan(circle, ctx.kit, anchor)
    elif circle.state is State.ACTIVE:
        circle = _reanchor(circle, ctx.kit, ctx.now)
    out.post(m.plain(_("The circle now meets {slot}.", slot=m.slot_text(circle)), title=_("New meeting time")))
    return circle


def _remove(circle: Circle, cmd: c.Remove, ctx: _Context, out: _Out) -> Circle:
    member = _find_member(circle, cmd.member)
    if member.role is Role.MODERATOR:
        raise CircleError(_("The moderator cannot be removed; hand the role on first."))
    circle = circle.without_member(member.user)
    out.add(lambda key: RemoveFromSpace(key, circle.id, member.user))
    out.dm(member.user, m.plain(_("You are no longer a member of \u201c{name}\u201d. Thank you for the time you gave it.", name=circle.name)))
    out.post(m.plain(_("{name} is no longer in the circle.", name=member.name)))
    return circle


def _hand_over(circle: Circle, cmd: c.HandOver, ctx: _Context, out: _Out) -> Circle:
    member = _find_member(circle, cmd.member)
    if member.role is Role.MODERATOR:
        raise CircleError(_("{name} already moderates this circle.", name=member.name))
    members = tuple(
        replace(x, role=Role.MODERATOR if x.user == member.user else Role.MEMBER) for x in circle.members
    )
    out.post(m.plain(_("{name} is now the moderator. Thank you, {old}!", name=member.name, old=ctx.actor.name)))
    return replace(circle, members=members)


def _close(circle: Circle, cmd: c.Close, ctx: _Context, out: _Out) -> Circle:
    state = transition(circle.state, Event.CLOSE)
    out.post(m.plain(_("The moderator has closed the circle. Thank you all."), title=_("\u201c{name}\u201d is closed", name=circle.name)))
    return replace(circle, state=state, plan=())


def _checkin(circle: Circle, cmd: c.CheckInCommand, ctx: _Context, out: _Out) -> Circle:
    member = _require_member(circle, ctx)
    _require_state(circle, (State.ACTIVE,), _("check in"))
    if not circle.week:
        raise CircleError(_("Check-ins open when week 1's exercise is posted."))
    questions = ctx.kit.week(circle.week).checkin_questions
    if not cmd.answers:
        title, fields = m.checkin_form(circle, ctx.kit, circle.week)
        out.effects.append(OpenForm(member.user, circle.id, title, fields, "checkin", intro=m.SEEN_BY_CIRCLE))
        return circle
    if len(cmd.answers) > len(questions) or any(len(a) > MAX_ANSWER for a in cmd.answers):
        raise CircleError(
            _("This week has {count} questions; separate your answers with \u201c|\u201d, at most {max} characters each.", count=len(questions), max=MAX_ANSWER)
        )
    answers = tuple(cmd.answers) + ("",) * (len(questions) - len(cmd.answers))
    again = circle.checkin(circle.week, member.user) is not None
    entry = CheckIn(circle.week, member.user, answers, ctx.now)
    circle = replace(circle, checkins=(*(x for x in circle.checkins if (x.week, x.user) != (entry.week, entry.user)), entry))
    # The last question of each week asks what the member will do next: that answer is their commitment.
    if answers[-1]:
        circle = _record_commitment(circle, member.user, answers[-1], ctx.now)
    lines = [_("{n}. {question} \u2014 {answer}", n=n, question=q, answer=a or "\u2014") for n, (q, a) in enumerate(zip(questions, answers), start=1)]
    heading = _("{name} updated their week {week} check-in", name=member.name, week=circle.week) if again else _("{name} checked in for week {week}", name=member.name, week=circle.week)
    out.post(m.plain(*lines, title=heading))
    out.reply(ctx.actor.user, m.plain(_("Thank you \u2014 your check-in is saved and shared with your circle.")))
    return circle


def _attend(circle: Circle, cmd: c.Attend, ctx: _Context, out: _Out) -> Circle:
    member = _require_member(circle, ctx)
    _require_state(circle, (State.ACTIVE,), _("answer for a meeting"))
    week = _next_week(circle, ctx.kit)
    if week > ctx.kit.length:
        raise CircleError(_("There is no meeting left to answer for."))
    rsvp = Rsvp.GOING if cmd.going else Rsvp.NOT_GOING
    if circle.rsvp(week, member.user) is rsvp:
        out.reply(ctx.actor.user, m.plain(_("Already noted, thank you.")))
        return circle
    entry = Attendance(week, member.user, rsvp, ctx.now)
    kept = tuple(a for a in circle.attendance if (a.week, a.user) != (week, member.user))
    circle = replace(circle, attendance=(*kept, entry))
    when = m.format_when(_meeting(circle, ctx.kit, week), member.tz or circle.tz)
    if cmd.going:
        out.reply(ctx.actor.user, m.plain(_("See you at week {week}'s meeting, {when}.", week=week, when=when)))
    else:
        out.post(m.plain(_("{name} can't make it to week {week}'s meeting.", name=member.name, week=week)))
        out.reply(ctx.actor.user, m.plain(_("Thanks for letting the circle know. The check-in stays open for you.")))
    return circle


def _away(circle: Circle, cmd: c.Away, ctx: _Context, out: _Out) -> Circle:
    member = _require_member(circle, ctx)
    today = to_local(ctx.now, member.tz or circle.tz).date()
    if cmd.until is not None and cmd.until < today:
        raise CircleError(_("That date has passed; give a date from today on, e.g. {example}.", example=today.isoformat()))
    circle = circle.with_member(replace(member, away_until=cmd.until))
    if cmd.until is None:
        out.reply(ctx.actor.user, m.plain(_("Welcome back. Reminders and DMs are on again.")))
    else:
        out.reply(
            ctx.actor.user,
            m.plain(_("Noted: no DMs from this circle until {date} (inclusive). Posts in the circle go on.", date=cmd.until.isoformat())),
        )
    return circle


def _record_commitment(circle: Circle, user: UserRef, text: str, now: datetime) -> Circle:
    entry = Commitment(circle.week, user, text, now)
    kept = tuple(x for x in circle.commitments if (x.week, x.user) != (entry.week, entry.user))
    return replace(circle, commitments=(*kept, entry))


def _commit(circle: Circle, cmd: c.Commit, ctx: _Context, out: _Out) -> Circle:
    member = _require_member(circle, ctx)
    _require_state(circle, (State.ACTIVE,), _("make a commitment"))
    if not circle.week:
        raise CircleError(_("Commitments open when week 1's exercise is posted."))
    if len(cmd.text) > MAX_ANSWER:
        raise CircleError(_("Please keep a commitment under {max} characters.", max=MAX_ANSWER))
    circle = _record_commitment(circle, member.user, cmd.text, ctx.now)
    out.reply(
        ctx.actor.user,
        m.plain(_("Noted: \u201c{text}\u201d. I will ask you how it went at the next check-in.", text=cmd.text), m.SEEN_BY_CIRCLE),
    )
    return circle


HANDLERS: dict[type, Callable[[Circle, c.CircleCommand, _Context, _Out], Circle]] = {
    c.Join: _join,
    c.Leave: _leave,
    c.Info: _info,
    c.Next: _next,
    c.Start: _start,
    c.Pause: _pause,
    c.Resume: _resume,
    c.Skip: _skip,
    c.Reschedule: _reschedule,
    c.Remove: _remove,
    c.HandOver: _hand_over,
    c.Close: _close,
    c.CheckInCommand: _checkin,
    c.Away: _away,
    c.Attend: _attend,
    c.Commit: _commit,
}


def _quiet(circle: Circle, effect: Effect, now: datetime) -> Effect:
    """Hold a DM back until the end of its recipient's quiet hours, in their own zone."""
    if not isinstance(effect, DirectMessage):
        return effect
    member = circle.member(effect.to)
    tz = (member.tz if member else None) or circle.tz
    return replace(effect, not_before=after_quiet_hours(now, tz))


def _finish(before: Circle, after: Circle, out: _Out, now: datetime, skipped: tuple[str, ...] = ()) -> Decision:
    effects = [_quiet(after, effect, now) for effect in out.effects]
    # Delivery keys carry the revision, so any decision that queues one takes a new revision.
    if after == before and not any(isinstance(e, DELIVERY_TYPES) for e in effects):
        return Decision(before, tuple(effects), skipped)
    if after.plan != before.plan:
        effects.append(WakeAt(after.id, after.next_wake))
    return Decision(replace(after, revision=before.revision + 1), tuple(effects), skipped)


def handle(circle: Circle, command: c.CircleCommand, actor: Actor, now: datetime, kit: Kit) -> Decision:
    """Run ``command`` from ``actor`` against ``circle``.

    Raises:
        CircleError: not allowed (permissions, state, bad values); nothing changed.
    """
    if isinstance(command, c.ModeratorCommand):
        _require_moderator(circle, _Context(actor, now, kit))
    out = _Out(circle.id, f"r{circle.revision + 1}")
    after = HANDLERS[type(command)](circle, command, _Context(actor, now, kit), out)
    return _finish(circle, after, out, now)


# ---------------------------------------------------------------- the clock


def _fire(circle: Circle, kit: Kit, occurrence: Occurrence, out: _Out) -> Circle:
    """Carry out one timetable step; its deliveries are keyed by the step."""
    kind, number = occurrence.kind, occurrence.number
    today = to_local(occurrence.at, circle.tz).date()
    reachable = [member for member in circle.members if not member.away_on(today)]
    if kind is Kind.EXERCISE:
        circle = replace(circle, week=number)
        out.post(m.exercise_post(circle, kit, number, _meeting(circle, kit, number)))
        moderator = circle.moderator
        if moderator and moderator in reachable:
            out.dm(moderator.user, m.moderator_notes(kit, number), suffix="moderator")
    elif kind is Kind.REMINDER:
        out.post(m.reminder_post(circle, kit, number, _meeting(circle, kit, number)))
    elif kind is Kind.CHECKIN:
        out.post(m.checkin_post(kit, number))
        for member in reachable:
            commitment = circle.commitment(number - 1, member.user)
            if commitment:
                out.dm(member.user, m.continuity_dm(circle, commitment), suffix=member.user.key)
    elif kind is Kind.GRADUATION:
        circle = replace(circle, state=transition(circle.state, Event.GRADUATE))
        out.post(m.graduation_post(circle, kit))
    elif kind is Kind.TUNE_UP:
        circle = replace(circle, state=transition(circle.state, Event.TUNE_UP))
        last = number == len(kit.tune_ups.weeks_after)
        out.post(m.tune_up_post(circle, kit, number, _tune_up_meeting(circle, kit, number), last))
        if last:
            circle = replace(circle, state=transition(circle.state, Event.CLOSE))
    elif kind is Kind.RESUME:
        circle = _resumed(circle, kit, occurrence.at, out)
    return circle


def tick(circle: Circle, kit: Kit, now: datetime, grace: timedelta) -> Decision:
    """Carry out every occurrence due at ``now``, oldest first.

    An occurrence more than ``grace`` late (the process was down) still moves
    the circle along — its week, graduation — but sends nothing: its key is
    returned in ``skipped`` instead, so members never get a burst of stale posts.
    """
    before, effects, skipped = circle, [], []
    while circle.plan and circle.plan[0].at <= now:
        occurrence = circle.plan[0]
        circle = replace(circle, plan=circle.plan[1:], done=circle.done | {occurrence.key})
        out = _Out(circle.id, occurrence.key)
        circle = _fire(circle, kit, occurrence, out)
        if now - occurrence.at > grace:
            skipped.append(f"{circle.id}/{occurrence.key}")
        else:
            effects.extend(out.effects)
    out = _Out(circle.id, "tick", effects)
    return _finish(before, circle, out, now, tuple(skipped))
