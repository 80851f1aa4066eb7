"""Check-ins and commitments: what members bring to each week."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from bot import commands as c
from bot import messages as m
from bot.circle import (
    CheckIn,
    Circle,
    Commitment,
    RedFlag,
    UserRef,
)
from bot.actions import Action, Verb
from bot.decision import Context, Out, require_member, require_state, weekly_post_key
from bot.effects import (
    OpenForm,
)
from bot.errors import CircleError
from bot.i18n import Text, _, join_and
from bot.state import State

MAX_ANSWER = 2000


def _checkin(circle: Circle, cmd: c.CheckInCommand, ctx: Context, out: Out) -> Circle:
    member = require_member(circle, ctx)
    require_state(circle, (State.ACTIVE,), _("check in"))
    if not circle.week:
        raise CircleError(_("Check-ins open when week 1's exercise is posted."))
    # A form or button remembers its week: answers sent after the next week began still belong to theirs.
    week = cmd.week or circle.week
    if not 1 <= week <= circle.week:
        raise CircleError(_("Week {week}'s check-in is not open yet.", week=week))
    questions = ctx.kit.week(week).checkin_questions
    if not cmd.answers:
        title, fields = m.checkin_form(circle, ctx.kit, week)
        action = Action(Verb.SUBMIT_CHECKIN, circle.id, week)
        out.effects.append(OpenForm(member.user, circle.id, title, fields, action, intro=m.SEEN_BY_CIRCLE))
        return circle
    if len(cmd.answers) > len(questions) or any(len(a) > MAX_ANSWER for a in cmd.answers):
        raise CircleError(
            _(
                "This week has {count} questions; separate your answers with \u201c|\u201d, at most {max} characters each.",
                count=len(questions),
                max=MAX_ANSWER,
            )
        )
    given = tuple(cmd.answers) + ("",) * (len(questions) - len(cmd.answers))
    earlier = circle.checkin(week, member.user)
    before = earlier.answers if earlier else ()
    # An answer left empty keeps the one given earlier that week, rather than blanking it.
    kept = [n for n, answer in enumerate(given, start=1) if not answer and n <= len(before) and before[n - 1]]
    answers = tuple(before[n - 1] if n in kept else answer for n, answer in enumerate(given, start=1))
    entry = CheckIn(week, member.user, answers, ctx.now)
    circle = replace(
        circle, checkins=(*(x for x in circle.checkins if (x.week, x.user) != (entry.week, entry.user)), entry)
    )
    # The last question of each week asks what the member will do next: that answer is their commitment.
    # Only a new one is recorded: a kept answer must not undo a commitment changed since with `commit`.
    if given[-1]:
        circle = record_commitment(circle, member.user, given[-1], ctx.now, week)
    lines = [
        _("{n}. {question} \u2014 {answer}", n=n, question=q, answer=a or "\u2014")
        for n, (q, a) in enumerate(zip(questions, answers), start=1)
    ]
    heading = (
        _("{name} updated their week {week} check-in", name=member.name, week=week)
        if earlier
        else _("{name} checked in for week {week}", name=member.name, week=week)
    )
    out.post_in_thread(weekly_post_key(circle.id, week), m.plain(*lines, title=heading))
    reply: list[Text] = [_("Thank you \u2014 your check-in is saved and shared with your circle.")]
    if kept:
        reply.append(
            _("You left question {n} empty, so your earlier answer to it stays.", n=kept[0])
            if len(kept) == 1
            else _(
                "You left questions {numbers} empty, so your earlier answers to them stay.",
                numbers=join_and([str(n) for n in kept]),
            )
        )
    out.reply(ctx.actor.user, m.plain(*reply))
    return circle


def record_commitment(circle: Circle, user: UserRef, text: str, now: datetime, week: int | None = None) -> Circle:
    """``week``: the week the commitment follows (default: the current one)."""
    entry = Commitment(week or circle.week, user, text, now)
    kept = tuple(x for x in circle.commitments if (x.week, x.user) != (entry.week, entry.user))
    return replace(circle, commitments=(*kept, entry))


def _commit(circle: Circle, cmd: c.Commit, ctx: Context, out: Out) -> Circle:
    member = require_member(circle, ctx)
    require_state(circle, (State.ACTIVE,), _("make a commitment"))
    if not circle.week:
        raise CircleError(_("Commitments open when week 1's exercise is posted."))
    if len(cmd.text) > MAX_ANSWER:
        raise CircleError(_("Please keep a commitment under {max} characters.", max=MAX_ANSWER))
    circle = record_commitment(circle, member.user, cmd.text, ctx.now)
    out.reply(
        ctx.actor.user,
        m.plain(
            _("Noted: \u201c{text}\u201d. I will ask you how it went at the next check-in.", text=cmd.text),
            m.SEEN_BY_CIRCLE,
        ),
    )
    return circle


def _journal(circle: Circle, cmd: c.Journal, ctx: Context, out: Out) -> Circle:
    member = require_member(circle, ctx)
    out.reply(ctx.actor.user, m.journal_message(circle, ctx.kit, member))
    return circle


def _struggling(circle: Circle, cmd: c.Struggling, ctx: Context, out: Out) -> Circle:
    member = require_member(circle, ctx)
    if circle.state is State.CLOSED:
        # The circle is over, but the person still deserves the resources.
        out.reply(ctx.actor.user, m.support_resources(ctx.kit, None))
        return circle
    if len(cmd.note) > MAX_ANSWER:
        raise CircleError(_("Please keep the note under {max} characters.", max=MAX_ANSWER))
    flag = RedFlag(circle.week, member.user, ctx.now, cmd.note)
    circle = replace(circle, red_flags=(*circle.red_flags, flag))
    moderator = circle.moderator
    told = moderator if moderator and moderator.user != member.user else None
    if told:
        out.dm(told.user, m.red_flag_dm(circle, member, cmd.note), suffix=f"red/{member.user.key}")
    out.reply(ctx.actor.user, m.support_resources(ctx.kit, told))
    return circle


HANDLERS = {
    c.CheckInCommand: _checkin,
    c.Commit: _commit,
    c.Journal: _journal,
    c.Struggling: _struggling,
}
