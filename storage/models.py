"""The tables. Times are aware UTC datetimes (SQLModel stores them as UTC)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, text

WAITING_ONLY = text("status IN ('pending', 'sending')")
from sqlmodel import Field, SQLModel


#: Circles someone may join: the partial index behind ``list`` holds only these.
JOINABLE_ONLY = text("state IN ('forming', 'active') AND open_seats > 0")
#: The directory's columns after (platform, workspace, handle): ``list``'s filters read them from the index alone
#: (SQLite reads a partial index's own condition's columns from the index too, or it looks up every row).
DIRECTORY_COLUMNS = ("kit_id", "locale", "utc_offset", "week_minute", "id", "state", "open_seats")


class CircleRow(SQLModel, table=True):
    """One circle: its JSON, and the columns that let a command find it or count it without reading the JSON.

    ``id`` is the storage key, unique everywhere and telling nothing; ``handle`` is what people
    see and type (``#crew``), unique within its (platform, workspace).
    """

    __tablename__ = "circles"
    __table_args__ = (
        Index("ix_circles_place_handle", "platform", "workspace", "handle", unique=True),
        Index("ix_circles_place_tally", "platform", "workspace", "state", "started", "graduated"),
        Index(
            "ix_circles_joinable", "platform", "workspace", "handle", *DIRECTORY_COLUMNS,
            postgresql_where=JOINABLE_ONLY, sqlite_where=JOINABLE_ONLY,
        ),
    )

    id: str = Field(primary_key=True, max_length=40)
    platform: str = Field(max_length=20)
    workspace: str = Field(max_length=64)
    handle: str = Field(max_length=40)
    name: str = Field(max_length=80)
    state: str = Field(max_length=20)
    open_seats: int
    started: bool
    graduated: bool
    next_wake_at: datetime | None = Field(default=None, index=True)
    revision: int
    kit_id: str = Field(max_length=40)
    locale: str | None = Field(default=None, max_length=16)  # its language; ``None``: the bot's default
    week: int  # the week it is in (0 before week 1)
    #: its zone's offset from UTC (minutes) at a meeting, and that meeting's UTC minute of the week
    #: (0 = Monday 00:00), see :func:`bot.directory.meeting_columns`
    utc_offset: int
    week_minute: int
    data: str
    updated_at: datetime


class MembershipRow(SQLModel, table=True):
    __tablename__ = "memberships"

    circle_id: str = Field(primary_key=True, foreign_key="circles.id", max_length=40)
    user_key: str = Field(primary_key=True, index=True, max_length=160)


class InvolvementRow(SQLModel, table=True):
    """A circle that holds something about a person: written when they join, kept when they leave.

    Their answers outlive their membership, so ``export`` and ``forget-me`` look here,
    not in the memberships. Only ``forget-me`` deletes these rows.
    """

    __tablename__ = "involvements"

    user_key: str = Field(primary_key=True, max_length=160)
    circle_id: str = Field(primary_key=True, foreign_key="circles.id", max_length=40)


class CircleWeekRow(SQLModel, table=True):
    """One circle's part of a held week's attendance figures (see :func:`bot.stats.week_figures`).

    The workspace's sums are in ``workspace_counts``; these rows say which circles held the week.
    """

    __tablename__ = "circle_weeks"
    __table_args__ = (Index("ix_circle_weeks_place_week", "platform", "workspace", "week"),)

    circle_id: str = Field(primary_key=True, foreign_key="circles.id", max_length=40)
    week: int = Field(primary_key=True)
    platform: str = Field(max_length=20)
    workspace: str = Field(max_length=64)
    places: int
    checked_in: int
    coming: int


class WorkspaceCountRow(SQLModel, table=True):
    """One of a workspace's running counts, kept up to date as its circles change.

    ``figure`` names what is counted: ``circles``, ``state:<state>``, ``started``,
    ``graduated``, ``joinable``, and ``week:<n>:circles|places|checked_in|coming``
    (see :func:`storage.repository.workspace_counts`).
    """

    __tablename__ = "workspace_counts"

    platform: str = Field(primary_key=True, max_length=20)
    workspace: str = Field(primary_key=True, max_length=64)
    figure: str = Field(primary_key=True, max_length=40)
    count: int


class OutboxRow(SQLModel, table=True):
    """One delivery; ``key`` is unique, so the same occurrence is never queued twice."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_status_not_before", "status", "not_before"),
        Index("ix_outbox_circle_id_recipient", "circle_id", "recipient"),
        Index("ix_outbox_recipient", "recipient"),  # forget-me finds a person's DMs in any circle
        # Only waiting rows, which stay few however long the history grows: the claim walks
        # them in id order, and checks each one's lane for an earlier row still waiting.
        Index("ix_outbox_waiting_id", "id", postgresql_where=WAITING_ONLY, sqlite_where=WAITING_ONLY),
        Index("ix_outbox_waiting_lane", "lane", "id", postgresql_where=WAITING_ONLY, sqlite_where=WAITING_ONLY),
    )

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, max_length=300)
    circle_id: str = Field(index=True, max_length=40)
    recipient: str | None = Field(default=None, max_length=160)
    lane: str = Field(default="", max_length=210)  # deliveries keep their order within a lane
    kind: str = Field(max_length=40)
    payload: str
    status: str = Field(default="pending", max_length=10)
    attempts: int = 0
    not_before: datetime
    created_at: datetime
    sent_at: datetime | None = None
    last_error: str | None = Field(default=None, max_length=500)
    platform: str = Field(default="", max_length=20)  # which adapter delivers it
    locale: str = Field(default="en", max_length=16)  # the reader's language
    reader_tz: str = Field(default="UTC", max_length=64)  # the reader's zone
    channel: str | None = Field(default=None, max_length=100)  # the receipt: where the platform put it
    message_id: str | None = Field(default=None, max_length=100)


class SpaceRow(SQLModel, table=True):
    """A circle's private space on its platform (a channel or a thread), known both ways."""

    __tablename__ = "spaces"
    __table_args__ = (Index("ux_spaces_platform_channel", "platform", "channel", unique=True),)

    circle_id: str = Field(primary_key=True, max_length=40)
    platform: str = Field(max_length=20)
    channel: str = Field(max_length=100)


class HandledRequestRow(SQLModel, table=True):
    """A platform request already carried out; the same id again has no second effect."""

    __tablename__ = "handled_requests"

    id: str = Field(primary_key=True, max_length=300)
    handled_at: datetime = Field(index=True)


class PersonRow(SQLModel, table=True):
    """A person's own settings in one workspace: their zone and language, set by them or the platform."""

    __tablename__ = "people"

    user_key: str = Field(primary_key=True, max_length=160)
    tz: str | None = Field(default=None, max_length=64)
    locale: str | None = Field(default=None, max_length=16)
    tz_asked: bool = False
    #: The platform refused a direct message to them (DMs closed): say so in their circle's space when they next act.
    dms_refused: bool = False
    #: the language their platform last reported (Slack's user locale, Discord's client), when the bot speaks it;
    #: ``locale`` (their own choice) wins over it
    platform_locale: str | None = Field(default=None, max_length=16)


class FormDraftRow(SQLModel, table=True):
    """A form longer than one modal (Discord's five inputs), between its pages: the form and the answers so far.

    Kept here, not in a process, so the next page works after a restart or on another
    replica; dropped when the last page comes back, by ``forget-me``, or once stale.
    """

    __tablename__ = "form_drafts"

    user_key: str = Field(primary_key=True, max_length=160)
    action: str = Field(primary_key=True, max_length=100)  # the form's encoded action
    form: str
    answers: str  # a JSON list
    updated_at: datetime = Field(index=True)


class KeptValueRow(SQLModel, table=True):
    """A small value an adapter keeps between runs and shares with its replicas (e.g. the last command sync)."""

    __tablename__ = "kept_values"

    key: str = Field(primary_key=True, max_length=200)
    value: str = Field(max_length=500)


class CalendarFeedRow(SQLModel, table=True):
    """A member's private calendar address for one circle: ``/calendar/<token>.ics``.

    The token is random (``secrets.token_urlsafe``); it is kept as given, so ``/circle calendar``
    can show the same address again, and ``/circle calendar reset`` replaces it.
    """

    __tablename__ = "calendar_feeds"
    __table_args__ = (Index("ux_calendar_feeds_circle_user", "circle_id", "user_key", unique=True),)

    token: str = Field(primary_key=True, max_length=64)
    circle_id: str = Field(max_length=40)
    user_key: str = Field(index=True, max_length=160)
    created_at: datetime
class SignupRow(SQLModel, table=True):
    """A person in the pool of those who asked to be matched into a circle (bot/matching.py).

    ``told`` is the reason they were last told they could not be placed, so a weekly
    run says it again only when it changes.
    """

    __tablename__ = "signups"
    __table_args__ = (Index("ix_signups_place", "platform", "workspace", "signed_up_at"),)

    user_key: str = Field(primary_key=True, max_length=160)
    platform: str = Field(max_length=20)
    workspace: str = Field(max_length=64)
    user_id: str = Field(max_length=100)
    name: str = Field(max_length=80)
    kit: str = Field(max_length=40)
    tz: str = Field(max_length=64)
    hours: str = Field(max_length=1000)  # as typed, cleaned: ``tue 17-20, thu 18-21``
    language: str = Field(max_length=16)
    strangers: bool
    moderate: bool
    signed_up_at: datetime
    told: str | None = Field(default=None, max_length=20)


class MatchScheduleRow(SQLModel, table=True):
    """When a workspace's pool is matched each week, as its admin set it; ``next_run_at`` wakes the scheduler."""

    __tablename__ = "match_schedules"

    platform: str = Field(primary_key=True, max_length=20)
    workspace: str = Field(primary_key=True, max_length=64)
    weekday: int
    at: str = Field(max_length=5)  # HH:MM in ``tz``
    tz: str = Field(max_length=64)
    next_run_at: datetime = Field(index=True)
