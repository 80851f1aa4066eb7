"""The messages the core sends, built from the kit and the catalog.

Each function returns a :class:`~bot.effects.Message`; none decides anything.
"""

from __future__ import annotations

from datetime import datetime

from bot.circle import Circle, Commitment, Member, Occurrence, Role, Rsvp, Story
from bot.actions import Action, Verb
from bot.effects import Button, FormField, Message
from bot.grammar import PREFIX, SUBCOMMANDS
from bot.i18n import Text, Weekday, _, hint, join, join_and
from bot.state import STATE_NAMES, State
from bot.timetable import format_day, format_when, to_local
from kits.schema import Kit

SEEN_BY_CIRCLE = _("Only the members of this circle see your answers.")
SEEN_BY_YOU = _("Only you see this.")

KIND_NAMES = {
    "exercise": _("week {n} exercise"),
    "reminder": _("week {n} meeting reminder"),
    "checkin": _("week {n} check-in"),
    "graduation": _("graduation"),
    "tune_up": _("tune-up {n}"),
    "resume": _("the circle resumes"),
}

SEEN_BY_MODERATOR = _("Only your moderator sees this.")
SEEN_BY_YOU_THEN_MODERATOR = _(
    "Only you see this draft. When you confirm, your moderator reads it and decides; you can withdraw it until it is posted."
)
SEEN_BY_YOU_ANSWER_TO_CIRCLE = _("Only you see this message; if you answer with a button, your circle sees the answer.")
#: Every prompt that asks for an answer carries one of these, saying who will see the answer.
PRIVACY_LINES = (SEEN_BY_CIRCLE, SEEN_BY_YOU, SEEN_BY_MODERATOR, SEEN_BY_YOU_THEN_MODERATOR, SEEN_BY_YOU_ANSWER_TO_CIRCLE)
#: Said wherever the "I'm struggling" button is offered: it goes to the moderator, not the circle.
STRUGGLING_GOES_TO_MODERATOR = _("\u201cI'm struggling\u201d tells only your moderator.")
NOT_A_CRISIS_SERVICE = _(
    "Circlebot and your circle are not a crisis service. "
    "If you or someone else is in immediate danger, call your local emergency number now."
)


def checkin_button(circle: Circle, week: int) -> Button:
    return Button(_("Check in"), Action(Verb.CHECKIN, circle.id, week))


def struggling_button(circle: Circle) -> Button:
    return Button(_("I'm struggling"), Action(Verb.STRUGGLING, circle.id))


def rsvp_buttons(circle: Circle, week: int) -> tuple[Button, Button]:
    """For the meeting of ``week`` (0: whichever meeting is next)."""
    return (
        Button(_("I'll be there"), Action(Verb.RSVP_YES, circle.id, week)),
        Button(_("Can't make it"), Action(Verb.RSVP_NO, circle.id, week)),
    )

RSVP_NAMES = {Rsvp.GOING: _(" — will be there"), Rsvp.NOT_GOING: _(" — can't make it")}


def help_message() -> Message:
    lines: list[Text | str] = []
    for sub in SUBCOMMANDS.values():
        marker = _(" (moderator)") if sub.moderator_only else ""
        lines.append(_("{usage} \u2014 {summary}{marker}", usage=f"{PREFIX} {sub.usage}", summary=sub.summary, marker=marker))
    return Message(tuple(lines), title=_("Circlebot commands"))


def slot_text(circle: Circle) -> Text:
    return _(
        "{day}s at {time} ({tz})",
        day=Weekday(circle.slot.weekday),
        time=circle.slot.at.strftime("%H:%M"),
        tz=circle.tz,
    )


def slot_for(circle: Circle, reader_tz: str, upcoming: datetime | None) -> Text:
    """The slot in the circle's zone and, for a reader in another zone, the ``upcoming`` meeting in theirs.

    A weekly slot is a rule of the circle's zone (across clock changes it has no
    fixed hour elsewhere), so a reader elsewhere gets a real moment in their own zone.
    """
    if reader_tz == circle.tz or upcoming is None:
        return slot_text(circle)
    return _(
        "{slot}; in your time zone the next one is {when}",
        slot=slot_text(circle),
        when=format_when(upcoming, reader_tz),
    )


def occurrence_text(occurrence: Occurrence, tz: str) -> Text:
    return _(
        "{what}: {when}",
        what=_(KIND_NAMES[occurrence.kind.value].msgid, n=occurrence.number),
        when=format_when(occurrence.at, tz),
    )


def place_lines(circle: Circle) -> tuple[Text, ...]:
    """Where the circle meets, as one line, or none when no place is set."""
    return (_("Where: {place}", place=circle.place),) if circle.place else ()
ROLE_NAMES = {Role.MODERATOR: _(" (moderator)"), Role.COMODERATOR: _(" (co-moderator)")}


def member_line(member: Member, rsvp: Rsvp | None = None) -> Text:
    role = ROLE_NAMES.get(member.role, "")
    answer = RSVP_NAMES[rsvp] if rsvp else ""
    return _("\u2022 {name}{role}{rsvp}", name=member.name, role=role, rsvp=answer)


def run_text(circle: Circle, kit: Kit) -> Text:
    """How far through the kit's meetings the circle is."""
    if circle.week:
        return _("week {week} of {total}", week=circle.week, total=kit.length)
    if circle.state in (State.ACTIVE, State.PAUSED):
        # Started, but week 1's exercise is not out yet.
        return _("week 1 of {total} comes next", total=kit.length)
    return _("{total} meetings", total=kit.length)


def info_message(
    circle: Circle, kit: Kit, viewer_tz: str, next_week: int, next_meeting: datetime | None, upcoming: int = 4
) -> Message:
    lines: list[Text | str] = [
        _("Kit: {kit} \u2014 {week}", kit=kit.name, week=run_text(circle, kit)),
        _("State: {state}", state=STATE_NAMES[circle.state]),
        _("Meets {slot}", slot=slot_for(circle, viewer_tz, next_meeting)),
        *place_lines(circle),
        _("Members ({count} of {capacity}):", count=len(circle.members), capacity=circle.capacity),
        *(member_line(m, circle.rsvp(next_week, m.user)) for m in circle.members),
    ]
    if circle.plan:
        lines.append(_("Coming up (times in {tz}):", tz=viewer_tz))
        lines.extend(_("\u2022 {item}", item=occurrence_text(o, viewer_tz)) for o in circle.plan[:upcoming])
    return Message(tuple(lines), title=_("Circle \u201c{name}\u201d (#{id})", name=circle.name, id=circle.handle))


def exercise_post(circle: Circle, kit: Kit, week: int, meeting: datetime) -> Message:
    content = kit.week(week)
    lines: list[Text | str] = [
        _("Goal: {goal}", goal=content.goal),
        _("Meeting: {when}", when=format_when(meeting, circle.tz)),
        *place_lines(circle),
    ]
    for number, exercise in enumerate(content.exercises, start=1):
        minutes = _(" ({minutes} min)", minutes=exercise.minutes) if exercise.minutes else ""
        lines.append(_("Exercise {n}: {title}{minutes}", n=number, title=exercise.title, minutes=minutes))
        lines.append(exercise.prompt)
    lines.append(_("When you are ready, check in with {command}. {privacy}", command=hint("checkin"), privacy=SEEN_BY_CIRCLE))
    answers = [a.rsvp for a in circle.attendance if a.week == week]
    if answers:
        lines.append(
            _(
                "{coming} coming, {away} can't make it",
                coming=answers.count(Rsvp.GOING),
                away=answers.count(Rsvp.NOT_GOING),
            )
        )
    return Message(
        tuple(lines),
        title=_("Week {week} of {total}: {title}", week=week, total=kit.length, title=content.title),
        buttons=(checkin_button(circle, week), *rsvp_buttons(circle, week)),
    )


def moderator_notes(kit: Kit, week: int) -> Message:
    content = kit.week(week)
    agenda = [_("\u2022 {item}", item=item) for item in content.agenda]
    return Message(
        (content.moderator_notes, _("Agenda:"), *agenda, SEEN_BY_YOU),
        title=_("Moderator notes for week {week}: {title}", week=week, title=content.title),
    )


def reminder_post(circle: Circle, kit: Kit, week: int, meeting: datetime) -> Message:
    agenda = [_("\u2022 {item}", item=item) for item in kit.week(week).agenda]
    return Message(
        (
            _("The circle meets at {when}.", when=format_when(meeting, circle.tz)),
            *place_lines(circle),
            _("Agenda:"),
            *agenda,
            SEEN_BY_CIRCLE,
        ),
        title=_("Meeting soon: week {week}", week=week),
        buttons=rsvp_buttons(circle, week),
    )


def checkin_post(circle: Circle, kit: Kit, week: int) -> Message:
    questions = [_("{n}. {question}", n=n, question=q) for n, q in enumerate(kit.week(week).checkin_questions, start=1)]
    return Message(
        (
            *questions,
            _("Answer with the button, or in one line: {example}", example=hint("checkin", "<answer 1> | <answer 2> | ...")),
            SEEN_BY_CIRCLE,
            STRUGGLING_GOES_TO_MODERATOR,
        ),
        title=_("Week {week} check-in", week=week),
        buttons=(checkin_button(circle, week), struggling_button(circle)),
    )


def continuity_dm(circle: Circle, commitment: Commitment) -> Message:
    return Message(
        (
            _("Last time you committed to: \u201c{text}\u201d. How did it go?", text=commitment.text),
            _("Tell the circle in this week's check-in. {privacy}", privacy=SEEN_BY_CIRCLE),
        ),
        title=_("{circle}: your commitment", circle=circle.name),
        # The check-in this DM comes with is the week after the commitment's.
        buttons=(checkin_button(circle, commitment.week + 1),),
    )


def checkin_form(circle: Circle, kit: Kit, week: int) -> tuple[Text, tuple[FormField, ...]]:
    fields = tuple(
        FormField(name=f"q{n}", label=question)
        for n, question in enumerate(kit.week(week).checkin_questions, start=1)
    )
    return _("Week {week} check-in \u2014 {circle}", week=week, circle=circle.name), fields


def graduation_post(circle: Circle, kit: Kit, tune_ups: list[datetime]) -> Message:
    """The graduation post; ``tune_ups`` are the tune-up meetings to come."""
    lines: list[Text | str] = [kit.graduation.closing_words, _("Reflect together:")]
    lines.extend(_("\u2022 {prompt}", prompt=p) for p in kit.graduation.reflection_prompts)
    for member in circle.members:
        kept = [c.text for c in circle.commitments if c.user == member.user]
        journey = join(kept, "; ") if kept else _("(no commitments recorded)")
        lines.append(_("{name}'s journey: {journey}", name=member.name, journey=journey))
    lines.append(
        _(
            "Tune-ups will gather the circle again {weeks} weeks after the last meeting: {dates}, at {time} ({tz}).",
            weeks=join_and([str(w) for w in kit.tune_ups.weeks_after]),
            dates=join_and([format_day(to_local(t, circle.tz).date()) for t in tune_ups]),
            time=circle.slot.at.strftime("%H:%M"),
            tz=circle.tz,
        )
    )
    return Message(tuple(lines), title=_("Graduation: {circle}", circle=circle.name))


def tune_up_post(circle: Circle, kit: Kit, number: int, meeting: datetime, last: bool) -> Message:
    lines: list[Text | str] = [
        _("Meet at your usual time: {when}.", when=format_when(meeting, circle.tz)),
        *(_("\u2022 {prompt}", prompt=p) for p in kit.tune_ups.prompts),
    ]
    if last:
        lines.append(
            _(
                "This is the last tune-up; the circle closes after it. To go again together, the moderator can "
                "type {again}; to meet new people, join or form another circle with {list}.",
                again=hint("again"),
                list=hint("list"),
            )
        )
    return Message(tuple(lines), title=_("Tune-up {n}: {circle}", n=number, circle=circle.name))


def journal_message(circle: Circle, kit: Kit, member: Member) -> Message:
    lines: list[Text | str] = []
    for week in range(1, circle.week + 1):
        lines.append(_("Week {week}: {title}", week=week, title=kit.week(week).title))
        commitment = circle.commitment(week, member.user)
        if commitment:
            lines.append(_("  You committed to: \u201c{text}\u201d", text=commitment.text))
        checkin = circle.checkin(week, member.user)
        if checkin:
            answers = join([a for a in checkin.answers if a], "; ")
            lines.append(_("  Your check-in: {answers}", answers=answers))
        if not commitment and not checkin:
            lines.append(_("  (nothing recorded)"))
    if not lines:
        lines.append(_("Nothing yet: your journal starts with week 1's exercise."))
    lines.append(SEEN_BY_YOU)
    return Message(tuple(lines), title=_("Your journal in \u201c{circle}\u201d", circle=circle.name))


def red_flag_dm(circle: Circle, member: Member, note: str) -> Message:
    lines: list[Text | str] = [
        _("{name} says this week is hard for them.", name=member.name),
    ]
    if note:
        lines.append(_("Their note: \u201c{note}\u201d", note=note))
    lines += [
        _("A short private message today helps: ask how they are and offer to talk. Keep it out of the circle unless they say otherwise."),
        SEEN_BY_YOU,
    ]
    return Message(tuple(lines), title=_("{circle}: someone is struggling", circle=circle.name))


def support_resources(kit: Kit, moderator: Member | None) -> Message:
    told = (
        _("Your moderator, {name}, has been told privately; nobody else has.", name=moderator.name)
        if moderator
        else _("Nobody else has been told.")
    )
    return Message(
        (_("Thank you for saying so."), told, NOT_A_CRISIS_SERVICE, *kit.support.resources),
        title=_("You are not alone in this"),
    )


def digest_dm(circle: Circle, week: int, missed_two: list[Member], not_checked_in: list[Member]) -> Message:
    lines: list[Text | str] = []
    if missed_two:
        lines.append(_("Missed the last two meetings: {names}.", names=join([x.name for x in missed_two])))
        lines.append(
            _(
                "A kind word, in your own voice: \u201cWe missed you \u2014 no need to explain. "
                "The circle is better with you in it; hope to see you next time.\u201d "
                "They have had one gentle reminder from me, and will get no more for a while."
            )
        )
    if not_checked_in:
        lines.append(_("No check-in yet for week {week}: {names}.", week=week, names=join([x.name for x in not_checked_in])))
    lines.append(SEEN_BY_YOU)
    return Message(tuple(lines), title=_("{circle}: this week's digest", circle=circle.name))


def nudge_dm(circle: Circle, next_meeting: str) -> Message:
    return Message(
        (
            _("We have missed you at the last two meetings of \u201c{circle}\u201d. No need to explain.", circle=circle.name),
            _("The next one is {when}; come as you are, even without the exercise done.", when=next_meeting),
            _("If now is not a good time, {away} pauses my messages, or {struggling} tells your moderator privately.", away=hint("away", "<YYYY-MM-DD>", circle=circle.handle), struggling=hint("struggling", circle=circle.handle)),
            SEEN_BY_YOU_ANSWER_TO_CIRCLE,
        ),
        title=_("We missed you"),
        buttons=rsvp_buttons(circle, 0),
    )


def invite_again(old: Circle, new: Circle, kit: Kit, reader_tz: str, first_slot: datetime) -> Message:
    return Message(
        (
            _(
                "\u201c{name}\u201d is going again: {kit}, {slot}.",
                name=old.name,
                kit=kit.name,
                slot=slot_for(new, reader_tz, first_slot),
            ),
            _("Would you like to be part of the new run? Say yes with {command}; no answer needed otherwise.", command=hint("join", new.handle)),
            SEEN_BY_YOU,
        ),
        title=_("An invitation to go again"),
        buttons=(Button(_("Join the new run"), Action(Verb.JOIN, new.id)),),
    )


def community_post(story: Story, author: str) -> Message:
    """A story exactly as the workspace's community channel will show it."""
    credit = _("\u2014 {name}", name=author) if story.named else _("\u2014 shared anonymously by a circle member")
    return Message((story.text, credit), title=_("A story from a peer-support circle"))


def _quoted(post: Message) -> list[Text]:
    """A post's title and lines, marked as a quotation inside another message."""
    return [_("\u250a {line}", line=line) for line in (post.title, *post.lines)]


def story_preview(circle: Circle, story: Story, post: Message) -> Message:
    return Message(
        (
            _("If you confirm and your moderator approves, this is exactly what will be posted in the workspace's community channel, for everyone there to read:"),
            *_quoted(post),
            SEEN_BY_YOU_THEN_MODERATOR,
            _("To be named, share it again starting with {flag}; to stay anonymous, leave it as it is.", flag="--named")
            if not story.named
            else _("You asked to be named; to stay anonymous, withdraw it and share it again without {flag}.", flag="--named"),
        ),
        title=_("Your story {number}, before it leaves the circle", number=story.number),
        buttons=(
            Button(_("Send to my moderator"), Action(Verb.STORY_CONFIRM, circle.id, item=str(story.number))),
            Button(_("Withdraw"), Action(Verb.STORY_WITHDRAW, circle.id, item=str(story.number))),
        ),
    )


def story_for_moderator(circle: Circle, story: Story, author: str, post: Message) -> Message:
    return Message(
        (
            _("{name} would like this story posted in the workspace's community channel:", name=author),
            *_quoted(post),
            _("Nothing is posted unless you approve. If you decline, only {name} is told.", name=author),
            SEEN_BY_YOU,
        ),
        title=_("{circle}: story {number} to share beyond the circle?", circle=circle.name, number=story.number),
        buttons=(
            Button(_("Approve and post"), Action(Verb.STORY_APPROVE, circle.id, item=str(story.number))),
            Button(_("Decline"), Action(Verb.STORY_DECLINE, circle.id, item=str(story.number))),
        ),
    )


def plain(*lines: Text | str, title: Text | None = None) -> Message:
    return Message(tuple(lines), title=title)


def unavailable_message() -> Message:
    """What a person reads when their command could not be carried out for a fault of ours (the database)."""
    return plain(_("Circlebot could not reach its database, so nothing was changed. Please try again in a moment."),
                 title=_("Sorry"))


def state_line(circle: Circle) -> Text:
    if circle.state is State.ACTIVE and circle.week:
        return _("The circle is in week {week}.", week=circle.week)
    return _("The circle is {state}.", state=STATE_NAMES[circle.state])
