"""Load kit files and turn every problem into a message that names the file and field."""

from __future__ import annotations

import codecs
from collections.abc import Iterable
from pathlib import Path

import yaml
from pydantic import ValidationError

from kits.schema import Kit
from kits.translations import language_of, mismatches, overlay, source_of, translations_beside

BUILTIN_DIR = Path(__file__).parent / "builtin"


class KitError(Exception):
    """A kit file could not be read or does not match the schema.

    Attributes:
        path: the file at fault.
        problems: one human line per problem, ``field.path: what is wrong``.
    """

    def __init__(self, path: Path, problems: list[str]):
        self.path = path
        self.problems = problems
        super().__init__("\n".join(f"{path}: {p}" for p in problems))


def _field_path(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def _problem(error: dict) -> str:
    if not error["loc"] and error["type"] == "value_error":
        return str(error["ctx"]["error"])  # a whole-kit rule; its message names the fields
    where = _field_path(error["loc"])
    if error["type"] == "missing":
        return f"{where}: missing"
    if error["type"] == "extra_forbidden":
        return f"{where}: unknown field"
    return f"{where}: {error['msg']}"


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML requires unique keys; PyYAML would silently keep the last one."""


def _unique_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen = set()
    for key_node, _value in node.value:
        key = loader.construct_object(key_node, deep=deep)
        try:
            hash(key)
        except TypeError:  # ``? [a, b]``: a list or mapping as a key
            raise yaml.constructor.ConstructorError(
                None, None, f"a key must be a plain value, not a {type(key).__name__}", key_node.start_mark
            ) from None
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _unique_mapping)


def _read(path: Path) -> str:
    """The file's text; kit files are UTF-8 (a byte-order mark is allowed)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise KitError(path, [f"cannot read file: {exc.strerror or exc}"]) from None
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise KitError(path, ["the file is UTF-16 text; save it as UTF-8"])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise KitError(
            path, [f"not UTF-8 text (byte {data[exc.start]:#04x} at offset {exc.start}); save the file as UTF-8"]
        ) from None


def _parse(path: Path, text: str) -> object:
    """The YAML document in ``text``, with every way YAML can fail as a :class:`KitError`."""
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 (safe loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise KitError(path, [f"{where}not valid YAML ({getattr(exc, 'problem', exc)})"]) from None
    except RecursionError:  # PyYAML parses nesting recursively: ``[[[[...``
        raise KitError(path, ["not valid YAML (nested too deeply)"]) from None
    except (ValueError, OverflowError) as exc:  # a value that looks like a date or number but is none: 2026-13-45
        raise KitError(path, [f"not valid YAML ({exc})"]) from None


def kit_files(folder: Path | str) -> list[Path]:
    """The kit files in ``folder``, in name order: those ending in ``.yaml`` that are not translations of another."""
    return [path for path in sorted(Path(folder).glob("*.yaml")) if language_of(path) is None]


def _mapping(path: Path) -> dict:
    raw = _parse(path, _read(path))
    if not isinstance(raw, dict):
        raise KitError(path, ["(top level): expected a mapping of kit fields"])
    return raw


def _validate(path: Path, raw: dict) -> Kit:
    try:
        return Kit.model_validate(raw)
    except ValidationError as exc:
        raise KitError(path, [_problem(e) for e in exc.errors()]) from None


def load_kit(path: Path | str) -> Kit:
    """Read and validate one kit file, with its translations (``<kit>.<language>.yaml`` beside it).

    Args:
        path: a YAML kit file; a translation's path loads and checks its source with every translation.

    Returns:
        The validated, frozen kit; :meth:`Kit.translated` gives it in another language.

    Raises:
        KitError: a file is missing, is not YAML, or does not match the schema, or a
            translation differs from its source (other weeks, exercises or questions).
    """
    path = source_of(Path(path))
    raw = _mapping(path)
    kit = _validate(path, raw)
    translations = {}
    for language, translation_path in translations_beside(path).items():
        translated = _mapping(translation_path)
        problems = mismatches(raw, translated)
        if problems:
            raise KitError(translation_path, problems)
        translations[language] = _validate(translation_path, overlay(raw, translated))
    return kit.with_translations(translations)


def load_kits(paths: Iterable[Path | str]) -> dict[str, Kit]:
    """Load several kit files, keyed by kit id; a duplicate id is an error."""
    kits: dict[str, Kit] = {}
    for path in paths:
        kit = load_kit(path)
        if kit.id in kits:
            raise KitError(Path(path), [f"id: kit id {kit.id!r} is used by another kit"])
        kits[kit.id] = kit
    return kits


def builtin_kits() -> dict[str, Kit]:
    """The kits shipped with Circlebot, keyed by id."""
    return load_kits(kit_files(BUILTIN_DIR))
