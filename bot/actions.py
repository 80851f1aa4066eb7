"""What a button or a form carries: a compact action, never command text.

An :class:`Action` names what to do (:class:`Verb`), which circle, and which
week or item. :func:`encode_action` turns it into a short string that fits a
Discord ``custom_id`` (100 characters) and a Slack ``action_id`` or ``value``;
:func:`decode_action` reads one back and refuses anything it did not make.
:data:`ACTION_COMMANDS` says, in one table, which command each verb runs: a
pressed action is then checked against the presser's rights exactly like the
same command typed.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from dataclasses import dataclass

from bot import commands as c
from bot.circle import Reach
from bot.errors import CircleError
from bot.i18n import _, hint

#: Marks our encoding (and its version): a payload without it is not ours.
TAG = "cb1"
SEPARATOR = "|"
MAX_ENCODED = 100
_CIRCLE_ID = re.compile(r"[a-z0-9][a-z0-9._-]{0,79}")


class Verb(str, enum.Enum):
    """What a button or form does; the values are short because platforms count characters."""

    CHECKIN = "ci"  # open the check-in form for a week
    SUBMIT_CHECKIN = "sc"  # a submitted check-in form: answers, one per field
    RSVP_YES = "ry"
    RSVP_NO = "rn"
    STRUGGLING = "st"
    JOIN = "jn"  # accept an invitation to a circle (a new run)
    STORY_CONFIRM = "sy"
    STORY_WITHDRAW = "sw"
    STORY_APPROVE = "sa"
    STORY_DECLINE = "sd"
    FORGET_CONFIRM = "fc"  # about the person, in no one circle
    CONSENT_YES = "cy"  # the member says yes to care a peer proposed
    CONSENT_NO = "cn"
    SUPPORT_EVERYONE = "se"  # everyone in the circle may know and help
    REACH_CALL = "rc"
    REACH_MESSAGE = "rm"
    SUPPORT_NOT_NOW = "nn"
    SUPPORT_RESUME = "sr"
    SUPPORT_END = "en"
    OFFER_HELP = "oh"  # item: the member to help
    STOP_REMINDERS = "sp"  # item: the member whose reminders stop
    TAKE_ROLE = "mt"  # accept the moderator role offered
    DECLINE_ROLE = "md"
    CLOSE = "cl"  # the moderator of a circle grown small closes it
    MERGE_YES = "gy"  # item: the handle of the small circle whose members are taken in
    MERGE_NO = "gn"
    TAKE_SEAT = "ts"  # take the seat held for you (refused when none is)
    PASS_SEAT = "ps"  # pass it to the next in line (never leaves a circle you are in)


@dataclass(frozen=True)
class Action:
    """One thing a person can do with a press or a form.

    Attributes:
        verb: what to do.
        circle_id: the circle it is about (empty for the person's own data).
        week: the week a check-in or an RSVP is for (0: none).
        item: a story number or a member's platform id, when the verb needs one.
    """

    verb: Verb
    circle_id: str = ""
    week: int = 0
    item: str = ""


def encode_action(action: Action) -> str:
    """The action as a short string, e.g. ``cb1|ry|crew|3|``.

    Raises:
        ValueError: it would not fit a platform's 100 characters (a bug, not user input).
    """
    text = SEPARATOR.join((TAG, action.verb.value, action.circle_id, str(action.week), action.item))
    if len(text) > MAX_ENCODED or SEPARATOR in action.circle_id:
        raise ValueError(f"action does not encode in {MAX_ENCODED} characters: {text!r}")
    return text


def _not_ours() -> CircleError:
    return CircleError(_("That button or form is not one I can use here. {help} lists what you can do.", help=hint("help")))


def decode_action(text: str) -> Action:
    """Read an encoded action back.

    Raises:
        CircleError: the text is not an action this bot made (forged, truncated or from elsewhere).
    """
    refusal = _not_ours()
    parts = text.split(SEPARATOR, 4) if isinstance(text, str) and len(text) <= MAX_ENCODED else []
    if len(parts) != 5 or parts[0] != TAG:
        raise refusal
    _tag, verb, circle_id, week, item = parts
    try:
        verb = Verb(verb)
    except ValueError:
        raise refusal from None
    if not re.fullmatch(r"\d{1,3}", week) or (circle_id and not _CIRCLE_ID.fullmatch(circle_id)):
        raise refusal
    if not item.isprintable():
        raise refusal
    return Action(verb, circle_id, int(week), item)


def _story(step: type[c.StoryStep]) -> Callable[[Action, tuple[str, ...]], c.Command]:
    def build(action: Action, answers: tuple[str, ...]) -> c.Command:
        if not re.fullmatch(r"\d{1,4}", action.item):
            raise _not_ours()
        return step(action.circle_id, int(action.item))

    return build


#: Which command each verb runs; the circle (and week) come from the action, never from where it was pressed.
ACTION_COMMANDS: dict[Verb, Callable[[Action, tuple[str, ...]], c.Command]] = {
    Verb.CHECKIN: lambda a, answers: c.CheckInCommand(a.circle_id, (), week=a.week or None),
    Verb.SUBMIT_CHECKIN: lambda a, answers: c.CheckInCommand(a.circle_id, answers, week=a.week or None, from_form=True),
    Verb.RSVP_YES: lambda a, answers: c.Attend(a.circle_id, going=True, week=a.week or None),
    Verb.RSVP_NO: lambda a, answers: c.Attend(a.circle_id, going=False, week=a.week or None),
    Verb.STRUGGLING: lambda a, answers: c.Struggling(a.circle_id),
    Verb.JOIN: lambda a, answers: c.Join(a.circle_id),
    Verb.STORY_CONFIRM: _story(c.ConfirmStory),
    Verb.STORY_WITHDRAW: _story(c.WithdrawStory),
    Verb.STORY_APPROVE: _story(c.ApproveStory),
    Verb.STORY_DECLINE: _story(c.DeclineStory),
    Verb.FORGET_CONFIRM: lambda a, answers: c.ForgetMe(confirmed=True),
    Verb.CONSENT_YES: lambda a, answers: c.AnswerSupport(a.circle_id, yes=True),
    Verb.CONSENT_NO: lambda a, answers: c.AnswerSupport(a.circle_id, yes=False),
    Verb.SUPPORT_EVERYONE: lambda a, answers: c.ShareSupportWith(a.circle_id, ()),
    Verb.REACH_CALL: lambda a, answers: c.SetReach(a.circle_id, Reach.CALL),
    Verb.REACH_MESSAGE: lambda a, answers: c.SetReach(a.circle_id, Reach.MESSAGE),
    Verb.SUPPORT_NOT_NOW: lambda a, answers: c.NotNow(a.circle_id, paused=True),
    Verb.SUPPORT_RESUME: lambda a, answers: c.NotNow(a.circle_id, paused=False),
    Verb.SUPPORT_END: lambda a, answers: c.EndSupport(a.circle_id),
    Verb.OFFER_HELP: lambda a, answers: c.OfferHelp(a.circle_id, a.item),
    Verb.STOP_REMINDERS: lambda a, answers: c.StopHelping(a.circle_id, a.item),
    Verb.TAKE_ROLE: lambda a, answers: c.AnswerHandOver(a.circle_id, yes=True),
    Verb.DECLINE_ROLE: lambda a, answers: c.AnswerHandOver(a.circle_id, yes=False),
    Verb.CLOSE: lambda a, answers: c.Close(a.circle_id),
    Verb.MERGE_YES: lambda a, answers: c.AnswerMerge(a.circle_id, a.item, yes=True),
    Verb.MERGE_NO: lambda a, answers: c.AnswerMerge(a.circle_id, a.item, yes=False),
    Verb.TAKE_SEAT: lambda a, answers: c.Join(a.circle_id, held=True),
    Verb.PASS_SEAT: lambda a, answers: c.Leave(a.circle_id, waiting=True),
}

#: Verbs whose action must name a circle (all but the person's own data).
PERSONAL_VERBS = frozenset({Verb.FORGET_CONFIRM})


def command_of(action: Action, answers: tuple[str, ...] = ()) -> c.Command:
    """The command a pressed or submitted action runs.

    Raises:
        CircleError: the action lacks what its verb needs.
    """
    if not action.circle_id and action.verb not in PERSONAL_VERBS:
        raise _not_ours()
    return ACTION_COMMANDS[action.verb](action, answers)
