"""Kit files (kits/loader.py, kits/schema.py): the built-ins load; broken files name the field at fault."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

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
    assert kit == builtin_kits()["career"].with_translations({})  # its translations stayed behind


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
