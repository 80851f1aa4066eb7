"""The kit file format: one pydantic model per part of a curriculum.

Every model forbids unknown keys, so a typo in a kit file is an error that
names the field rather than text silently left out of a circle's week.
"""

from __future__ import annotations

import enum
import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PrivateAttr, StringConstraints, model_validator

from bot.i18n import language

#: A control character other than tab and newline (``"\\0"`` in a double-quoted YAML string); pydantic itself
#: refuses lone surrogates.
_NOT_TEXT = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _storable(text: str) -> str:
    """Kit text is posted and stored as it is, so it must be text a database and a chat can take."""
    if found := _NOT_TEXT.search(text):
        raise ValueError(f"contains {found[0]!r}, which is not a printable character")
    return text


Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1), AfterValidator(_storable)]
KitId = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{1,31}$")]
#: A tune-up more than a year after graduation would be a new circle, not a tune-up.
TuneUpWeek = Annotated[int, Field(ge=1, le=52)]
#: Care reminders reach two years at most, as far as a shared date may lie ahead (bot/care.py).
ReminderDay = Annotated[int, Field(ge=1, le=730)]


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Cadence(str, enum.Enum):
    """How often the circle meets; the interval between two meetings."""

    WEEKLY = "weekly"
    BIWEEKLY = "biweekly"
    MONTHLY = "monthly"

    @property
    def weeks(self) -> int:
        return {"weekly": 1, "biweekly": 2, "monthly": 4}[self.value]


class Timing(Frozen):
    """When each week's messages go out, relative to the meeting."""

    exercise_lead_hours: int = Field(24, ge=1, le=24 * 6)
    reminder_lead_minutes: int = Field(60, ge=5, le=24 * 60)
    meeting_minutes: int = Field(60, ge=15, le=240)
    graduation_delay_hours: int = Field(24, ge=1, le=24 * 6)


class Size(Frozen):
    """How many people a circle holds, the moderator included, and how few can start it."""

    places: int = Field(5, ge=3, le=8)
    to_start: int = Field(3, ge=2, le=8)

    @model_validator(mode="after")
    def _fits(self) -> Size:
        if self.to_start > self.places:
            raise ValueError("to_start must not be more than places")
        return self


class Exercise(Frozen):
    title: Text
    prompt: Text
    minutes: int | None = Field(None, ge=1, le=240)


class Week(Frozen):
    title: Text
    goal: Text
    exercises: tuple[Exercise, ...] = Field(min_length=1)
    checkin_questions: tuple[Text, ...] = Field(min_length=1, max_length=5)
    agenda: tuple[Text, ...] = Field(min_length=1)
    moderator_notes: Text


class FaqEntry(Frozen):
    question: Text
    answer: Text


class GuideSection(Frozen):
    """One section of the moderator guide, served one at a time (``/circle guide``)."""

    title: Text
    text: Text


class Graduation(Frozen):
    reflection_prompts: tuple[Text, ...] = Field(min_length=1)
    closing_words: Text


class TuneUps(Frozen):
    weeks_after: tuple[TuneUpWeek, ...] = Field((4, 12), min_length=1)
    prompts: tuple[Text, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _increasing(self) -> TuneUps:
        weeks = self.weeks_after
        if list(weeks) != sorted(set(weeks)):
            raise ValueError("weeks_after must be strictly increasing")
        return self


class Support(Frozen):
    """Care after a life event: when peers are reminded, and what they might do."""

    reminder_days: tuple[ReminderDay, ...] = Field((3, 10, 21, 45, 90, 180, 365), min_length=1)
    suggestions: tuple[Text, ...] = Field(min_length=3)
    resources: tuple[Text, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _increasing(self) -> Support:
        days = self.reminder_days
        if list(days) != sorted(set(days)):
            raise ValueError("reminder_days must be strictly increasing")
        return self


class Kit(Frozen):
    id: KitId
    name: Text
    summary: Text
    cadence: Cadence = Cadence.WEEKLY
    timing: Timing = Timing()
    size: Size = Size()
    weeks: tuple[Week, ...] = Field(min_length=1, max_length=52)
    graduation: Graduation
    tune_ups: TuneUps
    faq: tuple[FaqEntry, ...] = Field(min_length=1)
    #: The moderator guide, in sections; a new moderator gets the first when they take the role.
    guide: tuple[GuideSection, ...] = Field(min_length=1)
    support: Support
    #: The same kit in other languages, by language code (from ``<id>.<language>.yaml`` files).
    _translations: dict[str, Kit] = PrivateAttr(default_factory=dict)

    def __eq__(self, other: object) -> bool:
        # Equal when the text is: a kit loaded without its translation files is still the same kit.
        return isinstance(other, Kit) and self.__dict__ == other.__dict__

    @property
    def translations(self) -> dict[str, Kit]:
        return dict(self._translations)

    def with_translations(self, translations: dict[str, Kit]) -> Kit:
        """This kit, carrying ``translations``."""
        kit = self.model_copy()
        kit._translations = dict(translations)
        return kit

    def translated(self, locale: str | None) -> Kit:
        """The kit in ``locale`` (any platform's code, e.g. ``es-MX``), or as written when it has no translation into it."""
        return self._translations.get(language(locale), self)

    @model_validator(mode="after")
    def _timing_fits_the_cadence(self) -> Kit:
        """Reject timings that would put steps out of order: each must follow the one before."""
        # (An exercise lead of at most 6 days cannot reach back past the previous meeting.)
        timing = self.timing
        if timing.graduation_delay_hours * 60 <= timing.meeting_minutes:
            raise ValueError("timing.graduation_delay_hours: graduation must come after the last meeting ends")
        if self.tune_ups.weeks_after[0] * 7 * 24 - timing.exercise_lead_hours <= timing.graduation_delay_hours:
            raise ValueError("tune_ups.weeks_after: the first tune-up's prompt would come before graduation")
        return self

    @property
    def length(self) -> int:
        """Number of meetings in one run of the circle."""
        return len(self.weeks)

    def week(self, number: int) -> Week:
        """The kit week for meeting ``number`` (1-based)."""
        return self.weeks[number - 1]
