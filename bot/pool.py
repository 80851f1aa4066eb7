"""The pool of people asking to be matched: what they are told, and the circle a matched group becomes.

Pure, like the rest of the core: storage keeps the pool (``signups``), the
algorithm is :mod:`bot.matching`, and this module turns its outcome into
decisions and messages. A matched group becomes a forming circle through the
same path as ``new`` (:func:`bot.forming.create_circle`), its volunteer as the
moderator, who starts it as usual.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta

from bot import commands as c
from bot import messages as m
from bot.circle import Actor, Member, Role, Slot
from bot.decision import Decision, Out, quiet_hours
from bot.effects import DirectMessage, Message, Reply
from bot.errors import CircleError
from bot.forming import MAX_NAME, create_circle
from bot.i18n import Text, Weekday, _, hint
from bot.people import LANGUAGES
from bot.matching import REASONS, Group, Reason, Result, Signup, hours_text, next_moment
from bot.timetable import after_quiet_hours, to_local
from kits.schema import Kit

#: The title of someone's sign-up: just signed up, changed, or shown.
SIGNED_UP, UPDATED, SHOWN = _("You are in the pool"), _("Your sign-up is updated"), _("Your sign-up")
#: Refusals of pool commands.
ADMINS_ONLY = _("Only a workspace admin can match the pool.")


def which_zone(kit: str) -> Text:
    return _("Which time zone are your hours in? Add it, e.g. {example}.",
             example=hint("signup", kit, "tue 17-20", "tz", "Europe/London"))


#: How the reasons read in the admin's summary.
REASON_NAMES = {
    Reason.TOO_FEW: _("too few for their kit and language"),
    Reason.NO_SLOT: _("no hour shared with three others"),
    Reason.NO_MODERATOR: _("no moderator volunteer at their hours"),
    Reason.MET_BEFORE: _("only people they met in a circle before"),
}


def pool_id(platform: str, workspace: str) -> str:
    """The outbox's circle id for a workspace's pool: DMs to people who are in no circle yet."""
    return "pool-" + hashlib.sha256(f"{platform}\n{workspace}".encode()).hexdigest()[:27]


def signup_message(signup: Signup, kit: Kit, title: Text) -> Message:
    """What someone in the pool signed up for, and what happens next."""
    return m.plain(
        _("Kit: {kit}", kit=kit.name),
        _("Hours you can meet: {hours} ({tz})", hours=hours_text(signup.hours), tz=signup.tz),
        _("Language: {language}", language=LANGUAGES.get(signup.language, signup.language)),
        _("You would rather meet strangers.") if signup.strangers else _("You would rather meet people you know."),
        _("You volunteer to moderate.") if signup.moderate else _("You do not volunteer to moderate."),
        _(
            "When a circle can be formed with you, you get a message here. Change this with {signup}; "
            "leave the pool with {cancel}.",
            signup=hint("signup", "<kit>", "<hours>"),
            cancel=hint("signup", "cancel"),
        ),
        title=title,
    )


def not_signed_up() -> Message:
    return m.plain(
        _(
            "You have not asked to be matched. Sign up with the kit and the hours you can meet, in your own time "
            "zone, e.g. {example}.",
            example=hint("signup", "starter", "tue 17-20, thu 18-21", "moderate", "yes"),
        ),
        title=_("Not in the pool"),
    )


def left_pool() -> Message:
    return m.plain(
        _("You have left the pool; nobody will match you. Sign up again any time with {command}.",
          command=hint("signup", "<kit>", "<hours>")),
        title=_("You left the pool"),
    )


def require_kit(kit_id: str, kits: Mapping[str, Kit]) -> Kit:
    if kit_id not in kits:
        raise CircleError(
            _("Unknown kit \u201c{kit}\u201d. Choose one of: {choices}.", kit=kit_id, choices=", ".join(sorted(kits)))
        )
    return kits[kit_id]


def _local(at: datetime, tz: str) -> tuple[Weekday, str]:
    local = to_local(at, tz)
    return Weekday(local.weekday()), local.strftime("%H:%M")


def matched_message(group: Group, signup: Signup, handle: str) -> Message:
    """Why and with whom ``signup`` was matched, the shared hour in their own zone."""
    day, time = _local(group.at, signup.tz)
    lines: list[Text | str] = [
        _(
            "Matched on {day} {time} ({tz}), your time: {strangers} of the {count} of you would rather meet strangers.",
            day=day, time=time, tz=signup.tz, strangers=group.prefer_strangers, count=len(group.members),
        ),
    ]
    if signup.user == group.moderator.user:
        lines.append(_("You volunteered to moderate: say hello in the circle's space, then begin with {command}.",
                       command=hint("start", circle=handle)))
    else:
        lines.append(_("{name} volunteered to moderate and starts the circle.", name=group.moderator.name))
    lines += [
        _("Who is in it, and when it meets: {command}", command=hint("info", handle)),
        _("You have left the pool; sign up again any time with {command}.", command=hint("signup", "<kit>", "<hours>")),
    ]
    return m.plain(*lines, title=_("You have a circle: #{handle}", handle=handle))


def circle_name(group: Group, kit: Kit) -> str:
    return f"{kit.name[:MAX_NAME - 28]} ({group.moderator.name[:25]})"


def form_group(group: Group, kit: Kit, now: datetime, taken_handles: Iterable[str]) -> Decision:
    """The forming circle ``group`` becomes, its volunteer moderating, and a DM to each member saying why.

    Args:
        kit: the group's kit, in the group's language.
    """
    moderator = group.moderator
    local = to_local(group.at, moderator.tz)
    actor = Actor(moderator.user, moderator.name, moderator.tz, locale=group.language)
    others = tuple(Member(s.user, s.name, Role.MEMBER, now, s.tz) for s in group.members[1:])
    command = c.NewCircle(circle_name(group, kit), kit.id, moderator.tz, Slot(local.weekday(), local.time()),
                          max(kit.size.places, len(group.members)))
    formed = create_circle(command, actor, now, {kit.id: kit}, taken_handles, others)
    circle = formed.circle
    out = Out(circle.id, "r1/matched")
    for signup in group.members:
        out.dm(signup.user, matched_message(group, signup, circle.handle), suffix=signup.user.key)
    # Nobody typed a command: the moderator hears it all by DM, not as a reply.
    effects = [e for e in formed.effects if not isinstance(e, Reply)] + out.effects
    return replace(formed, effects=tuple(quiet_hours(circle, effect, now) for effect in effects))


def unplaced_dm(signup: Signup, reason: Reason, now: datetime) -> DirectMessage:
    """Telling someone why they were not placed this time; they stay in the pool."""
    message = m.plain(
        _("No circle could be formed with you this time: {reason}.", reason=REASONS[reason]),
        _(
            "You stay in the pool and are matched as soon as a circle can be formed. Other hours may help: "
            "{signup}; to leave the pool: {cancel}.",
            signup=hint("signup", "<kit>", "<hours>"),
            cancel=hint("signup", "cancel"),
        ),
        title=_("Not matched yet"),
    )
    pool = pool_id(signup.user.platform, signup.user.workspace)
    key = f"{pool}/match:{now:%Y%m%dT%H%M%S}/{signup.user.key}"
    return DirectMessage(key, pool, signup.user, message, not_before=after_quiet_hours(now, signup.tz))


def match_report(result: Result, circles: list[str]) -> Message:
    """What a run of matching did, for the admin: circles formed and who stays in the pool, in counts only."""
    placed = sum(len(g.members) for g in result.groups)
    lines: list[Text | str] = [
        _("{circles} new circles for {people} people: {handles}", circles=len(circles), people=placed,
          handles=", ".join(f"#{h}" for h in circles) or "-"),
    ]
    reasons = Counter(u.reason for u in result.unplaced)
    if reasons:
        lines.append(_("{count} stay in the pool, and were told why:", count=len(result.unplaced)))
        lines += [_("\u2022 {reason}: {count}", reason=REASON_NAMES[r], count=n) for r, n in sorted(reasons.items())]
    return m.plain(*lines, title=_("Matching done"))


def next_run(slot: Slot, tz: str, after: datetime) -> datetime:
    """The next moment strictly after ``after`` that is ``slot`` in ``tz`` (a schedule's next run)."""
    return next_moment(tz, slot.weekday, slot.at.hour * 60 + slot.at.minute, after + timedelta(minutes=1))


def schedule_message(slot: Slot | None, tz: str, upcoming: datetime | None) -> Message:
    if slot is None or upcoming is None:
        return m.plain(_("The pool is no longer matched on a schedule; {command} still matches it now.",
                         command=hint("match")), title=_("Matching schedule"))
    return m.plain(
        _("The pool is matched every {day} at {time} ({tz}).", day=Weekday(slot.weekday), time=slot.at.strftime("%H:%M"),
          tz=tz),
        _("Next: {when}", when=m.format_when(upcoming, tz)),
        title=_("Matching schedule"),
    )

