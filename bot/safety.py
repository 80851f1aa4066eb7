"""Keeping a circle safe: private reports about a member or one of their messages.

A report goes privately to the people who look after the circle: its moderator
and co-moderator, and the workspace's admins the bot knows (the service fills
them in). A report about the moderator goes to the admins only. The reported
person is not told and nothing is posted in the circle; the reporter alone
reads a confirmation. The same report twice (the same reporter, person and
message or words) is delivered once: its deliveries are keyed by what it is
about, not by the circle's revision, and the outbox keeps one delivery a key.
Nothing else is stored, so ``forget-me`` erases a report with the deliveries
that name its reporter.
"""

from __future__ import annotations

import hashlib

from bot import commands as c
from bot import messages as m
from bot.circle import Circle, Member, Role, UserRef
from bot.checkins import MAX_ANSWER
from bot.decision import Context, Out, find_member, require_member
from bot.effects import Message
from bot.errors import CircleError
from bot.i18n import Text, _, hint

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


HANDLERS = {
    c.Report: _report,
}
