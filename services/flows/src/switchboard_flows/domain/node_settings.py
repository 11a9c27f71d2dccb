"""Each node type's settings read and checked (`parse_node`): ranges, types, defaults, templated
fields; the message and condition nodes have their own modules. A node with any problem yields
None and the sentences saying what to change."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from typing import Any

from .conditions import parse_condition_node
from .context import VARIABLE_NAME, stringify
from .times import parse_time
from .message_node import parse_message_node
from .nodes import (
    PRESENTATION, DelayNode, EmailNode, EndNode, HandoffNode, HttpNode, Node, SetVariableNode, StartNode,
    WaitNode,
)
from .problems import a
from .settings import Settings

DAY = 86_400
MAX_DELAY, MAX_WAIT = 30 * DAY, 7 * DAY
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$")
EMAIL = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")
MAX_HEADERS, MAX_VARIABLES, MAX_TEXT = 50, 50, 4096


def parse_node(raw: Mapping[str, Any], node_type: str, http_nodes: Collection[str]) -> tuple[Node | None, list[str]]:
    """The node, or None, and the problems of its settings."""
    parsers = {"start": _bare, "end": _bare, "delay": _delay, "wait_for_reply": _wait, "http": _http,
               "email": _email, "set_variable": _set_variable, "handoff": _handoff,
               "message": parse_message_node, "condition": parse_condition_node}
    settings = Settings(raw, a(node_type), http_nodes)
    fields = parsers[node_type](settings)
    if fields is None or settings.problems:
        return None, settings.problems
    extra = {k: v for k, v in raw.items() if k in PRESENTATION}
    cls = {"start": StartNode, "end": EndNode}.get(node_type)
    node = (cls or fields.pop("_class"))(id=raw["id"], extra=extra, **fields)
    return node, []


def _bare(s: Settings) -> dict[str, Any]:
    s.unknown({"id", "type", *PRESENTATION})
    return {}


def _allowed(*keys: str) -> set[str]:
    return {"id", "type", *PRESENTATION, *keys}


def _delay(s: Settings) -> dict[str, Any] | None:
    """`seconds` from now, or `until` a time (templated: `{{flow.data.remind_at}}`, RFC 3339 with its
    offset once rendered) — one of the two."""
    s.unknown(_allowed("seconds", "until"))
    if "until" in s.raw:
        if "seconds" in s.raw:
            s.problem("a delay node takes `seconds` or `until`, not both.")
            return None
        until = s.templated("until", 200)
        if until is not None and "{{" not in until and parse_time(until) is None:
            s.problem(f"`until` must be a time with its UTC offset, e.g. 2026-12-24T18:00:00Z, not {until!r}.")
        return None if until is None else {"_class": DelayNode, "until": until}
    seconds = s.whole("seconds", 1, MAX_DELAY, unit=" (30 days), or the delay `until` a time")
    return None if seconds is None else {"_class": DelayNode, "seconds": seconds}


def _wait(s: Settings) -> dict[str, Any] | None:
    s.unknown(_allowed("timeout_seconds"))
    timeout = s.whole("timeout_seconds", 1, MAX_WAIT, default=3600, unit=" (7 days)")
    return None if timeout is None else {"_class": WaitNode, "timeout_seconds": timeout}


def _http(s: Settings) -> dict[str, Any] | None:
    s.unknown(_allowed("method", "url", "headers", "body", "timeout_seconds", "retries"))
    method = s.text("method", 10, default="GET", choices=METHODS)
    url = s.templated("url", 2048)
    if url is not None and not re.match(r"^https?://[^\s/{}]", url, re.IGNORECASE):
        s.problem("`url` must start with http:// or https:// and a host (a placeholder may follow the host).")
    headers = s.raw.get("headers", {})
    if not isinstance(headers, Mapping) or len(headers) > MAX_HEADERS:
        s.problem(f"`headers` must be an object of at most {MAX_HEADERS} header names and text values.")
        headers = {}
    for name, value in headers.items():
        if not HEADER_NAME.match(name):
            s.problem(f"`headers`: {name!r} is not a valid header name.")
        elif not isinstance(value, str) or len(value) > MAX_TEXT:
            s.problem(f"`headers.{name}` must be a text of at most {MAX_TEXT} characters.")
        else:
            s.check_template(value, f"`headers.{name}`")
    body = s.raw.get("body")
    for where, leaf in _string_leaves(body, "body"):
        s.check_template(leaf, f"`{where}`")
    timeout = s.whole("timeout_seconds", 1, 30, default=10)
    retries = s.whole("retries", 0, 5, default=2)
    return {"_class": HttpNode, "method": method, "url": url, "headers": dict(headers), "body": body,
            "timeout_seconds": timeout, "retries": retries}


def _email(s: Settings) -> dict[str, Any] | None:
    s.unknown(_allowed("to", "subject", "body"))
    to = s.templated("to", 1000)
    if to is not None and "{{" not in to and not EMAIL.match(to.strip()):
        s.problem(f"`to`: {to.strip()!r} is not an e-mail address (one address, such as ops@example.com).")
    subject = s.templated("subject", 998)
    body = s.templated("body", 100_000)
    return {"_class": EmailNode, "to": to, "subject": subject, "body": body}


def _set_variable(s: Settings) -> dict[str, Any] | None:
    raw = s.raw
    if "name" in raw or "value" in raw:  # the single form, normalized to `variables`
        s.unknown(_allowed("name", "value"))
        name = raw.get("name")
        if not isinstance(name, str) or "value" not in raw:
            s.problem("the single form of set_variable needs a `name` (a text) and a `value`.")
            return None
        variables: Any = {name: raw["value"]}
    else:
        s.unknown(_allowed("variables"))
        variables = raw.get("variables")
    if not isinstance(variables, Mapping) or not 1 <= len(variables) <= MAX_VARIABLES:
        s.problem(f"{s.what} needs `variables`, an object of 1 to {MAX_VARIABLES} names and their values.")
        return None
    out: dict[str, str] = {}
    for name, value in variables.items():
        if not isinstance(name, str) or not VARIABLE_NAME.match(name):
            s.problem(f"{name!r} is not a variable name: use 1 to 64 letters, digits and _.")
        elif isinstance(value, bool | int | float) or (isinstance(value, str) and len(value) <= MAX_TEXT):
            out[name] = stringify(value)
            s.check_template(out[name], f"`{name}`")
        else:
            s.problem(f"the value of {name!r} must be a text (placeholders allowed) or a number, "
                      f"of at most {MAX_TEXT} characters.")
    return {"_class": SetVariableNode, "variables": out}


def _handoff(s: Settings) -> dict[str, Any] | None:
    s.unknown(_allowed("team_id", "note"))
    team_id = s.text("team_id", 200, default=None)
    note = s.templated("note", MAX_TEXT, default=None)
    return {"_class": HandoffNode, "team_id": team_id, "note": note}


def _string_leaves(value: Any, where: str, depth: int = 0):
    if depth > 32:
        return
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _string_leaves(item, f"{where}.{key}", depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _string_leaves(item, f"{where}[{index}]", depth + 1)
