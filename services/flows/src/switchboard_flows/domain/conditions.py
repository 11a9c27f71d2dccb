"""The condition node: rules read and checked (`parse_condition_node`), and the choice of its exit
at run time (`choose_exit`: the first rule that matches, else `else`).

Text ops (`equals`, `contains`, `starts_with`, `regex`, `one_of`) ignore case and accents
(text_match). Value ops: `==`, `!=`, `<`, `>` compare as numbers when both sides read as numbers
(`"10"` > `9`), else as the exact text; `exists` is true when the path has a value that is not
empty. A missing value matches only `!=`."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from .context import Context, path_problem, stringify
from .nodes import ELSE, PRESENTATION, Condition, ConditionNode, Rule
from .settings import Settings
from .text_match import TEXT_OPS, RegexRejected, compile_regex, text_matches

VALUE_OPS = ("==", "!=", "<", ">", "exists")
OPS = (*TEXT_OPS, *VALUE_OPS)
MAX_RULES, MAX_CHOICES, MAX_VALUE = 100, 100, 1000
_NUMBER = re.compile(r"^\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*$")


def parse_condition_node(s: Settings) -> dict[str, Any] | None:
    s.unknown({"id", "type", *PRESENTATION, "rules"})
    raw_rules = s.raw.get("rules")
    if not isinstance(raw_rules, list) or not 1 <= len(raw_rules) <= MAX_RULES:
        s.problem(f"{s.what} needs `rules`, a list of 1 to {MAX_RULES} rules "
                  "like {\"exit\": \"yes\", \"if\": {\"field\": \"flow.message\", \"op\": \"contains\", \"value\": \"yes\"}}.")
        return None
    rules, seen = [], set()
    for index, raw in enumerate(raw_rules):
        rule = _rule(s, raw, f"rules[{index}]")
        if rule is None:
            continue
        if rule.exit in seen:
            s.problem(f"`rules[{index}]`: the exit {rule.exit!r} is already used by an earlier rule; "
                      "give each rule its own exit.")
        seen.add(rule.exit)
        rules.append(rule)
    return {"_class": ConditionNode, "rules": tuple(rules)}


def condition_exits(raw: Any) -> tuple[str, ...]:
    """The exits a condition node's JSON declares, however broken the rest is (for the edge checks)."""
    rules = raw.get("rules") if isinstance(raw, dict) else None
    names = [r["exit"] for r in rules if isinstance(r, dict) and isinstance(r.get("exit"), str)] \
        if isinstance(rules, list) else []
    return (*dict.fromkeys(n for n in names if n != ELSE), ELSE)


def _rule(s: Settings, raw: Any, where: str) -> Rule | None:
    if not isinstance(raw, dict) or set(raw) - {"exit", "if"}:
        s.problem(f"`{where}` must be an object with `exit` and `if` (and nothing else).")
        return None
    name = raw.get("exit")
    if not isinstance(name, str) or not name.strip() or len(name) > 100 or name == ELSE:
        s.problem(f"`{where}.exit` must be a name of 1 to 100 characters other than \"else\" "
                  "(else is the exit when no rule matches).")
        name = None
    condition = _condition(s, raw.get("if"), f"{where}.if")
    return Rule(name, condition) if name is not None and condition is not None else None


def _condition(s: Settings, raw: Any, where: str) -> Condition | None:
    if not isinstance(raw, dict) or set(raw) - {"field", "op", "value"}:
        s.problem(f"`{where}` must be an object with `field`, `op` and (except for exists) `value`.")
        return None
    field, op, value = raw.get("field"), raw.get("op"), raw.get("value")
    problems = len(s.problems)
    if not isinstance(field, str) or not field:
        s.problem(f"`{where}.field` must be a path such as flow.message or vars.answer.")
    elif (reason := path_problem(field, s.http_nodes)) is not None:
        s.problem(f"`{where}.field`: {field} {reason}.")
    if op not in OPS:
        s.problem(f"`{where}.op` must be one of {', '.join(OPS)}, not {op!r}.")
        return None
    pattern, value = _value(s, op, value, "value" in raw, where)
    if len(s.problems) > problems:
        return None
    return Condition(field, op, value, pattern)


def _value(s: Settings, op: str, value: Any, given: bool, where: str) -> tuple[Any, Any]:
    """(compiled regex or None, the value as stored), recording what is wrong with it."""
    if op == "exists":
        if given:
            s.problem(f"`{where}`: exists takes no `value`.")
        return None, None
    if op == "one_of":
        if not isinstance(value, list) or not 1 <= len(value) <= MAX_CHOICES or \
                not all(isinstance(v, str) and len(v) <= MAX_VALUE for v in value):
            s.problem(f"`{where}.value` must be a list of 1 to {MAX_CHOICES} texts for one_of.")
        return None, tuple(value) if isinstance(value, list) else value
    if op in TEXT_OPS:
        if not isinstance(value, str) or not value or len(value) > MAX_VALUE:
            s.problem(f"`{where}.value` must be a non-empty text of at most {MAX_VALUE} characters for {op}.")
            return None, value
        if op == "regex":
            try:
                return compile_regex(value), value
            except RegexRejected as error:
                s.problem(f"`{where}.value` {error}.")
        return None, value
    if not isinstance(value, str | int | float | bool) or (isinstance(value, str) and len(value) > MAX_VALUE):
        s.problem(f"`{where}.value` must be a text, a number or true/false for {op}.")
    return None, value


def choose_exit(node: ConditionNode, context: Context | dict) -> str:
    """The exit of the first rule that matches, else "else"."""
    context = Context.of(context)
    for rule in node.rules:
        if condition_matches(rule.condition, context):
            return rule.exit
    return ELSE


def condition_matches(condition: Condition, context: Context | dict) -> bool:
    value = Context.of(context).value(condition.field)
    op = condition.op
    if op == "exists":
        return value is not None and (not isinstance(value, str) or bool(value.strip()))
    if value is None:
        return op == "!="
    if op in TEXT_OPS:
        return text_matches(op, stringify(value), condition.value, condition.pattern)
    return compare(op, value, condition.value)


def compare(op: str, left: Any, right: Any) -> bool:
    """`==`, `!=`, `<`, `>`: as numbers when both sides read as numbers, else as exact text."""
    a, b = _number(left), _number(right)
    if a is None or b is None:
        a, b = stringify(left), stringify(right)
    return {"==": a == b, "!=": a != b, "<": a < b, ">": a > b}[op]


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float | str) and _NUMBER.match(str(value)):
        try:
            return Decimal(str(value).strip())
        except InvalidOperation:
            return None
    return None
