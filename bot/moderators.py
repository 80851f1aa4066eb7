"""Moderators: handing the role on (offered, then accepted), a co-moderator, and the kit's guide.

Nobody becomes moderator without saying yes: ``moderator <member>`` offers the
role and the member takes it or declines it with a button (``moderator
accept|decline``). Until then the moderator stays. A co-moderator may run the
moderator's weekly commands (``bot/state.py``: ``LEADERS``) but not hand the
role on, choose another co-moderator or close the circle (``OWNERS``).
Whoever takes a role (at forming, on hand-over, as co-moderator) gets the
guide's first section by DM.
"""

from __future__ import annotations

from dataclasses import replace

from bot import commands as c
from bot import messages as m
from bot.actions import Action, Verb
from bot.circle import Circle, Member, Role
from bot.decision import Context, Out, find_member, require_member
from bot.effects import Button, Message
from bot.errors import CircleError
from bot.i18n import Text, _, hint
from kits.schema import Kit


def guide_section(kit: Kit, number: int, circle: str | None = None) -> Message:
    """Section ``number`` (1-based) of the kit's moderator guide, with the way to the next one."""
    section = kit.guide[number - 1]
    lines: list[Text | str] = [section.text]
    if number < len(kit.guide):
        lines.append(_("Next: {command}", command=hint("guide", str(number + 1), circle=circle)))
    lines.append(_("All sections: {command}", command=hint("guide", circle=circle)))
    return m.plain(
        *lines,
        title=_("Moderator guide {number}/{total}: {title}", number=number, total=len(kit.guide), title=section.title),
    )


def guide_contents(kit: Kit, circle: str | None = None) -> Message:
    lines: list[Text | str] = [
        _("{number}. {title}", number=n, title=section.title) for n, section in enumerate(kit.guide, 1)
    ]
    lines.append(_("Read one with {command}.", command=hint("guide", "<number>", circle=circle)))
    return m.plain(*lines, title=_("Moderator guide: {kit}", kit=kit.name))


def find_section(kit: Kit, wanted: str) -> int:
    """The number of the section ``wanted`` names: its number, or words of its title.

    Raises:
        CircleError: no such section; the message lists them.
    """
    text = wanted.strip().lower()
    if text.isdecimal() and 1 <= int(text) <= len(kit.guide):
        return int(text)
    for number, section in enumerate(kit.guide, 1):
        if text and text in section.title.lower():
            return number
    raise CircleError(
        _(
            "The guide has no section \u201c{wanted}\u201d. It has {count}: {command} lists them.",
            wanted=wanted,
            count=len(kit.guide),
            command=hint("guide"),
        )
    )


def welcome_to_role(out: Out, circle: Circle, member: Member, kit: Kit) -> None:
    """DM a new moderator or co-moderator the guide's first section."""
    out.dm(member.user, guide_section(kit, 1, circle.handle), suffix=f"guide/{member.user.key}")


def _guide(circle: Circle, cmd: c.Guide, ctx: Context, out: Out) -> Circle:
    if cmd.section.strip():
        message = guide_section(ctx.kit, find_section(ctx.kit, cmd.section), circle.handle)
    else:
        message = guide_contents(ctx.kit, circle.handle)
    out.reply(ctx.actor.user, message)
    return circle


def _hand_over(circle: Circle, cmd: c.HandOver, ctx: Context, out: Out) -> Circle:
    member = find_member(circle, cmd.member)
    if member.role is Role.MODERATOR:
        raise CircleError(_("{name} already moderates this circle.", name=member.name))
    out.dm(
        member.user,
        Message(
            (
                _(
                    "You are asked to moderate \u201c{name}\u201d. The moderator starts and steers the meetings, "
                    "and gets the kit's notes each week. Nothing changes until you say yes.",
                    name=circle.name,
                ),
                _("Answer with the buttons, or {accept} / {decline}.",
                  accept=hint("moderator", "accept", circle=circle.handle),
                  decline=hint("moderator", "decline", circle=circle.handle)),
            ),
            title=_("Moderate \u201c{name}\u201d?", name=circle.name),
            buttons=(
                Button(_("Yes, I'll moderate"), Action(Verb.TAKE_ROLE, circle.id)),
                Button(_("No, thank you"), Action(Verb.DECLINE_ROLE, circle.id)),
            ),
        ),
    )
    out.reply(
        ctx.actor.user,
        m.plain(_("{name} has been asked to moderate; the role moves once they accept.", name=member.name)),
    )
    return replace(circle, handover_to=member.user)


def _answer_hand_over(circle: Circle, cmd: c.AnswerHandOver, ctx: Context, out: Out) -> Circle:
    member = require_member(circle, ctx)
    if circle.handover_to != member.user:
        raise CircleError(_("Nobody has offered you the moderator role in \u201c{name}\u201d.", name=circle.name))
    old = circle.moderator
    if not cmd.yes:
        if old is not None:
            out.dm(old.user, m.plain(_("{name} declined to moderate \u201c{circle}\u201d; you are still its moderator.",
                                       name=member.name, circle=circle.name)))
        out.reply(ctx.actor.user, m.plain(_("Understood; nothing changes.")))
        return replace(circle, handover_to=None)
    members = tuple(
        replace(x, role=Role.MODERATOR if x.user == member.user else (Role.MEMBER if x.role is Role.MODERATOR else x.role))
        for x in circle.members
    )
    # Thanks go to the moderator stepping down.
    line = (_("{name} is now the moderator. Thank you, {old}!", name=member.name, old=old.name) if old
            else _("{name} is now the moderator.", name=member.name))
    out.post(m.plain(line))
    welcome_to_role(out, circle, member, ctx.kit)
    return replace(circle, members=members, handover_to=None)


def _co_moderator(circle: Circle, cmd: c.CoModerator, ctx: Context, out: Out) -> Circle:
    member = find_member(circle, cmd.member)
    if cmd.remove:
        if member.role is not Role.COMODERATOR:
            raise CircleError(_("{name} is not a co-moderator.", name=member.name))
        out.post(m.plain(_("{name} is no longer co-moderator. Thank you!", name=member.name)))
        return circle.with_member(replace(member, role=Role.MEMBER))
    if member.role is not Role.MEMBER:
        raise CircleError(_("{name} already moderates this circle.", name=member.name))
    current = next((x for x in circle.members if x.role is Role.COMODERATOR), None)
    if current is not None:
        raise CircleError(
            _("{name} is already co-moderator; {command} first.", name=current.name,
              command=hint("comod", "remove", current.name, circle=circle.handle))
        )
    out.post(m.plain(_("{name} is now co-moderator.", name=member.name)))
    welcome_to_role(out, circle, member, ctx.kit)
    return circle.with_member(replace(member, role=Role.COMODERATOR))


HANDLERS = {
    c.Guide: _guide,
    c.HandOver: _hand_over,
    c.AnswerHandOver: _answer_hand_over,
    c.CoModerator: _co_moderator,
}
