"""The ``/circle`` command grammar (bot/grammar.py): every subcommand, good and bad input."""

from __future__ import annotations

from datetime import date, time

import pytest

from bot import commands as c
from bot.circle import Reach, Slot
from bot.errors import CircleError, UsageError
from bot.grammar import PREFIX, SUBCOMMANDS, parse, usage
from bot.i18n import render
from bot.matching import parse_hours
from bot.messages import help_message
from bot.timetable import WEEKDAYS

TUE_1700 = Slot(1, time(17, 0))


def usage_line(name: str) -> str:
    return f"{PREFIX} {SUBCOMMANDS[name].usage}"


def error_text(text: str, expected: type[CircleError] = CircleError) -> str:
    with pytest.raises(expected) as caught:
        parse(text)
    return render(caught.value.text)


# ---------------------------------------------------------------- valid forms

VALID = [
    # help and bare prefix
    ("help", c.Help()),
    ("/circle help", c.Help()),
    ("/circle", c.Help()),
    # the person's own settings
    ("me", c.Me()),
    ("me timezone Europe/Berlin", c.Me(tz="Europe/Berlin")),
    ("me language es-ES", c.Me(locale="es")),
    ("", c.Help()),
    ("/CIRCLE HELP", c.Help()),
    # new
    ('new "Tuesday crew" career Europe/London tue 17:00', c.NewCircle("Tuesday crew", "career", "Europe/London", TUE_1700, None)),
    ('/circle new "Tuesday crew" CAREER Europe/London Tuesday 17:00 4', c.NewCircle("Tuesday crew", "career", "Europe/London", TUE_1700, 4)),
    ("new \u201cTuesday crew\u201d career Europe/London tue 17:00", c.NewCircle("Tuesday crew", "career", "Europe/London", TUE_1700, None)),
    ("new 'Early birds' starter Asia/Tokyo mon 08:30 2", c.NewCircle("Early birds", "starter", "Asia/Tokyo", Slot(0, time(8, 30)), 2)),
    ("new Solo after-loss UTC sun 20:15 8", c.NewCircle("Solo", "after-loss", "UTC", Slot(6, time(20, 15)), 8)),
    # list
    ("list", c.ListCircles()),
    # join / info: the circle is named with or without '#'
    ("join career", c.Join("career")),
    ("join #career", c.Join("career")),
    ("/circle join #career", c.Join("career")),
    ("join", c.Join(None)),
    ("info", c.Info(None)),
    ("info career", c.Info("career")),
    ("info #career", c.Info("career")),
    # the circle may come first
    ("/circle #career info", c.Info("career")),
    ("#Career start", c.Start("Career")),
    ("#career checkin Good week | Call Sam", c.CheckInCommand("career", ("Good week", "Call Sam"))),
    # leave / next / start / resume / skip / close: optional #circle, nothing else
    ("leave", c.Leave(None)),
    ("leave #career", c.Leave("career")),
    ("next", c.Next(None)),
    ("next #career", c.Next("career")),
    ("start", c.Start(None)),
    ("start #career", c.Start("career")),
    ("resume", c.Resume(None)),
    ("resume #career", c.Resume("career")),
    ("skip", c.Skip(None)),
    ("skip #career", c.Skip("career")),
    ("close", c.Close(None)),
    ("space <#C0ROOM|our-room>", c.UseSpace(None, "C0ROOM")),
    ("space #crew 123456789012345678", c.UseSpace("crew", "123456789012345678")),
    ("close #career", c.Close("career")),
    # checkin
    ("checkin", c.CheckInCommand(None, ())),
    ("checkin #career", c.CheckInCommand("career", ())),
    ("checkin Good week | Sent two emails | Call Sam", c.CheckInCommand(None, ("Good week", "Sent two emails", "Call Sam"))),
    ("checkin #career a|b", c.CheckInCommand("career", ("a", "b"))),
    # check-in answers and commitments are prose: apostrophes and inner quotes stay,
    # quotes around a whole answer go
    ('checkin "fine, thanks" | more', c.CheckInCommand(None, ("fine, thanks", "more"))),
    ('checkin \u201cok\u201d | I said "no"', c.CheckInCommand(None, ("ok", 'I said "no"'))),
    ("checkin I don't know | Sam's talk", c.CheckInCommand(None, ("I don't know", "Sam's talk"))),
    ("checkin #career   spaced   out  |  x", c.CheckInCommand("career", ("spaced   out", "x"))),
    ("checkin a | | c", c.CheckInCommand(None, ("a", "", "c"))),
    ("checkin |", c.CheckInCommand(None, ())),
    # commit
    ("commit Email three people", c.Commit(None, "Email three people")),
    ("commit #career Email three people", c.Commit("career", "Email three people")),
    ("commit \u201cread the book\u201d", c.Commit(None, "read the book")),
    ('commit "read the book"', c.Commit(None, "read the book")),
    ("commit I'll call Sam", c.Commit(None, "I'll call Sam")),
    ("/circle commit #career I'll call \"Sam\"", c.Commit("career", "I'll call \"Sam\"")),
    ("commit I\u2019ll call Sam", c.Commit(None, "I\u2019ll call Sam")),
    # away
    ("away 2026-12-24", c.Away(None, date(2026, 12, 24))),
    ("away #career 2027-01-03", c.Away("career", date(2027, 1, 3))),
    ("away back", c.Away(None, None)),
    ("away OFF", c.Away(None, None)),
    # again
    ("again", c.Again(None, None)),
    ("again #career Starter", c.Again("career", "starter")),
    # journal, struggling, attended
    ("journal", c.Journal(None)),
    ("journal #career", c.Journal("career")),
    # progress (a member's view of the circle), stats (a workspace admin's totals)
    ("progress", c.Progress(None)),
    ("progress #career", c.Progress("career")),
    ("stats", c.Stats()),
    ("struggling", c.Struggling(None, "")),
    ("report cleo", c.Report(None, "cleo")),
    ("merge #crew other", c.Merge("crew", "other")),
    ("merge #crew", c.Merge("crew")),
    ("merge #crew decline #small", c.AnswerMerge("crew", "small", yes=False)),
    ("report #career <@U1> \"shouted\" at me", c.Report("career", "<@U1>", '"shouted" at me')),
    ("struggling #career it's been a rough week", c.Struggling("career", "it's been a rough week")),
    ("attended", c.Attended(None, ())),
    ("attended ben @cleo", c.Attended(None, ("ben", "@cleo"))),
    # share: a story (prose, anonymous unless --named) or a step on story <number>
    ("share I asked for help, and it worked", c.Share(None, "I asked for help, and it worked")),
    ("share #career --named \u201cI'll keep going\u201d", c.Share("career", "I'll keep going", named=True)),
    ("share confirm 2", c.ConfirmStory(None, 2)),
    ("share #career withdraw #2", c.WithdrawStory("career", 2)),
    ("share APPROVE 3", c.ApproveStory(None, 3)),
    ("share decline 3", c.DeclineStory(None, 3)),
    ("share \"approve 3 of them\"", c.Share(None, "approve 3 of them")),
    ("share confirm 99999", c.ConfirmStory(None, 99999)),
    # export, forget-me: about the person, in no one circle
    ("export", c.Export()),
    ("forget-me", c.ForgetMe()),
    ("forget-me Confirm", c.ForgetMe(confirmed=True)),
    # rsvp
    ("rsvp yes", c.Attend(None, going=True)),
    ("rsvp #career No", c.Attend("career", going=False)),
    # pause
    ("pause", c.Pause(None)),
    ("pause #career", c.Pause("career")),
    ("pause for 2w", c.Pause(None, weeks=2)),
    ("pause 3w", c.Pause(None, weeks=3)),
    ("pause #career for 26W", c.Pause("career", weeks=26)),
    ("pause for 1 w", c.Pause(None, weeks=1)),
    # reschedule
    ("reschedule wed 18:30", c.Reschedule(None, Slot(2, time(18, 30)))),
    ("reschedule #career Friday 07:05", c.Reschedule("career", Slot(4, time(7, 5)))),
    # remove / moderator
    ("remove ben", c.Remove(None, "ben")),
    ("remove #career ben", c.Remove("career", "ben")),
    ('remove "Ben Okafor"', c.Remove(None, "Ben Okafor")),
    ("moderator cleo", c.HandOver(None, "cleo")),
    ("moderator #career \u201cCleo M\u201d", c.HandOver("career", "Cleo M")),
    ("handover cleo", c.HandOver(None, "cleo")),
    ("moderator accept", c.AnswerHandOver(None, yes=True)),
    ("moderator #career Decline", c.AnswerHandOver("career", yes=False)),
    ("comod cleo", c.CoModerator(None, "cleo")),
    ("comod #career remove cleo", c.CoModerator("career", "cleo", remove=True)),
    # the kit's help
    ("faq", c.Faq(None, "")),
    ("faq #career how do I leave?", c.Faq("career", "how do I leave?")),
    ("guide", c.Guide(None, "")),
    ("guide 2", c.Guide(None, "2")),
    ("guide #career keeping time", c.Guide("career", "keeping time")),
    # the pool, and matching
    ("signup", c.MySignup()),
    ("signup cancel", c.LeavePool()),
    ("signup starter tue 17-20, thu 18-21", c.SignUp("starter", parse_hours("tue 17-20, thu 18-21"))),
    (
        "signup Career thu 18:30-21 tz Europe/Berlin language de known moderate",
        c.SignUp("career", parse_hours("thu 18:30-21"), "Europe/Berlin", "de", strangers=False, moderate=True),
    ),
    ("signup starter moderate no tue 17-20 strangers", c.SignUp("starter", parse_hours("tue 17-20"))),
    ("match", c.Match()),
    ("match off", c.MatchSchedule(None)),
    ("match every mon 09:00", c.MatchSchedule(Slot(0, time(9, 0)))),
    ("match every Monday 09:00 Europe/London", c.MatchSchedule(Slot(0, time(9, 0)), "Europe/London")),
    # support: the member's own forms, a peer's suggestion, and helping
    ("support", c.AboutSupport(None)),
    ("support #career", c.AboutSupport("career")),
    ("support open", c.OpenSupport(None)),
    ("#career support OPEN", c.OpenSupport("career")),
    ("support for ben", c.ProposeSupport(None, "ben")),
    ("support #career for \u201cBen Okafor\u201d", c.ProposeSupport("career", "Ben Okafor")),
    ("support yes", c.AnswerSupport(None, yes=True)),
    ("support #career No", c.AnswerSupport("career", yes=False)),
    ("support who all", c.ShareSupportWith(None, ())),
    ("support who Everyone", c.ShareSupportWith(None, ())),
    ("support who ben 'Cleo M'", c.ShareSupportWith(None, ("ben", "Cleo M"))),
    ("support reach call", c.SetReach(None, Reach.CALL)),
    ("support reach Message", c.SetReach(None, Reach.MESSAGE)),
    ("support notnow", c.NotNow(None, paused=True)),
    ("support not now", c.NotNow(None, paused=True)),
    ("support resume", c.NotNow(None, paused=False)),
    ("support date 2027-03-04 Mum's birthday", c.ShareDate(None, date(2027, 3, 4), "Mum's birthday")),
    ("support #career date 2027-12-25 \u201cthe first Christmas\u201d", c.ShareDate("career", date(2027, 12, 25), "the first Christmas")),
    ("support date 2027-03-04", c.ShareDate(None, date(2027, 3, 4), "")),
    ("support tell circle", c.TellCircle(None)),
    ("support end", c.EndSupport(None)),
    ("support help ben", c.OfferHelp(None, "ben")),
    ("support #career stop ben", c.StopHelping("career", "ben")),
    # meeting place and calendar
    ("place", c.Place(None)),
    ("place #career https://meet.example.com/career?pwd=1", c.Place("career", "https://meet.example.com/career?pwd=1")),
    ("place Room 4.12, second floor", c.Place(None, "Room 4.12, second floor")),
    ("place \u201cThe Oak Room\u201d", c.Place(None, "The Oak Room")),
    ("place clear", c.Place(None, "")),
    ("#career place None", c.Place("career", "")),
    ("calendar", c.Calendar(None)),
    ("calendar #career reset", c.Calendar("career", reset=True)),
]


@pytest.mark.parametrize(("text", "expected"), VALID, ids=[v[0] or "<empty>" for v in VALID])
def test_valid_forms(text, expected):
    assert parse(text) == expected


def test_every_subcommand_has_a_valid_example():
    covered = {type(expected) for _, expected in VALID}
    assert {sub.command for sub in SUBCOMMANDS.values()} <= covered


# ---------------------------------------------------------------- malformed: usage line

MALFORMED = [
    ("new Crew career Europe/London tue", "new"),  # missing time
    ('new "Crew" career Europe/London tue 17:00 5 extra', "new"),
    ("new #crew career Europe/London tue 17:00", "new"),
    ("new Crew career Europe/London tue 17:00 five", "new"),
    ("join a b", "join"),
    ("join #a b", "join"),
    ("info a b", "info"),
    ("leave now", "leave"),
    ("leave #career now", "leave"),
    ("next week", "next"),
    ("signup starter", "signup"),
    ("signup #crew starter tue 17-20", "signup"),
    ("match now please", "match"),
    ("match every mon", "match"),
    ("comod", "comod"),
    ("comod a b", "comod"),
    ("moderator", "moderator"),
    ("start now", "start"),
    ("resume please", "resume"),
    ("skip this", "skip"),
    ("close it", "close"),
    ("commit", "commit"),
    ("commit #career", "commit"),
    ("reschedule tue", "reschedule"),
    ("reschedule tue 17:00 weekly", "reschedule"),
    ("remove", "remove"),
    ("remove ben cleo", "remove"),
    ("moderator", "moderator"),
    ("moderator #career", "moderator"),
    ("away", "away"),
    ("rsvp", "rsvp"),
    ("journal extra", "journal"),
    ("progress everyone", "progress"),
    ("rsvp maybe", "rsvp"),
    ("away #career", "away"),
    ("away tomorrow", "away"),
    ("away 2026-13-01", "away"),
    ("away 2026-12-24 2026-12-31", "away"),
    ("pause for", "pause"),
    ("pause forever", "pause"),
    ("pause 0w", "pause"),
    ("pause 27w", "pause"),
    ("pause 2 weeks", "pause"),
    ("pause 100w", "pause"),
    ("pause -1w", "pause"),
    ("share", "share"),
    ("support maybe", "support"),
    ("support for", "support"),
    ("support for ben cleo", "support"),
    ("support yes please", "support"),
    ("support who", "support"),
    ("support reach phone", "support"),
    ("support not", "support"),
    ("support date", "support"),
    ("support date 2027-02-30 leap", "support"),
    ("support date someday birthday", "support"),
    ("support tell everyone", "support"),
    ("support end now", "support"),
    ("support help", "support"),
    ("support stop 'ben", "support"),
    ("share --named", "share"),
    ("#career info #other", "info"),
    ("#career join other", "join"),
    ("share withdraw -1", "share"),
    ("share confirm", "share"),
    ("share approve 3 of them", "share"),
    ("share decline two", "share"),
    ("share confirm 1234567890", "share"),
    ("export #career", "export"),
    ("export everything", "export"),
    ("forget-me now", "forget-me"),
    ("forget-me #career confirm", "forget-me"),
    ("calendar now", "calendar"),
    ("calendar reset please", "calendar"),
]


@pytest.mark.parametrize(("text", "name"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_arguments_raise_usage_with_the_usage_line(text, name):
    text_out = error_text(text, UsageError)
    assert text_out == f"Usage: {usage_line(name)}"
    assert text_out == render(usage(name))


@pytest.mark.parametrize("text", ["frobnicate", "/circle joinn career", "stop"])
def test_unknown_subcommand_points_to_help(text):
    out = error_text(text, UsageError)
    word = text.split()[-2] if text.startswith("/circle") else text.split()[0]
    assert f"\u201c{word}\u201d" in out
    assert f"{PREFIX} help" in out


# ---------------------------------------------------------------- invalid values: valid choices

@pytest.mark.parametrize(
    "text",
    [
        "reschedule someday 17:00",
        "reschedule 3 17:00",
        "reschedule tu 17:00",
        "reschedule mon1 17:00",
        "new Crew career Europe/London funday 17:00",
    ],
)
def test_bad_weekday_lists_the_weekdays(text):
    out = error_text(text)
    assert out.startswith("Unknown weekday")
    assert ", ".join(WEEKDAYS) in out


@pytest.mark.parametrize("day", ["monkey", "sunny", "thuggish", "tues", "Mondays"])
def test_words_that_merely_start_like_a_weekday_are_refused(day):
    out = error_text(f"reschedule {day} 17:00")
    assert ", ".join(WEEKDAYS) in out


@pytest.mark.parametrize("clock", ["25:00", "17:60", "17", "5pm", "17.00", "17:00:00", "ab:cd", ":"])
def test_bad_time_names_the_format(clock):
    out = error_text(f"reschedule tue {clock}")
    assert out == f"Unknown time \u201c{clock}\u201d. Use 24-hour HH:MM, e.g. 17:00 or 08:30."


@pytest.mark.parametrize("places", ["five", "4.5", "-"])
def test_places_that_are_not_a_number_are_a_usage_error(places):
    # How many places a kit allows is the kit's to say (see test_engine).
    assert error_text(f"new Crew career UTC tue 17:00 {places}", UsageError) == f"Usage: {usage_line('new')}"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("place javascript:alert(1)", "Only http and https links"),
        ("place ftp://files.example.com/room", "Only http and https links"),
        ("place data:text/html,<b>hi</b>", "Only http and https links"),
        ("place https://", "not one I can use"),
        ("place https://meet.example.com:99999/crew", "not one I can use"),
        ("place https://meet.example.com/a b", "not one I can use"),
        ('place https://meet.example.com/"crew"', "not one I can use"),
        ("place https://meet.example.com/" + "a" * 500, "at most 500 characters"),
        ("place " + "Room " * 21, "at most 100 characters"),
        ("place <!channel> room", "cannot hold < or >"),
        ("place Room\u2028Two", "one line of plain text"),
        ("place Room\u200bTwo", "one line of plain text"),
    ],
)
def test_a_place_that_is_not_a_safe_link_or_a_room_is_refused_saying_why(text, says):
    assert says in error_text(text)


def test_bad_value_errors_are_not_usage_errors():
    """A well-formed command with an unknown weekday is a CircleError, not a UsageError."""
    with pytest.raises(CircleError) as caught:
        parse("reschedule someday 17:00")
    assert not isinstance(caught.value, UsageError)


# ---------------------------------------------------------------- quotes and separators

@pytest.mark.parametrize(
    ("text", "name"),
    [
        ('new "Tuesday crew career UTC tue 17:00', "new"),
        ("remove 'ben", "remove"),
        ("moderator #career \u201ccleo", "moderator"),
        ("join 'career", "join"),
    ],
)
def test_unclosed_quote_is_a_usage_error_with_the_usage_line(text, name):
    out = error_text(text, UsageError)
    assert "quote is not closed" in out
    assert usage_line(name) in out


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("commit\nCall Sam", c.Commit(None, "Call Sam")),
        ("checkin\ta | b", c.CheckInCommand(None, ("a", "b"))),
        ("join\tcareer", c.Join("career")),
    ],
)
def test_any_whitespace_separates_the_subcommand(text, expected):
    assert parse(text) == expected


# ---------------------------------------------------------------- help

def test_help_lists_every_subcommand_once():
    lines = [render(line) for line in help_message().lines]
    assert len(lines) == len(SUBCOMMANDS)
    for name, sub in SUBCOMMANDS.items():
        matching = [line for line in lines if line.startswith(f"{PREFIX} {sub.usage} \u2014 ")]
        assert len(matching) == 1, name


def test_help_marks_moderator_commands():
    lines = {name: render(line) for name, line in zip(SUBCOMMANDS, help_message().lines)}
    moderator_only = {"start", "pause", "resume", "skip", "reschedule", "remove", "moderator", "comod", "close", "again", "space",
                      "place", "merge"}
    assert {name for name, sub in SUBCOMMANDS.items() if sub.moderator_only} == moderator_only
    for name, line in lines.items():
        assert line.endswith("(moderator)") == (name in moderator_only), line


def test_usage_lines_start_with_the_subcommand_name():
    for name, sub in SUBCOMMANDS.items():
        assert sub.usage.split()[0] == name
