"""Sharing a story beyond the circle: only when both the author and the moderator say yes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from decisions import without_home_refresh

from adapters.console.render import effect_lines
from bot.actions import Action, Verb
from bot import commands as c
from bot import engine
from bot.circle import StoryStatus
from bot.effects import DELIVERY_TYPES, DirectMessage, PostToCircle, PostToCommunity, Reply
from bot.errors import CircleError, UsageError
from bot.grammar import parse
from bot.i18n import render
from storage.codec import dump_delivery, load_delivery


@pytest.fixture
def kit(kits):
    return kits["career"]


@pytest.fixture
def circle(started_circle):
    return started_circle()


@pytest.fixture
def ben(members):
    return members[0]



@pytest.fixture
def say(kit, t0):
    """``say(circle, person, command)``: the decision; a refused command raises."""

    def run(circle, person, command):
        return without_home_refresh(engine.handle(circle, command, person, t0 + timedelta(hours=1), kit))

    return run


def of_type(decision, cls):
    return [e for e in decision.effects if isinstance(e, cls)]


def refusal(say, *args) -> str:
    """What a refused command tells the person, in English."""
    with pytest.raises(CircleError) as refused:
        say(*args)
    return render(refused.value.text)


def lines(message) -> list[str]:
    return [render(line) for line in ((message.title,) if message.title else ()) + message.lines]


STORY = "Asking for help turned out to be a strength."


def test_nothing_is_posted_until_the_author_confirms_and_the_moderator_approves(circle, ben, moderator, say):
    drafted = say(circle, ben, c.Share(None, STORY))
    [preview] = of_type(drafted, Reply)
    assert not of_type(drafted, DELIVERY_TYPES)  # a draft is the author's alone
    assert [b.action for b in preview.message.buttons] == [Action(Verb.STORY_CONFIRM, circle.id, item="1"), Action(Verb.STORY_WITHDRAW, circle.id, item="1")]

    confirmed = say(drafted.circle, ben, c.ConfirmStory(None, 1))
    [to_moderator] = of_type(confirmed, DirectMessage)
    assert to_moderator.to == moderator.user and STORY in " ".join(lines(to_moderator.message))
    assert not of_type(confirmed, PostToCircle) and not of_type(confirmed, PostToCommunity)
    assert [b.action for b in to_moderator.message.buttons] == [Action(Verb.STORY_APPROVE, circle.id, item="1"), Action(Verb.STORY_DECLINE, circle.id, item="1")]

    approved = say(confirmed.circle, moderator, c.ApproveStory(None, 1))
    [post] = of_type(approved, PostToCommunity)
    [told] = of_type(approved, DirectMessage)
    assert told.to == ben.user and "now posted" in render(told.message.lines[0])
    assert approved.circle.stories[0].status is StoryStatus.POSTED
    # The preview showed exactly what was posted, line for line.
    assert [f"\u250a {line}" for line in lines(post.message)] == [line for line in lines(preview.message) if line.startswith("\u250a")]
    assert not of_type(approved, PostToCircle)


def test_the_post_is_anonymous_unless_the_author_asks_to_be_named(circle, ben, moderator, say):
    for named, credit in ((False, "\u2014 shared anonymously by a circle member"), (True, "\u2014 ben")):
        decision = say(circle, ben, c.Share(None, STORY, named=named))
        decision = say(decision.circle, ben, c.ConfirmStory(None, 1))
        [post] = of_type(say(decision.circle, moderator, c.ApproveStory(None, 1)), PostToCommunity)
        assert lines(post.message)[1:] == [STORY, credit]


def test_the_moderator_cannot_see_or_approve_a_draft(circle, ben, moderator, say):
    drafted = say(circle, ben, c.Share(None, STORY))
    assert "No story 1 is waiting" in refusal(say, drafted.circle, moderator, c.ApproveStory(None, 1))


def test_withdrawing_a_draft_or_a_pending_story_posts_nothing_and_erases_it(circle, ben, moderator, say):
    drafted = say(circle, ben, c.Share(None, STORY))
    quietly = say(drafted.circle, ben, c.WithdrawStory(None, 1))
    assert not of_type(quietly, DELIVERY_TYPES)
    assert quietly.circle.stories[0].status is StoryStatus.WITHDRAWN and quietly.circle.stories[0].text == ""

    pending = say(say(quietly.circle, ben, c.Share(None, STORY)).circle, ben, c.ConfirmStory(None, 2))
    withdrawn = say(pending.circle, ben, c.WithdrawStory(None, 2))
    [notice] = of_type(withdrawn, DirectMessage)
    assert notice.to == moderator.user and "withdrew story 2" in render(notice.message.lines[0])
    assert not of_type(withdrawn, PostToCommunity)
    assert "No story 2 is waiting" in refusal(say, withdrawn.circle, moderator, c.ApproveStory(None, 2))
    assert "Story 2 is withdrawn" in refusal(say, withdrawn.circle, ben, c.ConfirmStory(None, 2))


def test_a_declined_story_is_told_only_to_its_author(circle, ben, moderator, say):
    pending = say(say(circle, ben, c.Share(None, STORY)).circle, ben, c.ConfirmStory(None, 1))
    declined = say(pending.circle, moderator, c.DeclineStory(None, 1))
    assert [(type(e), getattr(e, "to", None)) for e in declined.effects if isinstance(e, DELIVERY_TYPES)] == [
        (DirectMessage, ben.user)
    ]
    assert declined.circle.stories[0].status is StoryStatus.DECLINED and declined.circle.stories[0].text == ""
    assert "Story 1 is declined" in refusal(say, declined.circle, ben, c.WithdrawStory(None, 1))


def test_a_posted_story_can_no_longer_be_withdrawn(circle, ben, moderator, say):
    pending = say(say(circle, ben, c.Share(None, STORY)).circle, ben, c.ConfirmStory(None, 1))
    posted = say(pending.circle, moderator, c.ApproveStory(None, 1))
    assert "Story 1 is already posted" in refusal(say, posted.circle, ben, c.WithdrawStory(None, 1))


def test_strangers_others_and_admins_are_refused(circle, ben, members, moderator, actor, say):
    cleo, stranger, admin = members[1], actor("zed"), actor("root", admin=True)
    assert "not a member" in refusal(say, circle, stranger, c.Share(None, STORY))
    drafted = say(circle, ben, c.Share(None, STORY))
    for person in (cleo, moderator):
        assert "You have no story 1" in refusal(say, drafted.circle, person, c.ConfirmStory(None, 1))
        assert "You have no story 1" in refusal(say, drafted.circle, person, c.WithdrawStory(None, 1))
    pending = say(drafted.circle, ben, c.ConfirmStory(None, 1))
    # The story was entrusted to the moderator: neither another member nor a workspace admin decides.
    for person in (cleo, ben, admin, stranger):
        assert "Only the moderator" in refusal(say, pending.circle, person, c.ApproveStory(None, 1))
        assert "Only the moderator" in refusal(say, pending.circle, person, c.DeclineStory(None, 1))


def test_a_step_on_a_story_that_does_not_exist_makes_no_draft(circle, ben, say):
    for line in ("share confirm 99999", "share withdraw 7"):
        assert refusal(say, circle, ben, parse(line)).startswith("You have no story")
    with pytest.raises(UsageError):
        parse("share withdraw -1")


def test_stories_are_numbered_per_circle_and_a_closed_circle_takes_none(circle, ben, members, moderator, say):
    first = say(circle, ben, c.Share(None, "one"))
    second = say(first.circle, members[1], c.Share(None, "two"))
    assert [(s.number, s.text) for s in second.circle.stories] == [(1, "one"), (2, "two")]
    closed = say(second.circle, moderator, c.Close(None)).circle
    assert "closed" in refusal(say, closed, ben, c.Share(None, STORY))


def test_a_community_post_survives_the_outbox_and_the_console_shows_where_it_goes(circle, ben, moderator, say):
    pending = say(say(circle, ben, c.Share(None, STORY)).circle, ben, c.ConfirmStory(None, 1))
    [post] = of_type(say(pending.circle, moderator, c.ApproveStory(None, 1)), PostToCommunity)
    assert load_delivery(*dump_delivery(post)) == post
    header, body = effect_lines(post, "en", handle_of=lambda circle_id: circle.handle)
    assert header == "#community" and body[1] == STORY
