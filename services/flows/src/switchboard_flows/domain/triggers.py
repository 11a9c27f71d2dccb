"""What starts a flow: a keyword in an inbound text (`keyword`, matched ignoring case and accents:
`equals`, `contains`, `starts_with` or an RE2 `regex` searched in the text), any inbound message
(`any_message`), a public event whose data matches a filter (`event`), or an API call (`api`). Each
may be limited to some of the organization's senders (`sender_ids`; default all). Parsing checks a
trigger (`parse_trigger`); matching is `keyword_matches`, `inbound_matches` and `event_matches`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from switchboard_contracts.catalog import EVENTS

from .context import stringify
from .settings import Settings
from .text_match import RegexRejected, compile_regex, text_matches

KEYWORD_MATCHES = ("equals", "contains", "starts_with", "regex")
EVENT_TYPES = tuple(spec.type for spec in EVENTS)
MAX_KEYWORDS, MAX_KEYWORD, MAX_SENDERS, MAX_FILTERS, MAX_FILTER_VALUES = 100, 200, 100, 20, 100


@dataclass(frozen=True, kw_only=True)
class Trigger:
    sender_ids: tuple[str, ...] | None = None  # None: every sender of the organization
    type: ClassVar[str] = ""

    def applies_to(self, sender_id: str | None) -> bool:
        return self.sender_ids is None or sender_id in self.sender_ids

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type, **self._settings()}
        return out if self.sender_ids is None else {**out, "sender_ids": list(self.sender_ids)}

    def _settings(self) -> dict[str, Any]:
        return {}


@dataclass(frozen=True, kw_only=True)
class KeywordTrigger(Trigger):
    type: ClassVar[str] = "keyword"
    keywords: tuple[str, ...]
    match: str = "equals"
    patterns: tuple[Any, ...] = field(default=(), compare=False, repr=False)  # compiled, for regex

    def _settings(self) -> dict[str, Any]:
        return {"keywords": list(self.keywords), "match": self.match}


@dataclass(frozen=True, kw_only=True)
class AnyMessageTrigger(Trigger):
    type: ClassVar[str] = "any_message"


@dataclass(frozen=True, kw_only=True)
class EventTrigger(Trigger):
    """`filter`: dotted path into the event's data → the values it may have (any of them)."""

    type: ClassVar[str] = "event"
    event_type: str
    filter: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)

    def _settings(self) -> dict[str, Any]:
        filters = {k: v[0] if len(v) == 1 else list(v) for k, v in self.filter.items()}
        return {"event_type": self.event_type, "filter": filters}


@dataclass(frozen=True, kw_only=True)
class ApiTrigger(Trigger):
    type: ClassVar[str] = "api"


TRIGGERS: dict[str, type[Trigger]] = {c.type: c for c in (KeywordTrigger, AnyMessageTrigger, EventTrigger, ApiTrigger)}


def keyword_matches(trigger: Trigger, text: str | None) -> bool:
    """Whether an inbound text fires a keyword trigger (False for other triggers and no text)."""
    if not isinstance(trigger, KeywordTrigger) or not text:
        return False
    if trigger.match == "regex":
        return any(text_matches("regex", text, k, p) for k, p in zip(trigger.keywords, trigger.patterns))
    return any(text_matches(trigger.match, text, k) for k in trigger.keywords)


def inbound_matches(trigger: Trigger, sender_id: str | None, text: str | None) -> bool:
    """Whether an inbound message to `sender_id` fires the trigger: a keyword trigger on its text,
    any_message on anything (text or not), each only for its senders."""
    if not trigger.applies_to(sender_id):
        return False
    return isinstance(trigger, AnyMessageTrigger) or keyword_matches(trigger, text)


def event_matches(trigger: Trigger, event_type: str, data: Mapping[str, Any]) -> bool:
    """Whether a public event fires an event trigger: its type, every filter path holding one of
    its values (compared as text, so 131049 matches "131049"; a null value matches a missing one),
    and, when the trigger lists senders, the data's `sender_id` among them."""
    if not isinstance(trigger, EventTrigger) or event_type != trigger.event_type:
        return False
    if trigger.sender_ids is not None and data.get("sender_id") not in trigger.sender_ids:
        return False
    return all(_at(data, path) in {stringify(v) for v in wanted} for path, wanted in trigger.filter.items())


def _at(data: Any, path: str) -> str | None:
    for key in path.split("."):
        if isinstance(data, Mapping):
            data = data.get(key)
        elif isinstance(data, list) and key.isdigit() and int(key) < len(data):
            data = data[int(key)]
        else:
            return None
    return stringify(data)


def parse_trigger(raw: Any) -> tuple[Trigger | None, list[str]]:
    """The trigger, or None, and the problems with it (sentences starting "trigger")."""
    if not isinstance(raw, Mapping) or not isinstance(raw.get("type"), str) or raw["type"] not in TRIGGERS:
        got = raw.get("type") if isinstance(raw, Mapping) else raw
        return None, [f"trigger: a flow needs a `trigger` whose `type` is one of {', '.join(TRIGGERS)} "
                      f"(got {got!r})."]
    s = Settings(raw, ("an " if raw["type"][0] in "aeiou" else "a ") + raw["type"].replace("_", " ") + " trigger")
    kind = raw["type"]
    s.unknown({"type", "sender_ids", *{"keyword": ("keywords", "match"), "event": ("event_type", "filter")}.get(kind, ())})
    sender_ids = _sender_ids(s)
    fields: dict[str, Any] = {"keyword": _keyword, "event": _event}.get(kind, lambda _: {})(s)
    problems = [f"trigger: {p}" for p in s.problems]
    if problems:
        return None, problems
    return TRIGGERS[kind](sender_ids=sender_ids, **fields), []


def _sender_ids(s: Settings) -> tuple[str, ...] | None:
    ids = s.raw.get("sender_ids")
    if ids is None:
        return None
    if not isinstance(ids, list) or not 1 <= len(ids) <= MAX_SENDERS or \
            not all(isinstance(i, str) and i for i in ids) or len(set(ids)) != len(ids):
        s.problem(f"`sender_ids` must list 1 to {MAX_SENDERS} different sender ids (leave it out for every sender).")
        return None
    return tuple(ids)


def _keyword(s: Settings) -> dict[str, Any]:
    match = s.text("match", 20, default="equals", choices=KEYWORD_MATCHES)
    keywords = s.raw.get("keywords")
    if not isinstance(keywords, list) or not 1 <= len(keywords) <= MAX_KEYWORDS or \
            not all(isinstance(k, str) and k.strip() and len(k) <= MAX_KEYWORD for k in keywords):
        s.problem(f"`keywords` must list 1 to {MAX_KEYWORDS} non-empty texts of at most {MAX_KEYWORD} characters.")
        return {}
    patterns = []
    if match == "regex":
        for keyword in keywords:
            try:
                patterns.append(compile_regex(keyword))
            except RegexRejected as error:
                s.problem(f"the keyword {keyword!r} {error}.")
    return {"keywords": tuple(keywords), "match": match, "patterns": tuple(patterns)}


def _event(s: Settings) -> dict[str, Any]:
    event_type = s.raw.get("event_type")
    if event_type not in EVENT_TYPES:
        s.problem(f"`event_type` {event_type!r} is not a published event type; use one of {', '.join(EVENT_TYPES)}.")
    filters = s.raw.get("filter", {})
    if not isinstance(filters, Mapping) or len(filters) > MAX_FILTERS:
        s.problem(f"`filter` must be an object of at most {MAX_FILTERS} paths into the event's data and their values.")
        return {}
    out: dict[str, tuple[Any, ...]] = {}
    for path, wanted in filters.items():
        values = wanted if isinstance(wanted, list) else [wanted]
        if not path or any(not part for part in path.split(".")):
            s.problem(f"`filter`: {path!r} is not a dotted path into the event's data (e.g. status or error.code).")
        elif not 1 <= len(values) <= MAX_FILTER_VALUES or \
                not all(v is None or isinstance(v, str | int | float | bool) for v in values):
            s.problem(f"`filter.{path}` must be a text, number, true/false or null, or a list of 1 to "
                      f"{MAX_FILTER_VALUES} of them.")
        else:
            out[path] = tuple(values)
    return {"event_type": event_type, "filter": out}
