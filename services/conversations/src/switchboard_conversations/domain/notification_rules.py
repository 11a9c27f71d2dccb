"""What a notification rule decides for one ERP event (pure): whether its condition holds, the
template language for the event's `locale`, the template's values read from the event by path
(`data.order_id`, `id`, `source`, `time`), and how far along an order the event is (its stage: a late
event for an earlier stage does not go backwards)."""

from __future__ import annotations

from typing import Any

from switchboard_contracts.notification import ORDER_STAGES

OPS = ("eq", "ne", "in", "not_in", "exists", "gt", "gte", "lt", "lte", "contains")


class MissingValue(ValueError):
    def __init__(self, path: str):
        super().__init__(f"the event has no value at {path!r}")
        self.path = path


def read(event: dict[str, Any], path: str) -> Any:
    """The value at a dotted path of the CloudEvent (`data.customer.name`); MissingValue if absent."""
    value: Any = event
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            raise MissingValue(path)
    return value


def holds(condition: dict | None, event: dict[str, Any]) -> bool:
    """`{"path", "op", "value"}` (op one of OPS; `all` / `any`: lists of conditions); no condition holds."""
    if not condition:
        return True
    if "all" in condition:
        return all(holds(c, event) for c in condition["all"])
    if "any" in condition:
        return any(holds(c, event) for c in condition["any"])
    op, wanted = condition.get("op", "eq"), condition.get("value")
    try:
        value = read(event, condition["path"])
    except MissingValue:
        return op in ("ne", "not_in") or (op == "exists" and wanted is False)
    if op == "exists":
        return wanted is not False
    try:
        return {"eq": lambda: value == wanted, "ne": lambda: value != wanted,
                "in": lambda: value in wanted, "not_in": lambda: value not in wanted,
                "gt": lambda: value > wanted, "gte": lambda: value >= wanted,
                "lt": lambda: value < wanted, "lte": lambda: value <= wanted,
                "contains": lambda: wanted in value}[op]()
    except TypeError:  # a comparison of things that do not compare (a number with a text)
        return False


def language_for(template: dict, locale: str | None) -> str:
    """The rule's language for the event's locale: the locale itself (`ro-RO` and `ro_RO` alike), its
    language alone (`ro`), else the fallback."""
    languages: dict[str, str] = template.get("languages") or {}
    if locale:
        wanted = locale.replace("-", "_")
        for key in (wanted, wanted.split("_")[0]):
            for known, language in languages.items():
                if known.replace("-", "_").lower() == key.lower():
                    return language
    return template.get("fallback") or next(iter(languages.values()), "en_US")


def values(parameters: dict[str, str], event: dict[str, Any]) -> dict[str, str]:
    """The template's values (by variable) read from the event; MissingValue names a missing one."""
    out = {}
    for slot, path in parameters.items():
        value = read(event, path)
        if value is None or value == "":
            raise MissingValue(path)
        out[slot] = str(value)
    return out


def stage_of(event: str, rule_stage: int | None) -> int | None:
    """How far along its order an event is (`order.confirmed` 1, `shipped` 2, `delivered` and
    `cancelled` 3, or the rule's own `stage`); None: an event outside any order's progress."""
    return rule_stage if rule_stage is not None else ORDER_STAGES.get(event)
