"""Keeping a circle safe and whole: private reports, and what a circle grown small can do.

A report goes privately to the people who look after the circle: its moderator
and co-moderator, and the workspace's admins the bot knows (the service fills
them in). A report about the moderator goes to the admins only. The reported
person is not told and nothing is posted in the circle; the reporter alone
reads a confirmation. The same report twice (the same reporter, person and
message or words) is delivered once: its deliveries are keyed by what it is
about, not by the circle's revision, and the outbox keeps one delivery a key.
Nothing else is stored, so ``forget-me`` erases a report with the deliveries
that name its reporter.

A running circle that drops below the kit's number to start (someone left, was
removed or asked to be forgotten) is not changed behind its back: its moderator
is told privately and chooses. Keep going; close it kindly (a button: everyone
is thanked and pointed to other circles); or ask another circle of the same kit,
in the same week, with room for everyone, to take its members in (``merge``).
That circle's moderator accepts or declines with a button. On yes, each member
of the small circle is invited by DM with a Join button and decides for
themselves, and the small circle closes with thanks. Nobody is moved without
saying yes.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace

from bot import commands as c
from bot import messages as m
from bot.actions import Action, Verb
from bot.circle import Circle, Member, Role, UserRef
from bot.checkins import MAX_ANSWER
from bot.decision import Context, Out, find_member, require_member
from bot.effects import Button, Message
from bot.errors import CircleError
from bot.i18n import Text, _, hint
from bot.running import closed
from bot.state import State
from kits.schema import Kit

#: Characters of a reported message shown in the report.
EXCERPT = 300


def _excerpt(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= EXCERPT else text[: EXCERPT - 1].rstrip() + "\u2026"


def report_message(circle: Circle, reporter: Member, reported: Member, cmd: c.Report) -> Message:
    lines: list[Text | str] = [
        _("{reporter} reported {member}, a member of \u201c{circle}\u201d.", reporter=reporter.name,
          member=reported.name, circle=circle.name),
    ]
    if cmd.what:
        lines.append(_("In their words: \u201c{text}\u201d", text=cmd.what))
    if cmd.excerpt:
        lines.append(_("The message: \u201c{text}\u201d", text=_excerpt(cmd.excerpt)))
    if cmd.link:
        lines.append(_("Where: {link}", link=cmd.link))
    lines += [
        _("{member} is not told and nothing was posted in the circle. A private word with {reporter} is a good "
          "first step; {command} removes a member if it comes to that.", member=reported.name,
          reporter=reporter.name, command=hint("remove", "<member>", circle=circle.handle)),
        m.SEEN_BY_YOU,
    ]
    return m.plain(*lines, title=_("A report from \u201c{circle}\u201d", circle=circle.name))


def _told(circle: Circle, reporter: Member, reported: Member, admins: tuple[UserRef, ...]) -> list[UserRef]:
    """Who reads a report: the circle's moderators (unless it is about the moderator), then the admins."""
    leaders = [] if reported.role is Role.MODERATOR else [
        x.user for x in circle.members if x.role in (Role.MODERATOR, Role.COMODERATOR)
    ]
    told: dict[str, UserRef] = {}
    for user in (*leaders, *admins):
        if user not in (reporter.user, reported.user):
            told.setdefault(user.key, user)
    return list(told.values())


def _report(circle: Circle, cmd: c.Report, ctx: Context, out: Out) -> Circle:
    reporter = require_member(circle, ctx)
    if cmd.link and not any(x.user.id == cmd.member for x in circle.members):
        # A message action names its author by id: the bot's own post, or someone who has left since.
        raise CircleError(_("That message is not from a member of “{name}” now, so there is nobody to report. "
                            "If something in the circle worries you, {command} tells your moderator privately.",
                            name=circle.name, command=hint("struggling", circle=circle.handle)))
    reported = find_member(circle, cmd.member)
    if reported.user == reporter.user:
        raise CircleError(_("You cannot report yourself. If this week is hard, {command} tells your moderator.",
                            command=hint("struggling", circle=circle.handle)))
    if len(cmd.what) > MAX_ANSWER:
        raise CircleError(_("Please keep the report under {max} characters.", max=MAX_ANSWER))
    told = _told(circle, reporter, reported, cmd.admins)
    if not told:
        raise CircleError(_("There is nobody I can send the report to yet: no workspace admin has used Circlebot "
                            "here. Please contact an admin of this workspace directly."))
    about = hashlib.sha256(f"{reported.user.key}\n{cmd.link or cmd.what}".encode()).hexdigest()[:16]
    once = Out(circle.id, f"report/{reporter.user.key}/{about}")
    message = report_message(circle, reporter, reported, cmd)
    for user in told:
        once.dm(user, message, suffix=user.key)
    out.effects.extend(once.effects)
    out.reply(
        ctx.actor.user,
        m.plain(_("Thank you for telling us. Your report went privately to the people who look after this circle; "
                  "{member} is not told, and nothing is posted in the circle.", member=reported.name),
                title=_("Report sent")),
    )
    return circle


# ---------------------------------------------------------------- a circle grown small

#: Where a circle can still go on, be closed or join up with another.
RUNNING = (State.ACTIVE, State.PAUSED)


def grew_small(before: Circle, after: Circle, kit: Kit, out: Out) -> None:
    """Tell the moderator privately, once, when a running circle drops below the kit's number to start."""
    small = kit.size.to_start
    if not (before.state in RUNNING and after.state in RUNNING and len(before.members) >= small > len(after.members)):
        return
    moderator = after.moderator
    if moderator is None:
        return
    out.dm(
        moderator.user,
        Message(
            (
                _("\u201c{name}\u201d has {count} members now, fewer than it needs to start. You can:",
                  name=after.name, count=len(after.members)),
                _("\u2022 keep going as you are: nothing to do;"),
                _("\u2022 ask another circle of the same kit, in the same week and with room for everyone, to take "
                  "your members in: {command} shows them (its moderator decides, then each member does);",
                  command=hint("merge", circle=after.handle)),
                _("\u2022 close it kindly: everyone is thanked and pointed to other circles."),
                *([_("A freed seat is being offered to the next person on its waitlist: if they take it, the circle "
                     "grows again.")] if after.seat_offers else []),
                m.SEEN_BY_YOU,
            ),
            title=_("\u201c{name}\u201d has become small", name=after.name),
            buttons=(Button(_("Close it kindly"), Action(Verb.CLOSE, after.id)),),
        ),
        suffix=f"small/{len(after.members)}",
    )


def _candidates(circle: Circle, cmd: c.Merge, ctx: Context, out: Out) -> Circle:
    """The circles that could take the members in, for the moderator to choose from."""
    lines: list[Text | str] = [
        _("#{handle} \u2014 {name}, meets {slot}, {free} free places", handle=x.handle, name=x.name,
          slot=m.slot_text(x), free=x.open_seats)
        for x in cmd.candidates
    ]
    if lines:
        lines.append(_("Ask one with {command}.", command=hint("merge", "<circle>", circle=circle.handle)))
    else:
        lines.append(_("No running circle of the same kit in week {week} has room for all {count} of you now. You "
                       "can keep going, or close the circle kindly.", week=circle.week, count=len(circle.members)))
    out.reply(ctx.actor.user, m.plain(*lines, title=_("Circles that could take in \u201c{name}\u201d",
                                                      name=circle.name)))
    return circle


def _merge(circle: Circle, cmd: c.Merge, ctx: Context, out: Out) -> Circle:
    if not cmd.other:
        return _candidates(circle, cmd, ctx, out)
    other = cmd.found
    if other is None or other.id == circle.id:
        raise CircleError(_("Name another circle, e.g. {command}.", command=hint("merge", "<circle>")))
    if other.kit_id != circle.kit_id or other.week != circle.week or other.state is not State.ACTIVE:
        raise CircleError(_("\u201c{other}\u201d is not a running circle of the same kit in the same week "
                            "(week {week}); only such a circle can take your members in.",
                            other=other.name, week=circle.week))
    free = other.open_seats
    if free < len(circle.members):
        raise CircleError(_("\u201c{other}\u201d has {free} free places; your circle needs {count}.",
                            other=other.name, free=free, count=len(circle.members)))
    moderator = other.moderator
    if moderator is None:
        raise CircleError(_("\u201c{other}\u201d has no moderator to ask.", other=other.name))
    out.dm(
        moderator.user,
        Message(
            (
                _("\u201c{name}\u201d, a circle on the same kit and in week {week} too, has become small. Its "
                  "moderator asks whether its {count} members may go on in \u201c{other}\u201d.",
                  name=circle.name, week=circle.week, count=len(circle.members), other=other.name),
                _("If you say yes, each of them is invited and decides for themselves; nothing changes until then."),
                m.SEEN_BY_YOU,
            ),
            title=_("Take in members of \u201c{name}\u201d?", name=circle.name),
            buttons=(
                Button(_("Yes, welcome them"), Action(Verb.MERGE_YES, other.id, item=circle.handle)),
                Button(_("No, thank you"), Action(Verb.MERGE_NO, other.id, item=circle.handle)),
            ),
        ),
        suffix=f"merge/{other.id}",
    )
    out.reply(ctx.actor.user, m.plain(_("The moderator of \u201c{other}\u201d is asked; you will hear their answer.",
                                        other=other.name)))
    return replace(circle, merge_into=other.id)


def _answer_merge(circle: Circle, cmd: c.AnswerMerge, ctx: Context, out: Out) -> Circle:
    small = cmd.found
    if small is None or small.merge_into != circle.id or small.state not in RUNNING:
        raise CircleError(_("No circle is waiting for an answer from \u201c{name}\u201d.", name=circle.name))
    if not cmd.yes:
        out.reply(ctx.actor.user, m.plain(_("Understood; nothing changes.")))
        return circle
    out.post(m.plain(_("Members of another circle on the same kit are invited to go on here. Please make them "
                       "welcome.")))
    out.reply(ctx.actor.user, m.plain(_("Thank you. The members of \u201c{name}\u201d are invited; each decides for "
                                        "themselves.", name=small.name)))
    return circle


def merge_answered(small: Circle, into: Circle, accepted: bool, out: Out) -> Circle:
    """The small circle's side of the answer: on yes, its members are invited to ``into`` and it closes with thanks."""
    moderator = small.moderator
    if not accepted:
        if moderator is not None:
            out.dm(moderator.user, m.plain(_("The moderator of \u201c{other}\u201d declined; \u201c{name}\u201d goes "
                                             "on as it is. You can ask another circle, or close it kindly.",
                                             other=into.name, name=small.name)))
        return replace(small, merge_into=None)
    invitation = Message(
        (
            _("\u201c{name}\u201d closes, and its members are welcome in \u201c{other}\u201d, which is in week "
              "{week} of the same kit and meets {slot}.", name=small.name, other=into.name, week=into.week,
              slot=m.slot_text(into)),
            _("Join it if you would like to go on; or see {command} for other circles. Thank you for the time you "
              "gave \u201c{name}\u201d.", command=hint("list"), name=small.name),
        ),
        title=_("Go on in \u201c{other}\u201d?", other=into.name),
        buttons=(Button(_("Join \u201c{other}\u201d", other=into.name), Action(Verb.JOIN, into.id)),),
    )
    for member in small.members:
        out.dm(member.user, invitation, suffix=f"merged/{member.user.key}")
    out.post(m.plain(_("Each of you is invited to go on in \u201c{other}\u201d; the invitation is in your direct "
                       "messages. Thank you all.", other=into.name),
                     title=_("\u201c{name}\u201d is closed", name=small.name)))
    return closed(small)


HANDLERS = {
    c.Report: _report,
    c.Merge: _merge,
    c.AnswerMerge: _answer_merge,
}
