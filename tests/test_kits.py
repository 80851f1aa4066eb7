"""Kit files (kits/loader.py, kits/schema.py): the built-ins load; broken files name the field at fault."""

from __future__ import annotations

import copy
from datetime import date, time
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from bot.circle import Anchor, Slot
from bot.timetable import lay_out
from bot.turns import days_after
from kits import KitError, builtin_kits, kit_files, load_kit, load_kits
from kits.loader import BUILTIN_DIR
from kits.schema import Cadence, Kit


@pytest.fixture(scope="module")
def career_data() -> dict:
    """The career kit file as plain data, to break in a copy."""
    return yaml.safe_load((BUILTIN_DIR / "career.yaml").read_text(encoding="utf-8"))


@pytest.fixture
def write(tmp_path):
    """``write(data_or_text, name="kit.yaml")``: a kit file in tmp_path."""

    def make(content, name: str = "kit.yaml") -> Path:
        path = tmp_path / name
        text = content if isinstance(content, str) else yaml.safe_dump(content, allow_unicode=True, sort_keys=False)
        path.write_text(text, encoding="utf-8")
        return path

    return make


def problems_of(path: Path) -> list[str]:
    with pytest.raises(KitError) as caught:
        load_kit(path)
    assert caught.value.path == path
    assert str(caught.value) == "\n".join(f"{path}: {p}" for p in caught.value.problems)
    return caught.value.problems


# ---------------------------------------------------------------- the built-in kits


def test_builtin_kits_are_the_three_shipped_files():
    kits = builtin_kits()
    assert sorted(kits) == ["after-loss", "career", "starter"]
    assert sorted(p.stem for p in kit_files(BUILTIN_DIR)) == sorted(kits)
    assert all(isinstance(kit, Kit) and kit.id == key for key, kit in kits.items())


@pytest.mark.parametrize(
    ("kit_id", "length", "cadence"),
    [("career", 12, Cadence.WEEKLY), ("after-loss", 6, Cadence.BIWEEKLY), ("starter", 4, Cadence.WEEKLY)],
)
def test_builtin_kit_shape(kit_id, length, cadence):
    kit = builtin_kits()[kit_id]
    assert kit.length == length == len(kit.weeks)
    assert kit.cadence is cadence
    assert kit.cadence.weeks == {Cadence.WEEKLY: 1, Cadence.BIWEEKLY: 2}[cadence]
    assert kit.tune_ups.weeks_after == (4, 12)
    assert kit.week(1) is kit.weeks[0] and kit.week(length) is kit.weeks[-1]
    for week in kit.weeks:
        assert week.exercises and week.agenda and week.moderator_notes
        assert 1 <= len(week.checkin_questions) <= 5
    assert len({w.title for w in kit.weeks}) == length


def test_builtin_kits_are_frozen():
    kit = builtin_kits()["career"]
    with pytest.raises(ValidationError):
        kit.name = "Changed"  # type: ignore[misc]
    assert isinstance(kit.weeks, tuple) and isinstance(kit.weeks[0].exercises, tuple)


def test_a_copy_of_a_builtin_kit_loads(write, career_data):
    kit = load_kit(write(career_data))
    assert kit == builtin_kits()["career"]


# ---------------------------------------------------------------- broken files


def _broken(data: dict, change) -> dict:
    data = copy.deepcopy(data)
    change(data)
    return data


BROKEN = [
    ("missing prompt", lambda d: d["weeks"][3]["exercises"][0].pop("prompt"), ["weeks[3].exercises[0].prompt: missing"]),
    ("missing top-level field", lambda d: d.pop("graduation"), ["graduation: missing"]),
    ("missing nested field", lambda d: d["weeks"][11].pop("moderator_notes"), ["weeks[11].moderator_notes: missing"]),
    ("unknown field", lambda d: d["weeks"][0].__setitem__("colour", "red"), ["weeks[0].colour: unknown field"]),
    ("unknown top-level field", lambda d: d.__setitem__("sumary", "typo"), ["sumary: unknown field"]),
    ("unknown timing field", lambda d: d["timing"].__setitem__("lead_hours", 3), ["timing.lead_hours: unknown field"]),
    (
        "two problems at once",
        lambda d: (d["weeks"][1]["exercises"][1].pop("title"), d["faq"][0].__setitem__("extra", 1)),
        ["weeks[1].exercises[1].title: missing", "faq[0].extra: unknown field"],
    ),
]


@pytest.mark.parametrize(("change", "expected"), [b[1:] for b in BROKEN], ids=[b[0] for b in BROKEN])
def test_broken_kit_names_the_field(write, career_data, change, expected):
    assert problems_of(write(_broken(career_data, change))) == expected


WRONG_TYPES = [
    ("timing.exercise_lead_hours", lambda d: d["timing"].__setitem__("exercise_lead_hours", "soon"), "valid integer"),
    ("weeks[0].exercises[0].minutes", lambda d: d["weeks"][0]["exercises"][0].__setitem__("minutes", "ten"), "valid integer"),
    ("weeks[2].title", lambda d: d["weeks"][2].__setitem__("title", ["a", "list"]), "valid string"),
    ("weeks", lambda d: d.__setitem__("weeks", {"one": 1}), "valid tuple"),
    ("cadence", lambda d: d.__setitem__("cadence", "daily"), "'weekly', 'biweekly' or 'monthly'"),
    ("id", lambda d: d.__setitem__("id", "Career Kit"), "should match pattern"),
    ("weeks[1].checkin_questions[1]", lambda d: d["weeks"][1]["checkin_questions"].__setitem__(1, "   "), "at least 1 character"),
    ("weeks[2].checkin_questions", lambda d: d["weeks"][2].__setitem__("checkin_questions", ["q?"] * 6), "at most 5 items"),
    ("timing.meeting_minutes", lambda d: d["timing"].__setitem__("meeting_minutes", 5), "greater than or equal to 15"),
    ("tune_ups", lambda d: d["tune_ups"].__setitem__("weeks_after", [12, 4]), "strictly increasing"),
    ("weeks", lambda d: d.__setitem__("weeks", []), "at least 1 item"),
    ("size.places", lambda d: d.__setitem__("size", {"places": 9}), "less than or equal to 8"),
    ("size.places", lambda d: d.__setitem__("size", {"places": 2, "to_start": 2}), "greater than or equal to 3"),
    ("size.to_start", lambda d: d.__setitem__("size", {"to_start": 1}), "greater than or equal to 2"),
    ("size", lambda d: d.__setitem__("size", {"places": 4, "to_start": 5}), "to_start must not be more than places"),
]


@pytest.mark.parametrize(("where", "change", "says"), WRONG_TYPES, ids=[w[0] for w in WRONG_TYPES])
def test_wrong_type_or_value_names_the_field(write, career_data, where, change, says):
    (problem,) = problems_of(write(_broken(career_data, change)))
    assert problem.startswith(f"{where}: ")
    assert says in problem


def test_invalid_yaml_names_the_line(write):
    path = write("id: career\nname: [unclosed\nsummary: x\n")
    (problem,) = problems_of(path)
    assert problem.startswith("line ")
    assert "not valid YAML" in problem
    line = int(problem.split()[1].rstrip(","))
    assert line in (2, 3)


@pytest.mark.parametrize("text", ["- a\n- b\n", "just a sentence\n", "", "42\n"])
def test_not_a_mapping(write, text):
    assert problems_of(write(text)) == ["(top level): expected a mapping of kit fields"]


def test_missing_file(tmp_path):
    path = tmp_path / "nowhere.yaml"
    (problem,) = problems_of(path)
    assert problem.startswith("cannot read file: ")


def test_duplicate_id_across_files(write, career_data):
    first = write(career_data, "one.yaml")
    second = write(_broken(career_data, lambda d: d.__setitem__("name", "Another")), "two.yaml")
    with pytest.raises(KitError) as caught:
        load_kits([first, second])
    assert caught.value.path == second
    assert caught.value.problems == ["id: kit id 'career' is used by another kit"]
    renamed = write(_broken(career_data, lambda d: d.__setitem__("id", "career-two")), "three.yaml")
    assert sorted(load_kits([first, renamed])) == ["career", "career-two"]


def test_load_kits_stops_at_the_first_broken_file(write, career_data):
    good = write(career_data, "good.yaml")
    bad = write(_broken(career_data, lambda d: d.pop("support")), "bad.yaml")
    with pytest.raises(KitError) as caught:
        load_kits([good, bad])
    assert caught.value.path == bad and caught.value.problems == ["support: missing"]


def test_duplicate_key_in_a_mapping_is_a_problem(write):
    text = (BUILTIN_DIR / "starter.yaml").read_text(encoding="utf-8")
    text = text.replace("name: Starter Circle\n", "name: Starter Circle\nname: Second name\n", 1)
    assert text.count("\nname: ") == 2
    with pytest.raises(KitError) as caught:
        load_kit(write(text))
    assert any(p.startswith("name: ") or "name" in p for p in caught.value.problems)


# ---------------------------------------------------------------- files that are not kits at all


def _starter_text() -> str:
    return (BUILTIN_DIR / "starter.yaml").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"? [a, b]\n: 1\n", "line 1, column 3: not valid YAML (a key must be a plain value, not a list)"),
        (b"id: x\n? {a: 1}\n: 2\n", "line 2, column 3: not valid YAML (a key must be a plain value, not a dict)"),
        (b"[" * 500 + b"]" * 500, "not valid YAML (nested too deeply)"),
        (b"id: x\nwhen: 2026-13-45\n", "not valid YAML (month must be in 1..12)"),
        (b"id: caf\xe9\n", "not UTF-8 text (byte 0xe9 at offset 7); save the file as UTF-8"),
        (_starter_text().encode("utf-16"), "the file is UTF-16 text; save it as UTF-8"),
    ],
    ids=["list key", "mapping key", "500 nested lists", "impossible date", "latin-1", "utf-16"],
)
def test_a_file_that_cannot_be_a_kit_is_one_clear_problem(tmp_path, content, says):
    path = tmp_path / "kit.yaml"
    path.write_bytes(content)
    assert problems_of(path) == [says]


def test_a_byte_order_mark_is_allowed(tmp_path):
    path = tmp_path / "kit.yaml"
    path.write_bytes(_starter_text().encode("utf-8-sig"))
    assert load_kit(path) == builtin_kits()["starter"]


BOUNDS = [
    ("tune_ups.weeks_after[1]", lambda d: d["tune_ups"].__setitem__("weeks_after", [4, 600000]), "less than or equal to 52"),
    ("tune_ups.weeks_after[0]", lambda d: d["tune_ups"].__setitem__("weeks_after", [0, 4]), "greater than or equal to 1"),
    ("support.reminder_days[1]", lambda d: d["support"].__setitem__("reminder_days", [3, 4000000]), "less than or equal to 730"),
    ("support.reminder_days[0]", lambda d: d["support"].__setitem__("reminder_days", [-1, 3]), "greater than or equal to 1"),
    ("support", lambda d: d["support"].__setitem__("reminder_days", [10, 3]), "reminder_days must be strictly increasing"),
    ("name", lambda d: d.__setitem__("name", "Career\ud800"), "unable to parse raw data as a unicode string"),
    ("weeks[0].goal", lambda d: d["weeks"][0].__setitem__("goal", "a\x00b"), "contains '\\x00', which is not a printable"),
]


@pytest.mark.parametrize(("where", "change", "says"), BOUNDS, ids=[b[0] for b in BOUNDS])
def test_values_that_would_break_planning_or_storage_are_refused(tmp_path, career_data, where, change, says):
    path = tmp_path / "kit.yaml"
    # Escaped the YAML way (\ud800, \0), as a kit author would have to write them.
    path.write_text(yaml.safe_dump(_broken(career_data, change), allow_unicode=False), encoding="utf-8")
    (problem,) = problems_of(path)
    assert problem.startswith(f"{where}: ") and says in problem


# ---------------------------------------------------------------- fuzz: whatever the file holds, a KitError or a kit

YAML_ISH = st.text(alphabet=st.sampled_from(list("[]{}:,-?!&*|>'\"#%@` \n\t\\abc019.~") + ["\ud800", "\x00", "\ufeff"]))
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(alphabet=st.characters(exclude_categories=())), st.dates()
)
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3), max_leaves=6)


def _paths(data, prefix=()) -> list[tuple]:
    """Every place in a kit's data: each mapping key and list index, nested."""
    items = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else ()
    return [p for key, value in items for p in ((*prefix, key), *_paths(value, (*prefix, key)))]


#: The kit that sets every number a kit can (timing, tune-ups, care reminders), as data to change.
BASE = yaml.safe_load((BUILTIN_DIR / "after-loss.yaml").read_text(encoding="utf-8"))


def _at(data, path: tuple):
    for key in path:
        data = data[key]
    return data


#: The places that hold a number (a day, a week, hours): out of range, these would break planning.
NUMBERS = [p for p in _paths(BASE) if type(_at(BASE, p)) is int]


def _replaced(data, path: tuple, value):
    data = copy.deepcopy(data)
    *parents, last = path
    _at(data, parents)[last] = value
    return data


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz") / "kit.yaml"


def only_kit_errors(path: Path, content: bytes) -> None:
    """Loading ``content`` gives a kit the core can plan with, or a KitError with problems to show."""
    path.write_bytes(content)
    try:
        kit = load_kit(path)
    except KitError as error:
        assert error.problems and all(isinstance(p, str) and p for p in error.problems)
        return
    # Planned from the latest start the console allows, in the zone furthest ahead: nothing may overflow.
    assert lay_out(kit, Slot(6, time(23, 59)), "Pacific/Kiritimati", Anchor(1, date(2099, 12, 31)), frozenset())
    assert [days_after(date(2099, 12, 31), days) for days in kit.support.reminder_days]


@pytest.mark.slow
@settings(max_examples=1000, deadline=None)
@given(content=st.binary(max_size=300) | YAML_ISH.map(lambda text: text.encode("utf-8", "surrogatepass")))
def test_any_bytes_load_as_a_kit_or_a_kit_error(scratch, content):
    only_kit_errors(scratch, content)


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(
    change=st.tuples(st.sampled_from(_paths(BASE)), VALUES)
    | st.tuples(st.sampled_from(NUMBERS), st.integers(min_value=-(10**7), max_value=10**7))
)
def test_any_value_anywhere_in_a_kit_loads_or_is_a_kit_error(scratch, change):
    changed = _replaced(BASE, *change)
    only_kit_errors(scratch, yaml.safe_dump(changed, allow_unicode=False).encode("utf-8"))
