"""Schemathesis hooks (SCHEMATHESIS_HOOKS) for the formats our OpenAPI document names beyond JSON Schema's
own: what no pattern can say exactly, so the generator is told how to make valid values.

- `phone`: a phone number that is valid for its country (the phonenumbers metadata decides; a random
  string of digits mostly is not one, and the API answers 422 for it, as documented).
- `cursor`: a cursor as this API issues them (`next_cursor`): the (sort key, id) of a position."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import phonenumbers
import schemathesis
from hypothesis import strategies as st

_EXAMPLES = sorted(
    phonenumbers.format_number(n, phonenumbers.PhoneNumberFormat.E164)
    for n in (phonenumbers.example_number_for_type(r, phonenumbers.PhoneNumberType.MOBILE)
              for r in phonenumbers.SUPPORTED_REGIONS) if n is not None)

schemathesis.openapi.format("phone", st.sampled_from(_EXAMPLES))

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
    if isinstance(delay, dict) and all(isinstance(delay.get(k), int) for k in ("min", "max")) \
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


@schemathesis.hook
def before_call(ctx, case, kwargs):  # every phase's cases pass here (map_case misses the coverage phase's)
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return
    if isinstance(case.body, dict) and case.operation.path.startswith(("/v1/campaigns", "/v1/broadcast-lists")):
        _repair_campaign(case.body)
    if case.media_type == "text/csv":
        case.body = f"phone,name\n{_EXAMPLES[0]},Ana\n"
