"""A person's own data: a copy of all of it (``export``), or none of it left (``forget-me``).

What a circle stores about a person is their membership (a
:class:`~bot.circle.Member`), their *records* — the entries of the circle's
tuple fields whose type has a ``user`` (check-ins, commitments, RSVPs, red
flags, nudges, stories, life events, ...) — and their id wherever else it
appears (say, as a helper in someone else's life event). Both are found by
walking the circle's values, not by listing fields, so a new kind of record is
exported and forgotten without anyone having to remember this module.

Forgetting keeps the shape and erases the rest: every record stays, its text
blanked and its person replaced by a stand-in that cannot be traced back, so
"four of five checked in for week 3" stays true.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Iterable
from dataclasses import fields, is_dataclass, replace
from datetime import date, datetime
from typing import Any, get_args, get_origin, get_type_hints

from bot import care, waitlist
from bot import messages as m
from bot.circle import Circle, UserRef
from bot.decision import Out
from bot.actions import Action, Verb
from bot.effects import Button, Message, SendFile

from bot.i18n import _, hint
from bot.running import departed
from bot.sharing import withdraw_all

#: Stand-ins for forgotten people have ids like ``former-member-3f9a...``.
STAND_IN_PREFIX = "former-member-"
#: In an export, everyone but the person themselves.
SOMEONE_ELSE = "another member"
#: Shorter texts ("ok", "yes") say nothing about who wrote them, and would match other people's words too.
MIN_TRACE = 5


def _is_record_field(hint: Any) -> bool:
    """``tuple[X, ...]`` where ``X`` is a dataclass with a ``user``."""
    args = get_args(hint)
    return get_origin(hint) is tuple and bool(args) and is_dataclass(args[0]) and "user" in {f.name for f in fields(args[0])}


#: The circle's kinds of records, each a tuple of entries that belong to one person.
RECORD_FIELDS: tuple[str, ...] = tuple(
    name for name, hint in get_type_hints(Circle).items() if name != "members" and _is_record_field(hint)
)


def _scrubbed(value: Any, user: UserRef, anonymous: UserRef, erased: list[str], owned: bool = False) -> Any:
    """``value`` with ``user`` replaced by ``anonymous`` everywhere, and the text of ``user``'s own records blanked.

    A dataclass whose ``user`` is ``user`` is theirs, and so is everything in it;
    each text blanked there is appended to ``erased``. Other people's ids stay.
    """
    if isinstance(value, UserRef):
        return anonymous if value == user else value
    if isinstance(value, str) and not isinstance(value, enum.Enum):
        if owned and value:
            erased.append(value)
            return ""
        return value
    if isinstance(value, tuple):
        return tuple(_scrubbed(v, user, anonymous, erased, owned) for v in value)
    if is_dataclass(value) and not isinstance(value, type):
        owned = owned or getattr(value, "user", None) == user
        changes = {f.name: _scrubbed(getattr(value, f.name), user, anonymous, erased, owned) for f in fields(value)}
        return replace(value, **changes)
    return value


#: Stands for "whoever" when a walk only asks whether anything would change.
_PROBE = UserRef("", "", "")


def holds(circle: Circle, user: UserRef) -> bool:
    """Whether ``circle`` stores anything about ``user``: membership, a record, or their id anywhere."""
    return _scrubbed(circle, user, _PROBE, []) != circle


def traces(circles: Iterable[Circle], user: UserRef) -> set[str]:
    """Their id, their names, and every text of theirs in ``circles``: what must not outlive them elsewhere."""
    names, written = {user.id}, []
    for circle in circles:
        member = circle.member(user)
        if member:
            names.add(member.name)
        _scrubbed(circle.without_member(user), user, _PROBE, written)
    return names | {text for text in written if len(text) >= MIN_TRACE}


def stand_in(user: UserRef, token: str) -> UserRef:
    """An anonymous member in ``user``'s workspace; ``token`` must be random and kept nowhere."""
    return UserRef(user.platform, user.workspace, f"{STAND_IN_PREFIX}{token}")


def forgotten(circle: Circle, user: UserRef, anonymous: UserRef, now: datetime, out: Out) -> Circle:
    """``circle`` with ``user`` gone: out of the members, their records kept for ``anonymous`` but blank.

    Raises:
        CircleError: ``user`` moderates the circle and others remain in it.
    """
    circle = waitlist.without(circle, user)  # the seat held for them goes to the next in line (bot/engine.py)
    member = circle.member(user)
    if member:
        circle = departed(circle, member, out)
        if circle.members:
            out.post(m.plain(_("A member has left the circle.")))
    # What is still under way for them stops: nothing is posted or reminded for a stand-in.
    circle = care.end_all(withdraw_all(circle, user), user, now)
    return _scrubbed(circle, user, anonymous, [])


# ---------------------------------------------------------------- export


def _plain(value: Any, user: UserRef) -> Any:
    """``value`` as JSON-ready data; people other than ``user`` become :data:`SOMEONE_ELSE`."""
    if isinstance(value, UserRef):
        return "you" if value == user else SOMEONE_ELSE
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, tuple | list | frozenset):
        return [_plain(v, user) for v in value]
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name), user) for f in fields(value) if f.name != "user"}
    return value


def export_file(circles: Iterable[Circle], user: UserRef, now: datetime, signup: dict | None = None) -> SendFile:
    """Everything ``circles`` hold about ``user`` — and nobody else's words or ids — as a JSON file.

    Args:
        signup: their place in the pool of people asking to be matched, as stored, if they have one.
    """
    mine = [circle for circle in circles if holds(circle, user)]
    data = {
        "exported_at": now.isoformat(),
        "person": {"platform": user.platform, "workspace": user.workspace, "id": user.id},
        "signup": signup,
        "circles": [
            {
                "circle": {"id": circle.handle, "name": circle.name, "kit": circle.kit_id, "state": circle.state.value},
                "membership": _plain(circle.member(user), user),
                **{name: [_plain(r, user) for r in getattr(circle, name) if r.user == user] for name in RECORD_FIELDS},
            }
            for circle in mine
        ],
    }
    return SendFile(
        user,
        f"circlebot-export-{now.date().isoformat()}.json",
        json.dumps(data, indent=2, ensure_ascii=False),
        note=_("Everything Circlebot stores about you in this workspace (circles: {count}). {privacy}", count=len(mine), privacy=m.SEEN_BY_YOU),
    )


# ---------------------------------------------------------------- what people read


def forget_preview(circles: Iterable[Circle], user: UserRef) -> Message:
    """What ``forget-me confirm`` would erase, for the circles that hold anything about ``user``."""
    lines = []
    for circle in circles:
        count = sum(1 for name in RECORD_FIELDS for r in getattr(circle, name) if r.user == user)
        membership = _("you are a member") if circle.member(user) else _("you have left it")
        lines.append(
            _(
                "\u2022 \u201c{name}\u201d ({membership}): {count} entries \u2014 check-ins, commitments, answers, stories and the like",
                name=circle.name,
                membership=membership,
                count=count,
            )
        )
    if not lines:
        return m.plain(_("No circle here holds anything about you."), m.SEEN_BY_YOU, title=_("Nothing to erase"))
    return Message(
        (
            _("This erases your answers, commitments, stories and notes, and your name, in every circle here:"),
            *lines,
            _("You leave the circles you are in. The circles keep only anonymous counts, such as how many people checked in each week."),
            _("It cannot be undone. Take a copy first with {export} if you want one.", export=hint("export")),
            _("To go ahead, type {command}.", command=hint("forget-me", "confirm")),
            m.SEEN_BY_YOU,
        ),
        title=_("Forget me?"),
        buttons=(Button(_("Erase everything about me"), Action(Verb.FORGET_CONFIRM)),),
    )


def forgotten_message(count: int) -> Message:
    return m.plain(
        _("Done: your answers and your name are erased (circles: {count}).", count=count),
        _("Thank you for the time you gave your circles. Take care."),
        title=_("You are forgotten"),
    )
