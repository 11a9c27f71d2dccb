"""What Meta accepts as a message template (WhatsApp Business Management API, `POST
/{waba_id}/message_templates`), checked before we submit it so a mistake is a 422 naming the field
instead of a rejection hours later: the name, the language, the category, the parameter format, and
the components — header, body, footer, buttons — with the examples Meta requires for variables."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from switchboard_contracts.template_slots import HEADER_FORMATS, VARIABLE, variables

NAME = re.compile(r"^[a-z0-9_]{1,512}$")
ENDS_WITH_VARIABLE = re.compile(r"\{\{[^{}]*\}\}$")
NAMED_VARIABLE = re.compile(r"^[a-z][a-z0-9_]*$")
CATEGORIES = ("MARKETING", "UTILITY", "AUTHENTICATION")
PARAMETER_FORMATS = ("POSITIONAL", "NAMED")
# The languages Meta offers for templates (its "Supported languages" list).
LANGUAGES = frozenset("""
af sq ar ar_EG ar_AE ar_LB ar_MA ar_QA az be_BY bn bn_IN bg ca zh_CN zh_HK zh_TW hr cs da prs_AF nl nl_BE
en en_GB en_US en_AE en_AU en_CA en_GH en_IE en_IN en_JM en_MY en_NZ en_QA en_SG en_UG en_ZA et fil fi fr
fr_BE fr_CA fr_CH fr_CI fr_MA ka de de_AT de_CH el gu ha he hi hu id ga it ja kn kk rw_RW ko ky_KG lo lv lt
mk ms ml mr nb ps_AF fa pl pt_BR pt_PT pa ro ru sr si_LK sk sl es es_AR es_CL es_CO es_CR es_DO es_EC es_HN
es_MX es_PA es_PE es_ES es_UY sw sv ta te th tr uk ur uz vi zu""".split())
ORDER = ("HEADER", "BODY", "FOOTER", "BUTTONS")
BUTTON_TYPES = ("QUICK_REPLY", "URL", "PHONE_NUMBER", "COPY_CODE", "OTP")
LIMITS = {"header": 60, "body": 1024, "footer": 60, "button": 25, "url": 2000, "phone": 20, "code": 15}


@dataclass
class Problems:
    """Every problem found, each naming its field (`components[1].text`)."""

    items: list[tuple[str, str]] = field(default_factory=list)

    def add(self, where: str, message: str) -> None:
        self.items.append((where, message))

    def __bool__(self) -> bool:
        return bool(self.items)


def check_definition(name: str, language: str, category: str, parameter_format: str,
                     components: list[dict]) -> Problems:
    p = Problems()
    if not NAME.match(name or ""):
        p.add("name", "lowercase letters, digits and underscores, at most 512 characters")
    if language not in LANGUAGES:
        p.add("language", f"{language!r} is not a language Meta offers for templates (e.g. en_US, pt_BR, ro)")
    if category not in CATEGORIES:
        p.add("category", f"one of {', '.join(CATEGORIES)}")
    if parameter_format not in PARAMETER_FORMATS:
        p.add("parameter_format", f"one of {', '.join(PARAMETER_FORMATS)}")
    _check_components(components, category, parameter_format, p)
    return p


def _check_components(components: list, category: str, fmt: str, p: Problems) -> None:
    if not isinstance(components, list) or not components:
        p.add("components", "a list with at least a BODY component")
        return
    seen: list[str] = []
    for i, c in enumerate(components):
        where = f"components[{i}]"
        kind = c.get("type") if isinstance(c, dict) else None
        if kind not in ORDER:
            p.add(f"{where}.type", f"one of {', '.join(ORDER)}")
            continue
        if kind in seen:
            p.add(f"{where}.type", f"at most one {kind} component")
            continue
        if seen and ORDER.index(kind) < ORDER.index(seen[-1]):
            p.add(f"{where}.type", "components go in the order HEADER, BODY, FOOTER, BUTTONS")
        seen.append(kind)
        {"HEADER": _header, "BODY": _body, "FOOTER": _footer, "BUTTONS": _buttons}[kind](c, where, category, fmt, p)
    if "BODY" not in seen:
        p.add("components", "a BODY component is required")
    if category == "AUTHENTICATION" and "HEADER" in seen:
        p.add("components", "an AUTHENTICATION template has no HEADER")


def _text(c: dict, where: str, limit: int, p: Problems) -> str | None:
    text = c.get("text")
    if not isinstance(text, str) or not text.strip():
        p.add(f"{where}.text", "required (non-empty text)")
        return None
    if len(text) > limit:
        p.add(f"{where}.text", f"at most {limit} characters")
    return text


def _names_fit(names: list[str], fmt: str, where: str, p: Problems) -> bool:
    """Variables are {{1}}, {{2}}... in order (POSITIONAL) or lowercase names (NAMED), never mixed."""
    if fmt == "POSITIONAL":
        if any(not n.isdigit() for n in names):
            p.add(where, "a POSITIONAL template's variables are {{1}}, {{2}}, ...")
            return False
        if [int(n) for n in names] != list(range(1, len(names) + 1)):
            p.add(where, "variables are numbered {{1}}, {{2}}, ... in order, each once")
            return False
    elif fmt == "NAMED":
        if bad := [n for n in names if not NAMED_VARIABLE.match(n)]:
            p.add(where, f"a NAMED template's variables are lowercase names such as {{{{order_id}}}}, not {{{{{bad[0]}}}}}")
            return False
        if len(set(names)) != len(names):
            p.add(where, "each named variable at most once")
            return False
    return True


def _examples(c: dict, key_positional: str, key_named: str, names: list[str], fmt: str, where: str,
              nested: bool, p: Problems) -> None:
    """Meta wants an example value for every variable: `example.body_text: [[...]]` /
    `example.header_text: [...]`, or `..._named_params: [{"param_name", "example"}]` for NAMED."""
    if not names:
        return
    example = c.get("example") if isinstance(c.get("example"), dict) else {}
    if fmt == "NAMED":
        given = example.get(key_named)
        got = [e.get("param_name") for e in given if isinstance(e, dict) and e.get("example")] \
            if isinstance(given, list) else []
        if sorted(got) != sorted(names):
            p.add(f"{where}.example.{key_named}", f"an example for each variable: {', '.join(names)}")
        return
    given = example.get(key_positional)
    values = given[0] if nested and isinstance(given, list) and given and isinstance(given[0], list) else given
    if not isinstance(values, list) or len(values) != len(names) or not all(isinstance(v, str) and v for v in values):
        shape = "[[...]]" if nested else "[...]"
        p.add(f"{where}.example.{key_positional}", f"{len(names)} example value(s) as {shape}")


def _header(c, where, category, fmt, p):
    kind = c.get("format")
    if kind not in HEADER_FORMATS:
        p.add(f"{where}.format", f"one of {', '.join(HEADER_FORMATS)}")
        return
    if kind != "TEXT":
        if kind != "LOCATION":
            handle = (c.get("example") or {}).get("header_handle") if isinstance(c.get("example"), dict) else None
            if not (isinstance(handle, list) and handle and all(isinstance(h, str) and h for h in handle)):
                p.add(f"{where}.example.header_handle", f"a {kind.lower()} header needs an example media handle")
        return
    text = _text(c, where, LIMITS["header"], p)
    if text is None:
        return
    names = variables(text)
    if len(names) > 1:
        p.add(f"{where}.text", "a header has at most one variable")
    elif _names_fit(names, fmt, f"{where}.text", p):
        _examples(c, "header_text", "header_text_named_params", names, fmt, where, False, p)


def _body(c, where, category, fmt, p):
    if category == "AUTHENTICATION":
        if "text" in c:
            p.add(f"{where}.text", "an AUTHENTICATION body is Meta's own text: give only add_security_recommendation")
        return
    text = _text(c, where, LIMITS["body"], p)
    if text is None:
        return
    names = variables(text)
    stripped = text.strip()
    if names and (VARIABLE.match(stripped) or ENDS_WITH_VARIABLE.search(stripped)):
        p.add(f"{where}.text", "the body may not start or end with a variable")
    if _names_fit(names, fmt, f"{where}.text", p):
        _examples(c, "body_text", "body_text_named_params", names, fmt, where, fmt == "POSITIONAL", p)


def _footer(c, where, category, fmt, p):
    if category == "AUTHENTICATION":
        minutes = c.get("code_expiration_minutes")
        if minutes is not None and not (isinstance(minutes, int) and 1 <= minutes <= 90):
            p.add(f"{where}.code_expiration_minutes", "whole minutes from 1 to 90")
        return
    text = _text(c, where, LIMITS["footer"], p)
    if text is not None and variables(text):
        p.add(f"{where}.text", "a footer has no variables")


def _buttons(c, where, category, fmt, p):
    buttons = c.get("buttons")
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= 10:
        p.add(f"{where}.buttons", "1 to 10 buttons")
        return
    kinds = [b.get("type") if isinstance(b, dict) else None for b in buttons]
    for j, (b, kind) in enumerate(zip(buttons, kinds, strict=True)):
        _button(b, kind, f"{where}.buttons[{j}]", category, p)
    for kind, most in (("URL", 2), ("PHONE_NUMBER", 1), ("COPY_CODE", 1), ("OTP", 1)):
        if kinds.count(kind) > most:
            p.add(f"{where}.buttons", f"at most {most} {kind} button(s)")
    if category == "AUTHENTICATION" and "OTP" not in kinds:
        p.add(f"{where}.buttons", "an AUTHENTICATION template needs an OTP button")


def _button(b, kind, where, category, p):
    if kind not in BUTTON_TYPES:
        p.add(f"{where}.type", f"one of {', '.join(BUTTON_TYPES)}")
        return
    if kind == "OTP":
        if category != "AUTHENTICATION":
            p.add(f"{where}.type", "OTP buttons are only for AUTHENTICATION templates")
        if b.get("otp_type") not in ("COPY_CODE", "ONE_TAP", "ZERO_TAP"):
            p.add(f"{where}.otp_type", "one of COPY_CODE, ONE_TAP, ZERO_TAP")
        return
    if category == "AUTHENTICATION":
        p.add(f"{where}.type", "an AUTHENTICATION template has only an OTP button")
        return
    if kind == "COPY_CODE":
        example = b.get("example")
        if not isinstance(example, str) or not 1 <= len(example) <= LIMITS["code"]:
            p.add(f"{where}.example", f"an example code of at most {LIMITS['code']} characters")
        return
    _text(b, where, LIMITS["button"], p)
    if kind == "PHONE_NUMBER":
        phone = b.get("phone_number")
        if not isinstance(phone, str) or not re.fullmatch(r"\+?[0-9]{5,20}", phone):
            p.add(f"{where}.phone_number", "a phone number of at most 20 digits")
    elif kind == "URL":
        url = b.get("url")
        if not isinstance(url, str) or not re.match(r"^https?://", url) or len(url) > LIMITS["url"]:
            p.add(f"{where}.url", f"an http(s) URL of at most {LIMITS['url']} characters")
            return
        names = variables(url)
        if len(names) > 1 or (names and not url.endswith("{{1}}")):
            p.add(f"{where}.url", "at most one variable, {{1}}, at the end of the URL")
        elif names:
            example = b.get("example")
            if not (isinstance(example, list) and len(example) == 1 and isinstance(example[0], str) and example[0]):
                p.add(f"{where}.example", "an example URL, as [\"https://...\"]")
