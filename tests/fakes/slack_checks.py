"""What the fake Slack checks in every Web API call: the method and its parameters, and Block Kit limits.

The spec (``shared/specs/slack/web_api_openapi_v2.json``, Swagger 2.0) dates from
2020, so the few newer methods and parameters Circlebot needs are allowed here,
each with the reason. Anything else outside the spec is a violation.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import Any

#: Methods newer than the spec: (required, optional) parameters, from api.slack.com.
NEWER_METHODS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    # files.upload was retired in 2025; these two replaced it (2024).
    "files.getUploadURLExternal": (frozenset({"filename", "length"}), frozenset({"alt_txt", "snippet_type"})),
    "files.completeUploadExternal": (frozenset({"files"}), frozenset({"channel_id", "initial_comment", "thread_ts"})),
}

#: Parameters newer than the spec, per method.
NEWER_PARAMETERS: dict[str, frozenset[str]] = {
    # Message metadata (2022) carries the outbox key, so a resend can find an earlier post.
    "chat.postMessage": frozenset({"metadata"}),
    # ...and only comes back in history when asked for (2022).
    "conversations.history": frozenset({"include_all_metadata"}),
    "conversations.replies": frozenset({"include_all_metadata"}),
}

#: Accepted by every method (org-wide apps, 2020+); slack-bolt binds each request's client to its
#: workspace and slack_sdk then sends ``team_id`` with every call (``default_params``).
EVERY_METHOD = frozenset({"team_id"})

CHANNEL_NAME = re.compile(r"[a-z0-9_-]{1,80}")

#: Block Kit limits (api.slack.com/reference/block-kit).
MESSAGE_BLOCKS, SURFACE_BLOCKS = 50, 100
SECTION_TEXT, HEADER_TEXT, BUTTON_TEXT, MODAL_TEXT = 3000, 150, 75, 24
ACTION_ID, BUTTON_VALUE, BLOCK_ID, PRIVATE_METADATA = 255, 2000, 255, 3000
CONTEXT_ELEMENTS, ACTION_ELEMENTS, INPUT_LABEL = 10, 25, 2000


@lru_cache(maxsize=None)
def load_spec(path: Path) -> dict[str, tuple[frozenset[str], frozenset[str]]]:
    """Each method's (required, allowed) parameter names, ``token`` left out (it travels in a header)."""
    paths = json.loads(path.read_text(encoding="utf-8"))["paths"]
    methods = {}
    for route, operations in paths.items():
        for operation in operations.values():
            names = {p["name"] for p in operation["parameters"]} - {"token"}
            required = {p["name"] for p in operation["parameters"] if p.get("required")} - {"token"}
            methods[route.lstrip("/")] = (frozenset(required), frozenset(names))
    return methods


def parameter_problems(spec: dict, method: str, params: dict[str, Any]) -> list[str]:
    """What is wrong with a call's parameters against the spec and the allow-lists."""
    if method in NEWER_METHODS:
        required, optional = NEWER_METHODS[method]
        allowed = required | optional
    elif method in spec:
        required, allowed = spec[method]
        allowed = allowed | NEWER_PARAMETERS.get(method, frozenset())
    else:
        return [f"{method}: no such method in the spec or the allow-list"]
    problems = [f"{method}: required parameter {name!r} missing" for name in sorted(required - params.keys())]
    unknown = params.keys() - allowed - EVERY_METHOD - {"token"}
    problems += [f"{method}: unknown parameter {name!r}" for name in sorted(unknown)]
    return problems


def as_json(value: Any) -> Any:
    """Form-encoded calls carry JSON as a string; JSON calls carry it as is."""
    return json.loads(value) if isinstance(value, str) else value


def _text(obj: dict | None) -> str:
    return (obj or {}).get("text", "") or ""


def block_problems(blocks: list[dict], limit: int) -> list[str]:
    """Block Kit limits for one message (``limit`` 50) or one modal / Home tab (100)."""
    problems = []
    if len(blocks) > limit:
        problems.append(f"{len(blocks)} blocks, more than {limit}")
    ids = Counter(b["block_id"] for b in blocks if "block_id" in b)
    problems += [f"block_id {block_id!r} used {n} times" for block_id, n in ids.items() if n > 1]
    for block in blocks:
        kind = block.get("type")
        if len(block.get("block_id", "")) > BLOCK_ID:
            problems.append(f"block_id longer than {BLOCK_ID}")
        if kind == "section":
            if len(_text(block.get("text"))) > SECTION_TEXT:
                problems.append(f"section text of {len(_text(block.get('text')))} characters, more than {SECTION_TEXT}")
            if not block.get("text") and not block.get("fields"):
                problems.append("section with neither text nor fields")
        elif kind == "header" and len(_text(block.get("text"))) > HEADER_TEXT:
            problems.append(f"header of {len(_text(block.get('text')))} characters, more than {HEADER_TEXT}")
        elif kind == "context" and len(block.get("elements", [])) > CONTEXT_ELEMENTS:
            problems.append(f"context with more than {CONTEXT_ELEMENTS} elements")
        elif kind == "actions":
            if len(block.get("elements", [])) > ACTION_ELEMENTS:
                problems.append(f"actions with more than {ACTION_ELEMENTS} elements")
            problems += [p for element in block.get("elements", []) for p in element_problems(element)]
        elif kind == "input":
            if len(_text(block.get("label"))) > INPUT_LABEL:
                problems.append(f"input label longer than {INPUT_LABEL}")
            problems += element_problems(block.get("element", {}))
        if "accessory" in block:
            problems += element_problems(block["accessory"])
    return problems


def element_problems(element: dict) -> list[str]:
    problems = []
    if len(element.get("action_id", "")) > ACTION_ID:
        problems.append(f"action_id of {len(element['action_id'])} characters, more than {ACTION_ID}")
    if element.get("type") == "button":
        if len(_text(element.get("text"))) > BUTTON_TEXT:
            problems.append(f"button text of {len(_text(element.get('text')))} characters, more than {BUTTON_TEXT}")
        if len(element.get("value", "")) > BUTTON_VALUE:
            problems.append(f"button value longer than {BUTTON_VALUE}")
    return problems


def view_problems(view: dict) -> list[str]:
    """A modal or Home tab: its blocks, and a modal's title, submit and close of 24 characters at most."""
    problems = block_problems(view.get("blocks", []), SURFACE_BLOCKS)
    if view.get("type") not in ("modal", "home"):
        problems.append(f"view type {view.get('type')!r}")
    if view.get("type") == "modal":
        if not _text(view.get("title")):
            problems.append("modal without a title")
        for part in ("title", "submit", "close"):
            if len(_text(view.get(part))) > MODAL_TEXT:
                problems.append(f"modal {part} {_text(view.get(part))!r} longer than {MODAL_TEXT}")
        if any(b.get("type") == "input" for b in view.get("blocks", [])) and not view.get("submit"):
            problems.append("modal with inputs but no submit button")
    if len(view.get("private_metadata", "")) > PRIVATE_METADATA:
        problems.append(f"private_metadata longer than {PRIVATE_METADATA}")
    return problems


def message_problems(params: dict[str, Any]) -> list[str]:
    """A message needs text or blocks; its blocks keep to the message limits."""
    blocks = as_json(params.get("blocks")) or []
    if not blocks and not params.get("text"):
        problems = ["message with neither text nor blocks"]
    else:
        problems = []
    return problems + block_problems(blocks, MESSAGE_BLOCKS)


def channel_name_problem(name: str) -> str | None:
    """Slack's own error for a bad channel name, or None."""
    if not name:
        return "invalid_name_required"
    if len(name) > 80:
        return "invalid_name_maxlength"
    if not CHANNEL_NAME.fullmatch(name):
        return "invalid_name_specials"
    return None
