"""The one command grammar every adapter uses: ``/circle <subcommand> [args]``.

Each subcommand is one row of :data:`SUBCOMMANDS`: its usage line, a one-line
summary for ``help``, and how its arguments become a command. A circle can be
named explicitly with a leading ``#name`` argument on any circle command.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from bot import commands as c
from bot.circle import Reach
from bot.directory import parse_band
from bot.directory import parse_language as parse_language_filter
from bot.errors import CircleError, UsageError
from bot.i18n import COMMAND, Text, _, hint
from bot.matching import parse_hours
from bot.people import parse_language
from bot.place import CLEAR_WORDS, parse_place
from bot.text import clean
from bot.timetable import parse_slot, parse_weekday, parse_zone

PREFIX = COMMAND


@dataclass(frozen=True)
class Subcommand:
    name: str
    usage: str
    summary: Text
    command: type
    build: Callable[[str | None, list[str]], c.Command]
    free_text: bool = False

    @property
    def moderator_only(self) -> bool:
        return issubclass(self.command, c.ModeratorCommand)


def _no_args(cls: type) -> Callable[[str | None, list[str]], c.Command]:
    def build(circle: str | None, args: list[str]) -> c.Command:
        if args:
            raise ValueError("unexpected arguments")
        return cls(circle)

    return build


def _new(circle: str | None, args: list[str]) -> c.Command:
    if circle is not None or len(args) not in (5, 6):
        raise ValueError("wrong number of arguments")
    name, kit, tz, day, clock, *rest = args
    # How many places a circle may have is the kit's to say (bot/forming.py).
    capacity = int(rest[0]) if rest else None
    return c.NewCircle(name=name.strip(), kit=kit.lower(), tz=tz, slot=parse_slot(day, clock), capacity=capacity)


def _join_like(cls: type) -> Callable[[str | None, list[str]], c.Command]:
    """``join career`` and ``join #career`` both name the circle."""

    def build(circle: str | None, args: list[str]) -> c.Command:
        if len(args) > 1 or (circle and args):
            raise ValueError("too many arguments")
        return cls(circle or (args[0].lstrip("#") if args else None))

    return build


#: The filters ``list`` takes, by the words people use for them, and how each value is read.
LIST_FILTERS: dict[str, tuple[str, Callable[[str], object]]] = {
    "kit": ("kit", str.lower),
    "band": ("band", parse_band), "zone": ("band", parse_band), "region": ("band", parse_band),
    "language": ("language", parse_language_filter), "lang": ("language", parse_language_filter),
    "day": ("day", parse_weekday), "weekday": ("day", parse_weekday),
    "after": ("after", lambda handle: handle.lstrip("#").lower()),
}


def _list(circle: str | None, args: list[str]) -> c.Command:
    """``list [kit <kit>] [band americas|europe|asia|near] [language <code>] [day <weekday>] [after <circle>]``,
    in any order; ``near`` alone is ``band near``."""
    if circle is not None:
        raise ValueError("about the workspace, not a circle")
    words, given = list(args), {}
    while words:
        word = words.pop(0).lower()
        if word == "near":
            given["band"] = "near"
            continue
        if word not in LIST_FILTERS or not words:
            raise ValueError("a filter and its value")
        field, read = LIST_FILTERS[word]
        given[field] = read(words.pop(0))
    return c.ListCircles(**given)


def _pause(circle: str | None, args: list[str]) -> c.Command:
    if not args:
        return c.Pause(circle)
    match = re.fullmatch(r"(\d{1,2})w", "".join(args).lower().removeprefix("for"))
    if not match or not 1 <= int(match[1]) <= 26:
        raise ValueError("bad duration")
    return c.Pause(circle, weeks=int(match[1]))


def _reschedule(circle: str | None, args: list[str]) -> c.Command:
    if len(args) != 2:
        raise ValueError("wrong number of arguments")
    return c.Reschedule(circle, parse_slot(*args))


def _member_arg(cls: type) -> Callable[[str | None, list[str]], c.Command]:
    def build(circle: str | None, args: list[str]) -> c.Command:
        if len(args) != 1:
            raise ValueError("name one member")
        return cls(circle, args[0])

    return build


def _use_space(circle: str | None, args: list[str]) -> c.Command:
    """``space <channel>``: a platform's channel mention (Slack ``<#C123|crew>``, Discord ``<#123>``) or its id."""
    if len(args) != 1:
        raise ValueError("one channel")
    match = re.fullmatch(r"<#([A-Za-z0-9]{1,40})(?:\|[^>]*)?>|([A-Za-z0-9]{1,40})", args[0])
    if match is None:
        raise ValueError("a channel")
    return c.UseSpace(circle, match[1] or match[2])


def _place(circle: str | None, args: list[str]) -> c.Command:
    """``place`` shows it, ``place clear`` forgets it, anything else is a link or a room's name."""
    text = _unquote(" ".join(args))
    if not text:
        return c.Place(circle)
    return c.Place(circle, "" if text.lower() in CLEAR_WORDS else parse_place(text))


def _calendar(circle: str | None, args: list[str]) -> c.Command:
    if [a.lower() for a in args] not in ([], ["reset"]):
        raise ValueError("only reset")
    return c.Calendar(circle, reset=bool(args))


def _again(circle: str | None, args: list[str]) -> c.Command:
    if len(args) > 1:
        raise ValueError("at most a kit")
    return c.Again(circle, args[0].lower() if args else None)


def _struggling(circle: str | None, args: list[str]) -> c.Command:
    return c.Struggling(circle, _unquote(" ".join(args)))


def _me(circle: str | None, args: list[str]) -> c.Command:
    """``me``, ``me timezone <Area/City>``, ``me language <code>``."""
    if circle is not None:
        raise ValueError("about the person, not a circle")
    match [a.lower() for a in args[:1]], args[1:]:
        case [], []:
            return c.Me()
        case ["timezone" | "tz" | "zone"], [zone]:
            return c.Me(tz=parse_zone(zone))
        case ["language" | "lang"], [code]:
            return c.Me(locale=parse_language(code))
    raise ValueError("timezone or language")


def _report(circle: str | None, args: list[str]) -> c.Command:
    """``report <member> [what happened]``: the member is the first word, the rest is prose."""
    member, what = (re.split(r"\s+", args[0], maxsplit=1) + [""])[:2] if args else ("", "")
    if not member:
        raise ValueError("name one member")
    return c.Report(circle, member, _unquote(what))


def _merge(circle: str | None, args: list[str]) -> c.Command:
    """``merge`` lists the circles that could take the members in; ``merge <other circle>`` asks one;
    ``merge accept|decline <other circle>`` answers."""
    match [a.lower() for a in args[:1]], args[1:]:
        case [], []:
            return c.Merge(circle)
        case ["accept" | "decline"], [other]:
            return c.AnswerMerge(circle, other.lstrip("#"), yes=args[0].lower() == "accept")
        case [_], []:
            return c.Merge(circle, args[0].lstrip("#"))
    raise ValueError("name one circle")


def _attended(circle: str | None, args: list[str]) -> c.Command:
    return c.Attended(circle, tuple(args))


def _attend(circle: str | None, args: list[str]) -> c.Command:
    answer = " ".join(args).lower()
    if answer not in ("yes", "no"):
        raise ValueError("yes or no")
    return c.Attend(circle, going=answer == "yes")


def _away(circle: str | None, args: list[str]) -> c.Command:
    if len(args) != 1:
        raise ValueError("one date")
    if args[0].lower() in ("off", "back"):
        return c.Away(circle, None)
    return c.Away(circle, date.fromisoformat(args[0]))


QUOTES = {'"': '"', "'": "'", "\u201c": "\u201d", "\u2018": "\u2019"}


def _unquote(text: str) -> str:
    """``"read the book"`` -> ``read the book``; quotes inside the text stay."""
    text = text.strip()
    if len(text) >= 2 and QUOTES.get(text[0]) == text[-1]:
        return text[1:-1].strip()
    return text


def _checkin(circle: str | None, args: list[str]) -> c.Command:
    answers = tuple(_unquote(a) for a in " ".join(args).split("|"))
    return c.CheckInCommand(circle, answers if any(answers) else ())


def _commit(circle: str | None, args: list[str]) -> c.Command:
    text = _unquote(" ".join(args))
    if not text:
        raise ValueError("empty commitment")
    return c.Commit(circle, text)


STORY_STEPS = {
    "confirm": c.ConfirmStory,
    "withdraw": c.WithdrawStory,
    "approve": c.ApproveStory,
    "decline": c.DeclineStory,
}


def _share(circle: str | None, args: list[str]) -> c.Command:
    """``share [--named] <story>``, or a step such as ``share confirm 2``."""
    text = " ".join(args).strip()
    first, rest = (re.split(r"\s+", text, maxsplit=1) + [""])[:2]
    if first.lower() in STORY_STEPS:
        # A step takes a story number and nothing else; a story that starts with a step word is quoted.
        number = re.fullmatch(r"#?(\d{1,9})", rest)
        if number is None:
            raise ValueError("a story number")
        return STORY_STEPS[first.lower()](circle, int(number[1]))
    named = re.match(r"--named(\s+|$)", text)
    story = _unquote(text[named.end():] if named else text)
    if not story:
        raise ValueError("empty story")
    return c.Share(circle, story, named=bool(named))


def _export(circle: str | None, args: list[str]) -> c.Command:
    # About the person across all their circles, so no circle is named.
    if circle is not None or args:
        raise ValueError("no arguments")
    return c.Export()


def _signup(circle: str | None, args: list[str]) -> c.Command:
    """``signup``, ``signup cancel``, or ``signup <kit> <hours> [tz <zone>] [language <code>] [strangers|known]
    [moderate yes|no]``; the hours are the words left over: ``tue 17-20, thu 18-21``."""
    if circle is not None:
        raise ValueError("about the person, not a circle")
    words = (args[0] if args else "").split()
    if not words:
        return c.MySignup()
    if [w.lower() for w in words] == ["cancel"]:
        return c.LeavePool()
    kit, rest = words[0].lower(), words[1:]
    hours: list[str] = []
    options: dict = {}
    while rest:
        word = rest.pop(0)
        key = word.lower()
        if key in ("tz", "timezone", "zone") and rest:
            options["tz"] = parse_zone(rest.pop(0))
        elif key in ("language", "lang") and rest:
            options["language"] = parse_language(rest.pop(0))
        elif key in ("strangers", "known"):
            options["strangers"] = key == "strangers"
        elif key == "moderate":
            answer = rest.pop(0).lower() if rest and rest[0].lower() in ("yes", "no") else "yes"
            options["moderate"] = answer == "yes"
        else:
            hours.append(word)
    if not hours:
        raise ValueError("the hours")
    return c.SignUp(kit, parse_hours(" ".join(hours)), **options)


def _match(circle: str | None, args: list[str]) -> c.Command:
    """``match`` (now), ``match every <day> <HH:MM> [zone]``, ``match off``."""
    if circle is not None:
        raise ValueError("about the workspace, not a circle")
    match [a.lower() for a in args[:1]], args[1:]:
        case [], []:
            return c.Match()
        case ["off"], []:
            return c.MatchSchedule(None)
        case ["every"], [day, clock]:
            return c.MatchSchedule(parse_slot(day, clock))
        case ["every"], [day, clock, zone]:
            return c.MatchSchedule(parse_slot(day, clock), parse_zone(zone))
    raise ValueError("now, every <day> <HH:MM> or off")


def _hand_over(circle: str | None, args: list[str]) -> c.Command:
    """``moderator <member>`` offers the role; ``moderator accept|decline`` answers the offer."""
    if len(args) != 1:
        raise ValueError("name one member")
    if args[0].lower() in ("accept", "decline"):
        return c.AnswerHandOver(circle, yes=args[0].lower() == "accept")
    return c.HandOver(circle, args[0])


def _comod(circle: str | None, args: list[str]) -> c.Command:
    """``comod <member>``, ``comod remove <member>``."""
    match [a.lower() for a in args[:1]], args[1:]:
        case ["remove"], [member]:
            return c.CoModerator(circle, member, remove=True)
        case [_], []:
            return c.CoModerator(circle, args[0])
    raise ValueError("name one member")


def _words_after(cls: type) -> Callable[[str | None, list[str]], c.Command]:
    """A circle command whose argument is a few words, as typed (``faq how do I leave``)."""

    def build(circle: str | None, args: list[str]) -> c.Command:
        return cls(circle, " ".join(args).strip())

    return build


def _forget_me(circle: str | None, args: list[str]) -> c.Command:
    if circle is not None or [a.lower() for a in args] not in ([], ["confirm"]):
        raise ValueError("only confirm")
    return c.ForgetMe(confirmed=bool(args))


def _words(text: str) -> list[str]:
    """Split arguments like a shell, with typographic double quotes as quotes too."""
    return shlex.split(text.replace("\u201c", '"').replace("\u201d", '"'))


def _support(circle: str | None, args: list[str]) -> c.Command:
    """``support`` and its forms; only a shared date's label is prose (``Mum's birthday``)."""
    form, rest = (re.split(r"\s+", args[0], maxsplit=1) + [""])[:2] if args else ("", "")
    form = form.lower()
    if form == "date":
        day, label = (re.split(r"\s+", rest, maxsplit=1) + [""])[:2]
        return c.ShareDate(circle, date.fromisoformat(day), _unquote(label))
    words = _words(rest)
    choice = words[0].lower() if len(words) == 1 else None
    match form, words:
        case "", []:
            return c.AboutSupport(circle)
        case "open", []:
            return c.OpenSupport(circle)
        case "for", [member]:
            return c.ProposeSupport(circle, member)
        case ("yes" | "no"), []:
            return c.AnswerSupport(circle, yes=form == "yes")
        case "who", [_, *_] if choice in ("all", "everyone"):
            return c.ShareSupportWith(circle, ())
        case "who", [_, *_]:
            return c.ShareSupportWith(circle, tuple(words))
        case "reach", [_] if choice in ("message", "call"):
            return c.SetReach(circle, Reach(choice))
        case ("notnow", []) | ("not", ["now"]):
            return c.NotNow(circle, paused=True)
        case "resume", []:
            return c.NotNow(circle, paused=False)
        case "tell", [_] if choice == "circle":
            return c.TellCircle(circle)
        case "end", []:
            return c.EndSupport(circle)
        case "help", [member]:
            return c.OfferHelp(circle, member)
        case "stop", [member]:
            return c.StopHelping(circle, member)
    raise ValueError("unknown form of support")


SUBCOMMANDS: dict[str, Subcommand] = {
    s.name: s
    for s in (
        Subcommand("help", "help", _("show this list"), c.Help, lambda circle, args: c.Help()),
        Subcommand(
            "new",
            'new "<name>" <kit> <time zone> <day> <HH:MM> [places]',
            _("form a new circle that you moderate, e.g. new \"Tuesday crew\" career Europe/London tue 17:00"),
            c.NewCircle,
            _new,
        ),
        Subcommand(
            "list",
            "list [kit <kit>] [band americas|europe|asia|near] [language en|es|de] [day <weekday>] [after <circle>]",
            _("circles you can join, and your own; filter by kit, time-zone band, language or meeting day "
              "(in your time zone)"),
            c.ListCircles,
            _list,
        ),
        Subcommand(
            "stats",
            "stats",
            _("workspace admins: circles, completion and attendance here, in totals only"),
            c.Stats,
            lambda circle, args: c.Stats(),
        ),
        Subcommand("join", "join <circle>", _("join an open circle, or wait in line for a seat in a full one"),
                   c.Join, _join_like(c.Join)),
        Subcommand("leave", "leave [#circle]", _("leave a circle, or its waitlist"), c.Leave, _no_args(c.Leave)),
        Subcommand("info", "info [circle]", _("members, week and what comes next"), c.Info, _join_like(c.Info)),
        Subcommand("next", "next [#circle]", _("this week's exercise, your commitment, the next meeting"), c.Next, _no_args(c.Next)),
        Subcommand(
            "checkin",
            "checkin [#circle] [answer | answer | ...]",
            _("answer this week's check-in (no answers opens a form)"),
            c.CheckInCommand,
            _checkin,
            free_text=True,
        ),
        Subcommand(
            "commit",
            "commit [#circle] <what you will do before the next meeting>",
            _("record your commitment for the coming week"),
            c.Commit,
            _commit,
            free_text=True,
        ),
        Subcommand(
            "calendar",
            "calendar [#circle] [reset]",
            _("the circle's meetings as a calendar file in your time zone, and a private address that keeps it "
              "current (reset: a new address; the old one stops working)"),
            c.Calendar,
            _calendar,
        ),
        Subcommand("journal", "journal [#circle]", _("your own commitments and check-ins, week by week"), c.Journal, _no_args(c.Journal)),
        Subcommand(
            "progress",
            "progress [#circle]",
            _("the circle's progress card: everyone's check-ins, attendance and commitments, week by week"),
            c.Progress,
            _no_args(c.Progress),
        ),
        Subcommand(
            "struggling",
            "struggling [#circle] [a note for your moderator]",
            _("tell your moderator privately that this week is hard, and get support resources"),
            c.Struggling,
            _struggling,
            free_text=True,
        ),
        Subcommand(
            "report",
            "report [#circle] <member> [what happened]",
            _("report a member privately to the moderators and admins; they are not told"),
            c.Report,
            _report,
            free_text=True,
        ),
        Subcommand(
            "attended",
            "attended [#circle] [member ...]",
            _("record that you (or, as moderator, the members named) were at the last meeting"),
            c.Attended,
            _attended,
        ),
        Subcommand("rsvp", "rsvp [#circle] yes|no", _("say whether you will be at the next meeting"), c.Attend, _attend),
        Subcommand(
            "away",
            "away [#circle] <YYYY-MM-DD>|back",
            _("pause your reminders and DMs until a date (inclusive), or say you are back"),
            c.Away,
            _away,
        ),
        Subcommand(
            "share",
            "share [#circle] [--named] <story> | share [#circle] confirm|withdraw|approve|decline <number>",
            _("offer a story to the workspace's community channel; posted only when you and your moderator both approve"),
            c.Share,
            _share,
            free_text=True,
        ),
        Subcommand(
            "support",
            "support [#circle] [open | for <member> | yes | no | who all | who <member>... | reach message|call | "
            "date <YYYY-MM-DD> <what it is> | notnow | resume | tell circle | end | help <member> | stop <member>]",
            _(
                "care after a loss, an illness or a hard stretch, on your terms: see what it is (no argument), "
                "open it for yourself (open), suggest it for someone, or offer to help someone who opened it"
            ),
            c.OpenSupport,
            _support,
            free_text=True,
        ),
        Subcommand(
            "me",
            "me [timezone <Area/City> | language en|es|de]",
            _("your own time zone and language, used for every time and message you read here"),
            c.Me,
            _me,
        ),
        Subcommand(
            "signup",
            "signup [<kit> <hours, e.g. tue 17-20, thu 18-21> [tz <Area/City>] [language en|es|de] [strangers|known] "
            "[moderate yes|no] | cancel]",
            _(
                "ask to be matched with others into a new circle at hours you can meet; again to change it, "
                "cancel to leave the pool"
            ),
            c.SignUp,
            _signup,
            free_text=True,
        ),
        Subcommand(
            "match",
            "match [every <day> <HH:MM> [Area/City] | off]",
            _("workspace admins: match the people who signed up into circles now, or every week at a set time"),
            c.Match,
            _match,
        ),
        Subcommand(
            "faq",
            "faq [#circle] [words]",
            _("the kit's frequently asked questions, or the answer closest to your words"),
            c.Faq,
            _words_after(c.Faq),
            free_text=True,
        ),
        Subcommand(
            "guide",
            "guide [#circle] [section]",
            _("the kit's moderator guide, one section at a time"),
            c.Guide,
            _words_after(c.Guide),
            free_text=True,
        ),
        Subcommand("export", "export", _("everything stored about you, as a file only you receive"), c.Export, _export),
        Subcommand(
            "forget-me",
            "forget-me [confirm]",
            _("erase your answers and your name from every circle here (asks you to confirm first)"),
            c.ForgetMe,
            _forget_me,
        ),
        Subcommand("start", "start [#circle]", _("start the circle: week 1 begins at the next slot"), c.Start, _no_args(c.Start)),
        Subcommand("pause", "pause [#circle] [for <N>w]", _("pause the circle, optionally for N weeks"), c.Pause, _pause),
        Subcommand("resume", "resume [#circle]", _("resume a paused circle at the next slot"), c.Resume, _no_args(c.Resume)),
        Subcommand(
            "skip",
            "skip [#circle]",
            _("skip the next meeting (e.g. a holiday); later weeks move back one"),
            c.Skip,
            _no_args(c.Skip),
        ),
        Subcommand(
            "reschedule",
            "reschedule [#circle] <day> <HH:MM>",
            _("move the meeting slot from the next meeting on"),
            c.Reschedule,
            _reschedule,
        ),
        Subcommand("remove", "remove [#circle] <member>", _("remove a member from the circle"), c.Remove, _member_arg(c.Remove)),
        Subcommand(
            "moderator",
            "moderator [#circle] <member> | accept | decline",
            _("offer the moderator role to another member, who accepts or declines it"),
            c.HandOver,
            _hand_over,
        ),
        Subcommand(
            "comod",
            "comod [#circle] [remove] <member>",
            _("make a member co-moderator (they may run the moderator's commands), or remove them from the role"),
            c.CoModerator,
            _comod,
        ),
        Subcommand(
            "again",
            "again [#circle] [kit]",
            _("after graduation, form a new run (same or another kit) and invite the members back"),
            c.Again,
            _again,
        ),
        Subcommand(
            "space",
            "space [#circle] <channel>",
            _("meet in an existing channel instead of the private one made for the circle; its members are added"),
            c.UseSpace,
            _use_space,
        ),
        Subcommand(
            "place",
            "place [#circle] [<link or room> | clear]",
            _("where the circle meets: a video-call link or a room, shown in reminders, the weekly post and calendars "
              "(no argument: show it; clear: forget it)"),
            c.Place,
            _place,
            free_text=True,
        ),
        Subcommand(
            "merge",
            "merge [#circle] [<other circle> | accept|decline <other circle>]",
            _("ask another circle of the same kit and week to take in your small circle"),
            c.Merge,
            _merge,
        ),
        Subcommand("close", "close [#circle]", _("end the circle early; nothing more is posted"), c.Close, _no_args(c.Close)),
    )
}


#: Other words people use for a subcommand.
ALIASES = {"handover": "moderator"}


def usage(name: str) -> Text:
    return _("Usage: {usage}", usage=f"{PREFIX} {SUBCOMMANDS[name].usage}")


def parse(text: str) -> c.Command:
    """Parse one ``/circle ...`` line into a command.

    The line is cleaned first (see :func:`bot.text.clean`), so no argument
    carries a character that cannot be stored.

    Raises:
        UsageError: unknown subcommand, malformed arguments or an oversized
            line; the message has the usage line (or, for an unknown
            subcommand, points to ``help``).
        CircleError: well-formed but invalid values (unknown weekday, ...).
    """
    text = clean(text).strip()
    if text.lower().startswith(PREFIX):
        text = text[len(PREFIX):]
    name, rest = (re.split(r"\s+", text.strip(), maxsplit=1) + [""])[:2]
    circle = None
    if name.startswith("#") and len(name) > 1:
        # The circle may come first, as people say it: ``/circle #crew info``.
        circle = name[1:]
        name, rest = (re.split(r"\s+", rest.strip(), maxsplit=1) + [""])[:2]
    if not name:
        return c.Help()
    name = ALIASES.get(name.lower(), name.lower())
    sub = SUBCOMMANDS.get(name)
    if sub is None:
        raise UsageError(
            _("I don't know \u201c{name}\u201d. Try {help} for the list of commands.", name=name, help=hint("help"))
        )
    rest = rest.strip()
    if circle is None and rest.startswith("#") and len(rest) > 1:
        ref, rest = (re.split(r"\s+", rest, maxsplit=1) + [""])[:2]
        circle = ref[1:]
    if sub.free_text:
        # Answers are prose: an apostrophe in "I'll call Sam" is not a quote.
        args = [rest] if rest else []
    else:
        try:
            args = _words(rest)
        except ValueError:
            raise UsageError(_("I could not read that: a quote is not closed. {usage}", usage=usage(name))) from None
    try:
        return sub.build(circle, args)
    except CircleError:
        raise
    except ValueError:
        raise UsageError(usage(name)) from None
