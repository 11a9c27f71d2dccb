"""Schemathesis hooks (SCHEMATHESIS_HOOKS) for the formats our OpenAPI document names beyond JSON Schema's
own: what no pattern can say exactly, so the generator is told how to make valid values.

- `phone`: a phone number that is valid for its country (the phonenumbers metadata decides; a random
  string of digits mostly is not one, and the API answers 422 for it, as documented).
- `cursor`: a cursor as this API issues them (`next_cursor`): the (sort key, id) of a position.
- `timezone`: an IANA time zone name (Europe/Berlin), as the machine's zone database knows them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import available_timezones

import phonenumbers
import schemathesis
from hypothesis import strategies as st

_EXAMPLES = sorted(
    phonenumbers.format_number(n, phonenumbers.PhoneNumberFormat.E164)
    for n in (phonenumbers.example_number_for_type(r, phonenumbers.PhoneNumberType.MOBILE)
              for r in phonenumbers.SUPPORTED_REGIONS) if n is not None)

schemathesis.openapi.format("phone", st.sampled_from(_EXAMPLES))
schemathesis.openapi.format("timezone", st.sampled_from(sorted(available_timezones())))

try:
    from switchboard_runtime.http.pagination import encode_cursor
except ImportError:  # pragma: no cover - an older layout without shared cursors
    encode_cursor = None
if encode_cursor is not None:
    schemathesis.openapi.format("cursor", st.builds(
        encode_cursor, st.datetimes(timezones=st.just(UTC)), st.uuids().map(str)))


# --- rules between fields, which JSON Schema cannot state ---------------------------------------
# The campaigns API documents them in prose and answers 422 when they are broken: a window's end is not
# its start, a delay's min is not above its max, a schedule ends after it starts and does not start in
# the past. A generated *positive* body is brought within them (negative ones are left alone), and a
# positive CSV upload gets the header row a contact file must have.

def _repair_campaign(body: dict) -> None:
    window = body.get("window")
    if isinstance(window, dict) and isinstance(window.get("start"), str) and window.get("start") == window.get("end"):
        window["end"] = "23:59" if window["start"] != "23:59" else "00:00"
    delay = body.get("delay_ms")
    if isinstance(delay, dict) and all(isinstance(delay.get(k), (int, float)) for k in ("min", "max")) \
            and delay["min"] > delay["max"]:
        delay["min"], delay["max"] = delay["max"], delay["min"]
    schedule = body.get("schedule")
    if isinstance(schedule, dict):
        now = datetime.now(UTC)
        start, end = _instant(schedule.get("start_at")), _instant(schedule.get("end_at"))
        if start is not None and start < now:
            start = now + timedelta(days=1)
            schedule["start_at"] = start.isoformat()
        if end is not None and (end <= now or (start is not None and end <= start)):
            schedule["end_at"] = ((start or now) + timedelta(days=1)).isoformat()


def _instant(value):
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.utcoffset() is not None else None


# Message content (`POST /v1/messages`, `/bulk`, campaigns): Meta's rules between a template's components
# (at most one header and one body, each button index once, body values of at most 1024 characters when
# there are other components) and an interactive message's options (ids and titles unique, at most ten
# rows in all, a title on each of several sections, a list's header text only, a button message's body
# at most 1024 characters). Stated in the API's 422s and README; JSON Schema cannot say "unique by key".

def _repair_template(t: dict) -> None:
    components = t.get("components")
    if not isinstance(components, list):
        return
    kept, seen, indexes = [], set(), set()
    for c in components:
        kind = c.get("type") if isinstance(c, dict) else None
        if kind in ("header", "body"):
            if kind in seen:
                continue
            seen.add(kind)
        if kind == "button" and isinstance(c.get("index"), float) and c["index"].is_integer():
            c["index"] = int(c["index"])  # 1.0 is the index 1
        if kind == "button" and isinstance(c.get("index"), int):
            if c["index"] in indexes:
                free = [i for i in range(10) if i not in indexes]
                if not free:
                    continue
                c["index"] = free[0]
            indexes.add(c["index"])
        kept.append(c)
    if len(kept) > 1:
        for c in kept:
            if isinstance(c, dict) and c.get("type") == "body":
                for p in c.get("parameters") or []:
                    if isinstance(p, dict) and isinstance(p.get("text"), str):
                        p["text"] = p["text"][:1024]
    t["components"] = kept


def _unique(items: list, get, put, limit: int) -> None:
    seen = set()
    for i, item in enumerate(items):
        value = get(item)
        if isinstance(value, str) and value in seen:
            value = (value[: limit - 3] + f"~{i}")[:limit]
            put(item, value)
        seen.add(value)


def _repair_interactive(m: dict) -> None:
    action, body = m.get("action"), m.get("body")
    if not isinstance(action, dict):
        return
    if m.get("type") == "button":
        if isinstance(body, dict) and isinstance(body.get("text"), str):
            body["text"] = body["text"][:1024]
        buttons = [b for b in action.get("buttons") or [] if isinstance(b, dict) and isinstance(b.get("reply"), dict)]
        _unique(buttons, lambda b: b["reply"].get("id"), lambda b, v: b["reply"].__setitem__("id", v), 256)
        _unique(buttons, lambda b: b["reply"].get("title"), lambda b, v: b["reply"].__setitem__("title", v), 20)
    elif m.get("type") == "list":
        if isinstance(m.get("header"), dict) and m["header"].get("type") != "text":
            del m["header"]
        sections, left = [], 10
        for section in (s for s in action.get("sections") or [] if isinstance(s, dict)):
            if left <= 0 or not isinstance(section.get("rows"), list):
                break
            section["rows"] = section["rows"][:left]
            left -= len(section["rows"])
            sections.append(section)
        if len(sections) > 1:
            for i, section in enumerate(sections):
                if not section.get("title"):
                    section["title"] = f"Section {i}"
        if "sections" in action:
            action["sections"] = sections
        rows = [r for s in sections for r in s["rows"] if isinstance(r, dict)]
        _unique(rows, lambda r: r.get("id"), lambda r, v: r.__setitem__("id", v), 200)


def _repair_content(body: dict) -> None:
    if isinstance(body.get("template"), dict):
        _repair_template(body["template"])
    if isinstance(body.get("interactive"), dict):
        _repair_interactive(body["interactive"])


# Flows: a definition is a graph whose rules (one start, edges between existing nodes and exits, every
# node reachable, loops that wait) no JSON Schema states; a positive body becomes a valid definition of
# the generated name. An auto-reply's message and business hours are brought within their rules the
# same way (a text with no malformed placeholder, intervals that end after they start).

def _valid_flow(body: dict) -> dict:
    name = body.get("name")
    return {"name": name if isinstance(name, str) and 0 < len(name.strip()) and len(name) <= 200 else "flow",
            "trigger": {"type": "api"}, "nodes": [{"id": "start", "type": "start"}, {"id": "end", "type": "end"}],
            "edges": [{"from": "start", "to": "end"}]}


def _repair_auto_reply(body: dict) -> None:
    if "message" in body:
        body["message"] = {"type": "text", "text": "Thanks, we will answer soon."}
    keywords = body.get("keywords")
    if isinstance(keywords, dict):
        words = [w for w in keywords.get("keywords") or [] if isinstance(w, str) and w.strip() and "{{" not in w]
        if words:
            body["keywords"] = {"keywords": words[:100], "match": "contains"}
        else:
            body.pop("keywords")
    hours = body.get("business_hours")
    if isinstance(hours, dict) and isinstance(hours.get("hours"), dict):
        for day, intervals in hours["hours"].items():
            if isinstance(intervals, list):
                hours["hours"][day] = [sorted(i) for i in intervals if isinstance(i, list) and len(set(i)) == 2]


# The inbox: an assignee or a team must exist in the organization (a generated id does not: 422, as
# documented), an SLA policy's business hours are spans that end after they start and do not overlap.

def _without_nulls(value):
    """The messages API refuses explicit nulls and its document offers none (a property that may not be
    given is `false`), yet the generator sometimes sends one for such a property: leave them out."""
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def _repair_assign(body: dict) -> None:
    for field in ("agent_id", "team_id"):
        if field in body:
            body[field] = "none"


def _repair_sla_policy(body: dict) -> None:
    if isinstance(body.get("escalation"), dict):
        body["escalation"].pop("team_id", None)
    hours = (body.get("business_hours") or {}).get("hours") if isinstance(body.get("business_hours"), dict) else None
    if not isinstance(hours, dict):
        return
    minutes = lambda clock: int(clock[:2]) * 60 + int(clock[3:])  # noqa: E731
    for day, spans in hours.items():
        kept, end = [], -1
        for span in sorted((s for s in spans if isinstance(s, dict) and isinstance(s.get("start"), str)
                            and isinstance(s.get("end"), str) and minutes(s["start"]) < minutes(s["end"])),
                           key=lambda s: minutes(s["start"])) if isinstance(spans, list) else []:
            if minutes(span["start"]) >= end:
                kept.append(span)
                end = minutes(span["end"])
        hours[day] = kept
    if not any(hours.values()):
        hours["mon"] = [{"start": "09:00", "end": "17:00"}]


@schemathesis.hook
def before_call(ctx, case, kwargs):  # every phase's cases pass here (map_case misses the coverage phase's)
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return
    if isinstance(case.body, dict) and case.operation.path.startswith(("/v1/campaigns", "/v1/broadcast-lists")):
        _repair_campaign(case.body)
    if isinstance(case.body, dict):
        _repair_content(case.body)
    if case.media_type == "text/csv":
        case.body = f"phone,name\n{_EXAMPLES[0]},Ana\n"
    path = case.operation.path
    if isinstance(case.body, dict) and path in ("/v1/flows", "/v1/flows/validate", "/v1/flows/{flow_id}") \
            and case.operation.method.upper() in ("POST", "PUT"):
        case.body = _valid_flow(case.body)
    if isinstance(case.body, dict) and path.startswith("/v1/auto-replies"):
        _repair_auto_reply(case.body)
    if isinstance(case.body, dict) and path == "/v1/conversations/{conversation_id}/assign":
        _repair_assign(case.body)
    if isinstance(case.body, dict) and path.startswith("/v1/sla-policies"):
        _repair_sla_policy(case.body)
    if isinstance(case.body, dict) and path.startswith(("/v1/messages", "/v1/conversations")):
        case.body = _without_nulls(case.body)
