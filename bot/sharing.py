"""Sharing a story beyond the circle, opt-in only.

A story leaves the circle only when both its author and the moderator say yes:

    share <story> --> draft --confirm (author)--> pending --approve (moderator)--> posted
                        |                           |----decline (moderator)--> declined
                        +--withdraw (author)--------+----withdraw (author)----> withdrawn

Only the author sees a draft; only the author and the moderator see a pending
story (the moderator by DM, never in the circle's space). The post names the
author only if they shared it with ``--named``. A withdrawn or declined story's
text is erased: it has nowhere left to go.
"""

from __future__ import annotations

from dataclasses import replace

from bot import commands as c
from bot import messages as m
from bot.checkins import MAX_ANSWER
from bot.circle import Circle, Member, Role, Story, StoryStatus, UserRef
from bot.decision import Context, Out, require_member, require_state
from bot.effects import PostToCommunity
from bot.errors import CircleError

from bot.i18n import _, hint
from bot.state import State

STATUS_NAMES = {
    StoryStatus.DRAFT: _("a draft"),
    StoryStatus.PENDING: _("waiting for the moderator"),
    StoryStatus.POSTED: _("already posted"),
    StoryStatus.DECLINED: _("declined"),
    StoryStatus.WITHDRAWN: _("withdrawn"),
}


def _story(circle: Circle, number: int) -> Story | None:
    return next((s for s in circle.stories if s.number == number), None)


def _with_story(circle: Circle, story: Story) -> Circle:
    return replace(circle, stories=tuple(story if s.number == story.number else s for s in circle.stories))


def _own_story(circle: Circle, cmd: c.StoryStep, ctx: Context, allowed: tuple[StoryStatus, ...]) -> tuple[Story, Member]:
    """The actor's story ``cmd.number``, in one of the ``allowed`` states, and the actor as a member."""
    member = require_member(circle, ctx)
    story = _story(circle, cmd.number)
    if story is None or story.user != member.user:
        raise CircleError(_("You have no story {number} in \u201c{name}\u201d.", number=cmd.number, name=circle.name))
    if story.status not in allowed:
        raise CircleError(_("Story {number} is {status}.", number=story.number, status=STATUS_NAMES[story.status]))
    return story, member


def _pending_for_moderator(circle: Circle, cmd: c.StoryStep, ctx: Context) -> tuple[Story, Member]:
    """Confirmed story ``cmd.number``, for the circle's own moderator to decide on, and its author.

    A workspace admin does not decide: the story was entrusted to the moderator alone.
    """
    member = circle.member(ctx.actor.user)
    if member is None or member.role is not Role.MODERATOR:
        raise CircleError(_("Only the moderator of \u201c{name}\u201d decides which stories leave it.", name=circle.name))
    story = _story(circle, cmd.number)
    author = circle.member(story.user) if story else None
    if story is None or story.status is not StoryStatus.PENDING or author is None:
        raise CircleError(_("No story {number} is waiting for you in \u201c{name}\u201d.", number=cmd.number, name=circle.name))
    return story, author


def _share(circle: Circle, cmd: c.Share, ctx: Context, out: Out) -> Circle:
    member = require_member(circle, ctx)
    require_state(
        circle, (State.FORMING, State.ACTIVE, State.PAUSED, State.GRADUATED, State.FOLLOWING_UP), _("share a story")
    )
    if len(cmd.text) > MAX_ANSWER:
        raise CircleError(_("Please keep a story under {max} characters.", max=MAX_ANSWER))
    number = max((s.number for s in circle.stories), default=0) + 1
    story = Story(number, member.user, cmd.text, cmd.named, StoryStatus.DRAFT, ctx.now)
    out.reply(ctx.actor.user, m.story_preview(circle, story, m.community_post(story, member.name)))
    return replace(circle, stories=(*circle.stories, story))


def _confirm(circle: Circle, cmd: c.ConfirmStory, ctx: Context, out: Out) -> Circle:
    draft, author = _own_story(circle, cmd, ctx, (StoryStatus.DRAFT,))
    story = replace(draft, status=StoryStatus.PENDING)
    moderator = circle.moderator
    if moderator is None:
        raise CircleError(_("\u201c{name}\u201d has no moderator to approve a story right now.", name=circle.name))
    post = m.community_post(story, author.name)
    out.dm(moderator.user, m.story_for_moderator(circle, story, author.name, post), suffix=f"story/{story.number}")
    out.reply(
        ctx.actor.user,
        m.plain(
            _("Story {number} is with your moderator, {name}. Nothing is posted unless they approve.", number=story.number, name=moderator.name),
            _("You can still take it back with {command}.", command=hint("share", "withdraw", str(story.number), circle=circle.handle)),
        ),
    )
    return _with_story(circle, story)


def _withdraw(circle: Circle, cmd: c.WithdrawStory, ctx: Context, out: Out) -> Circle:
    story, author = _own_story(circle, cmd, ctx, (StoryStatus.DRAFT, StoryStatus.PENDING))
    moderator = circle.moderator
    if story.status is StoryStatus.PENDING and moderator and moderator.user != story.user:
        out.dm(
            moderator.user,
            m.plain(_("{name} withdrew story {number}; nothing will be posted.", name=author.name, number=story.number)),
            suffix=f"story/{story.number}/withdrawn",
        )
    out.reply(ctx.actor.user, m.plain(_("Story {number} is withdrawn. Nothing was posted, and its text is erased.", number=story.number)))
    return _with_story(circle, replace(story, status=StoryStatus.WITHDRAWN, text=""))


def _approve(circle: Circle, cmd: c.ApproveStory, ctx: Context, out: Out) -> Circle:
    story, author = _pending_for_moderator(circle, cmd, ctx)
    post = m.community_post(story, author.name)
    out.add(lambda key: PostToCommunity(key, circle.id, post))
    out.dm(
        story.user,
        m.plain(_("Your story {number} is now posted in the workspace's community channel. Thank you for sharing it.", number=story.number)),
        suffix=f"story/{story.number}/posted",
    )
    out.reply(ctx.actor.user, m.plain(_("Story {number} is posted in the community channel.", number=story.number)))
    return _with_story(circle, replace(story, status=StoryStatus.POSTED))


def _decline(circle: Circle, cmd: c.DeclineStory, ctx: Context, out: Out) -> Circle:
    story, author = _pending_for_moderator(circle, cmd, ctx)
    out.dm(
        story.user,
        m.plain(
            _("Your moderator decided not to post story {number} beyond the circle. It stays private, and its text is erased.", number=story.number),
            m.SEEN_BY_YOU,
        ),
        suffix=f"story/{story.number}/declined",
    )
    out.reply(ctx.actor.user, m.plain(_("Story {number} is declined; only {name} has been told.", number=story.number, name=author.name)))
    return _with_story(circle, replace(story, status=StoryStatus.DECLINED, text=""))


def withdraw_all(circle: Circle, user: UserRef) -> Circle:
    """Withdraw every story of ``user``'s that is not posted yet (they are leaving for good)."""
    open_ = (StoryStatus.DRAFT, StoryStatus.PENDING)
    return replace(
        circle,
        stories=tuple(
            replace(s, status=StoryStatus.WITHDRAWN) if s.user == user and s.status in open_ else s for s in circle.stories
        ),
    )


HANDLERS = {
    c.Share: _share,
    c.ConfirmStory: _confirm,
    c.WithdrawStory: _withdraw,
    c.ApproveStory: _approve,
    c.DeclineStory: _decline,
}
