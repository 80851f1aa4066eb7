"""Forming circles and listing them."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime

from bot import commands as c
from bot import messages as m
from bot.circle import (
    Actor,
    Circle,
    Member,
    Role,
)
from bot.decision import Decision, Out, quiet_hours, require_allowed
from bot.directory import Entry, filter_texts, filter_words
from bot.effects import (
    Message,
    OpenSpace,
)
from bot.errors import CircleError
from bot.people import LANGUAGES, tell_of_closed_dms
from bot.moderators import welcome_to_role
from bot.plan import next_meeting
from bot.turns import tz_of
from bot.i18n import Text, _, hint, join
from bot.state import STATE_NAMES, State
from bot.timetable import parse_zone
from kits.schema import Kit

MAX_NAME = 60


def slug(name: str) -> str:
    """A short handle from a circle's name: ``Tuesday Crew!`` -> ``tuesday-crew``, ``Círculo Über`` -> ``circulo-uber``."""
    # Accents come off (NFKD splits them from their letters), so Spanish and German names stay readable.
    plain = "".join(c for c in unicodedata.normalize("NFKD", name.lower()) if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]+", "-", plain).strip("-")[:24].strip("-") or "circle"


def circle_id(platform: str, workspace: str, handle: str) -> str:
    """The storage key of the circle called ``handle`` in a workspace.

    Unique everywhere, because the handle is unique in its workspace; a digest, so
    it tells nobody which names other workspaces use (handles alone would collide,
    and a second workspace's ``crew-2`` would give the first one's away).
    """
    return hashlib.sha256(f"{platform}\n{workspace}\n{handle}".encode()).hexdigest()[:32]


def create_circle(
    command: c.NewCircle,
    actor: Actor,
    now: datetime,
    kits: Mapping[str, Kit],
    taken_handles: Iterable[str],
    others: tuple[Member, ...] = (),
) -> Decision:
    """Form a new circle with ``actor`` as its moderator.

    Args:
        taken_handles: the handles of ``actor``'s workspace among the slug, ``<slug>-2``, ``<slug>-3``, ...
            (at least up to the first free one).
        others: members who are in it from the start (people matched together, bot/matching.py).

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
    kit = kits[command.kit]
    size = kit.size
    capacity = size.places if command.capacity is None else command.capacity
    if not size.to_start <= capacity <= size.places:
        raise CircleError(
            _(
                "A circle on the {kit} kit has {min} to {max} places, the moderator included.",
                kit=kit.name,
                min=size.to_start,
                max=size.places,
            )
        )
    taken = set(taken_handles)
    base = slug(name)
    handle = next(
        candidate for n in range(1, len(taken) + 2) if (candidate := base if n == 1 else f"{base}-{n}") not in taken
    )
    key = circle_id(actor.user.platform, actor.user.workspace, handle)
    moderator = Member(actor.user, actor.name, Role.MODERATOR, now, actor.tz)
    circle = Circle(
        id=key,
        handle=handle,
        platform=actor.user.platform,
        workspace=actor.user.workspace,
        name=name,
        kit_id=kit.id,
        tz=tz,
        slot=command.slot,
        created_at=now,
        capacity=capacity,
        members=(moderator, *others),
        revision=1,
        locale=actor.locale,
    )
    out = Out(circle.id, "r1")
    out.add(lambda delivery: OpenSpace(delivery, circle.id, name, tuple(member.user for member in circle.members)))
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
            _("You moderate \u201c{name}\u201d (#{id}).", name=name, id=handle),
            _("Invite people with: {command}", command=hint("join", handle)),
            _(
                "The circle holds {max} people, you included; once there are at least {min}, begin with {command}.",
                min=size.to_start,
                max=capacity,
                command=hint("start"),
            ),
            title=_("Circle formed"),
        ),
    )
    tell_of_closed_dms(circle, actor, out)
    welcome_to_role(out, circle, moderator, kit)
    return Decision(circle, tuple(out.effects))


def form_again(
    old: Circle,
    command: c.Again,
    actor: Actor,
    now: datetime,
    kits: Mapping[str, Kit],
    taken_handles: Iterable[str],
) -> tuple[Decision, Decision]:
    """A new run of a graduated circle: same name, slot and zone, ``actor`` moderating.

    Former members are invited back by DM and choose for themselves; nobody is
    moved across without saying yes.

    Returns:
        The old circle's decision (it announces the new run) and the new circle's.
    """
    require_allowed(old, command, actor)
    kit_id = command.kit or old.kit_id
    # The same places again, within what the new run's kit allows.
    size = kits[kit_id].size if kit_id in kits else None
    capacity = min(max(old.capacity, size.to_start), size.places) if size else None
    again = c.NewCircle(old.name, kit_id, old.tz, old.slot, capacity)
    formed = create_circle(again, actor, now, kits, taken_handles)
    new = formed.circle
    invites = Out(new.id, "r1/invite")
    for member in old.members:
        if member.user != actor.user:
            invite = m.invite_again(old, new, kits[new.kit_id], tz_of(new, member), next_meeting(new, kits[new.kit_id], now))
            invites.dm(member.user, invite, suffix=member.user.key)
    announce = Out(old.id, f"r{old.revision + 1}")
    announce.post(m.plain(_("A new run is forming: {command}", command=hint("join", new.handle)), title=_("Going again")))
    old_decision = Decision(replace(old, revision=old.revision + 1), tuple(announce.effects))
    invited = tuple(quiet_hours(new, effect, now) for effect in invites.effects)
    return old_decision, replace(formed, effects=(*formed.effects, *invited))


def joinable(circle: Circle) -> bool:
    """Whether people may still join ``circle`` (storage's ``JOINABLE_ONLY`` says the same in SQL)."""
    return circle.state in (State.FORMING, State.ACTIVE) and not circle.is_full


def list_message(
    command: c.ListCircles,
    mine: Iterable[Circle],
    found: Iterable[Entry],
    more: int | None,
    next_after: str | None,
    kits: Mapping[str, Kit],
    viewer_tz: str | None,
    now: datetime,
    default_locale: str,
) -> Message:
    """The circles a person is in (on the first page), and a page of those open to join.

    Args:
        mine: the person's circles (none after the first page).
        found: the open circles of this page that pass the filters (at most :data:`bot.directory.LIST_PAGE`).
        more: how many more they could join than ``found`` shows, when known without counting
            (an unfiltered first page).
        next_after: the handle the next page starts after; ``None``: this is the last page.
        viewer_tz: the reader's zone; ``None``: times are shown in each circle's.
        default_locale: the language of a circle that has none of its own.
    """

    def own(circle: Circle) -> Text:
        kit = kits.get(circle.kit_id)
        return _(
            "#{id} \u2014 \u201c{name}\u201d, {kit}, {slot}, {state}, {count}/{capacity}",
            id=circle.handle,
            name=circle.name,
            kit=kit.name if kit else circle.kit_id,
            slot=m.slot_for(circle, viewer_tz or circle.tz, next_meeting(circle, kit, now) if kit else None),
            state=STATE_NAMES[circle.state],
            count=len(circle.members),
            capacity=circle.capacity,
        )

    def open_(entry: Entry) -> Text:
        circle, kit = entry.circle, kits.get(entry.circle.kit_id)
        language = circle.locale or default_locale
        return _(
            "#{id} \u2014 \u201c{name}\u201d, {kit}, {language}, {free} of {capacity} places free, next meeting {when}",
            id=circle.handle,
            name=circle.name,
            kit=kit.name if kit else circle.kit_id,
            language=LANGUAGES.get(language, language),
            free=circle.open_seats,
            capacity=circle.capacity,
            when=m.format_when(entry.meeting, viewer_tz or circle.tz),
        )

    shown = [open_(entry) for entry in found]
    filters = filter_texts(command, kits)
    first = command.after is None
    lines: list[Text] = []
    if first:
        yours = [own(circle) for circle in sorted(mine, key=lambda circle: circle.handle)]
        lines += [_("Your circles:"), *(yours or [_("(none yet)")])]
    lines.append(_("Open to join, {filters}:", filters=join(filters)) if filters else _("Open to join:"))
    if shown:
        lines += shown
    elif filters:
        lines += [_("No open circle here is {filters}.", filters=join(filters)),
                  _("Leave a filter out to see more, or see every open circle with {command}.", command=hint("list"))]
    elif not first:
        lines.append(_("No more open circles; see the first page with {command}.", command=hint("list")))
    else:
        lines.append(_("(none right now)"))
    if more:
        lines.append(_("\u2026 and {count} more open circles, not shown here.", count=more))
    if next_after:
        lines.append(_("Next page: {command}", command=hint("list", *filter_words(command), "after", next_after)))
    if first and not filters:
        lines.append(_("Narrow it down with {command}.",
                       command=hint("list", "kit <kit>", "band americas|europe|asia|near", "language en|es|de",
                                    "day <weekday>")))
    lines.append(
        _("Join with {join}, or form your own with {new}.", join=hint("join", "<circle>"), new=hint("new"))
    )
    return m.plain(*lines, title=_("Circles"))
