"""Checks REST requests against Discord's own OpenAPI description (``shared/specs/discord/openapi.json``).

A request passes when its path matches one of the spec's path templates, the
method exists on it, every query parameter is declared, and a JSON body (or a
multipart ``payload_json``) validates against the operation's request schema,
with every ``$ref`` resolved inside the spec.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from jsonschema import Draft202012Validator

from .specs import spec_path


def discord_spec_path() -> Path:
    return spec_path("discord/openapi.json")


@dataclass(frozen=True)
class Operation:
    template: str
    method: str
    query: frozenset[str]
    body: Draft202012Validator | None


class DiscordSpec:
    def __init__(self, path: Path):
        self.document = json.loads(path.read_text())
        base = self.document["servers"][0]["url"]
        self.prefix = "/" + base.split("://", 1)[1].split("/", 1)[1]  # "/api/v10"
        routes = []
        for template, item in self.document["paths"].items():
            pattern = re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$")
            routes.append((template.count("{"), template, pattern, item))
        # A literal segment wins over a parameter: /users/@me before /users/{user_id}.
        self.routes = sorted(routes, key=lambda route: route[0])

    def template_of(self, path: str) -> str | None:
        for _params, template, pattern, _item in self.routes:
            if pattern.match(path):
                return template
        return None

    @cache
    def operation(self, template: str, method: str) -> Operation | None:
        item = next(item for _p, t, _r, item in self.routes if t == template)
        op = item.get(method.lower())
        if op is None:
            return None
        params = [*item.get("parameters", []), *op.get("parameters", [])]
        query = frozenset(p["name"] for p in params if p.get("in") == "query")
        schema = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
        body = None
        if schema is not None:
            # Local refs (#/components/...) resolve against the root, so the components ride along.
            body = Draft202012Validator({**schema, "components": self.document["components"]})
        return Operation(template, method.upper(), query, body)

    def check(self, method: str, path: str, query: list[str], body: object | None) -> tuple[str | None, list[str]]:
        """The path template and the problems with one request (none when it is within the spec)."""
        if not path.startswith(self.prefix + "/"):
            return None, [f"{method} {path}: not under {self.prefix}"]
        local = path[len(self.prefix):]
        template = self.template_of(local)
        if template is None:
            return None, [f"{method} {local}: no such path in the spec"]
        op = self.operation(template, method)
        if op is None:
            return template, [f"{method} {template}: the spec has no such method"]
        problems = [f"{method} {template}: undeclared query parameter {name!r}"
                    for name in query if name not in op.query]
        if body is not None:
            if op.body is None:
                problems.append(f"{method} {template}: a JSON body where the spec takes none")
            else:
                problems += [
                    f"{method} {template}: {'/'.join(map(str, error.absolute_path)) or 'body'}: {error.message[:300]}"
                    for error in op.body.iter_errors(body)
                ]
        return template, problems
