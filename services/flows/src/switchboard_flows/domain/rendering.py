"""A node's templated fields rendered against an execution's `Context`: text (`render_text`), a
message node's content (`render_message`), an http request (`render_http`), an e-mail
(`render_email`), a set_variable node's values (`render_variables`) and a handoff note
(`render_note`); also under the names the executor calls (`message_content`, `http_request`,
`email`, `variables`, `handoff_note`, and the condition's `choose_exit`).

A placeholder with no value (missing, null or blank) takes its default, and without one renders as
an empty string: a flow never stops on a missing variable (a message left empty then fails to send,
taking the node's `failed` exit). Values placed in a URL are percent-encoded (they cannot add path
segments or query parameters); values in e-mail headers and HTTP header values lose their line
breaks (they cannot add headers)."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any
from urllib.parse import quote

from switchboard_contracts.placeholders import Placeholders, TemplateError, TemplateParameters

from .conditions import choose_exit
from .context import Context
from .message_node import INTERACTIVE_TEXTS
from .nodes import EmailNode, HandoffNode, HttpNode, MessageNode, SetVariableNode


@lru_cache(maxsize=4096)
def _compiled(text: str) -> Placeholders | None:
    try:
        return Placeholders.parse(text, dotted=True)
    except TemplateError:  # checked when the definition was saved; rendered as written if not
        return None


def render_text(text: str, context: Context | Mapping[str, Any], escape: Callable[[str], str] | None = None) -> str:
    """`text` with its placeholders filled from the context (missing: the default, else "")."""
    if "{{" not in text:
        return text
    compiled = _compiled(text)
    if compiled is None:
        return text
    return compiled.render_with(Context.of(context).text, strict=False, escape=escape)


def render_message(node: MessageNode, context: Context | Mapping[str, Any]) -> dict[str, Any]:
    """The node's message with its text, media caption and link, template parameters (and shorthand
    `parameters` values) and interactive header, body and footer rendered: `type` and the content field,
    the rest of a `SendMessage` (message id, sender, recipient, time) being the executor's."""
    context = Context.of(context)
    message = copy.deepcopy(dict(node.message))
    message.setdefault("type", "text")
    if isinstance(message.get("text"), str):
        message["text"] = render_text(message["text"], context)
    media = message.get("media")
    if isinstance(media, dict):
        for key in ("caption", "link"):
            if isinstance(media.get(key), str):
                media[key] = render_text(media[key], context, escape=_url_part if key == "link" else None)
    interactive = message.get("interactive")
    if isinstance(interactive, dict):
        for part, key in INTERACTIVE_TEXTS:
            if isinstance(interactive.get(part), dict) and isinstance(interactive[part].get(key), str):
                interactive[part][key] = render_text(interactive[part][key], context)
    if isinstance(message.get("template"), dict):
        message["template"] = copy.deepcopy(TemplateParameters.parse(message["template"], dotted=True)
                                            .render_each(lambda text: text.render_with(context.text, strict=False)))
        message["template"] = _render_shorthand(message["template"], context)
    return message


def _render_shorthand(template: dict[str, Any], context: Context) -> dict[str, Any]:
    """A template's shorthand `parameters` (a list, or an object keyed by variable) with each value rendered."""
    parameters = template.get("parameters")
    if isinstance(parameters, list):
        template["parameters"] = [render_text(v, context) if isinstance(v, str) else v for v in parameters]
    elif isinstance(parameters, dict):
        template["parameters"] = {k: render_text(v, context) if isinstance(v, str) else v
                                  for k, v in parameters.items()}
    return template


def render_http(node: HttpNode, context: Context | Mapping[str, Any]) -> dict[str, Any]:
    """The request to make, `{"method", "url", "headers", "body", "timeout_seconds", "retries"}`:
    placeholder values in the URL percent-encoded, header values without line breaks, every string
    leaf of the body rendered (`body` None: no body)."""
    context = Context.of(context)
    headers = {name: render_text(value, context, escape=_one_line) for name, value in node.headers.items()}
    return {"method": node.method, "url": render_text(node.url, context, escape=_url_part), "headers": headers,
            "body": _render_leaves(node.body, context), "timeout_seconds": node.timeout_seconds,
            "retries": node.retries}


def render_email(node: EmailNode, context: Context | Mapping[str, Any]) -> dict[str, str]:
    """`{"to", "subject", "body"}`; placeholder values in `to` and `subject` lose their line breaks."""
    context = Context.of(context)
    return {"to": render_text(node.to, context, escape=_one_line).strip(),
            "subject": render_text(node.subject, context, escape=_one_line),
            "body": render_text(node.body, context)}


def render_variables(node: SetVariableNode, context: Context | Mapping[str, Any]) -> dict[str, str]:
    """Each variable's value, all rendered against the same context (the one before the node)."""
    context = Context.of(context)
    return {name: render_text(value, context) for name, value in node.variables.items()}


def render_note(node: HandoffNode, context: Context | Mapping[str, Any]) -> str | None:
    return None if node.note is None else render_text(node.note, context)


# The names the executor calls.
message_content, http_request, email = render_message, render_http, render_email
variables, handoff_note = render_variables, render_note
__all__ = ["choose_exit", "email", "handoff_note", "http_request", "message_content", "render_email",
           "render_http", "render_message", "render_note", "render_text", "render_variables", "variables"]


def _render_leaves(value: Any, context: Context) -> Any:
    if isinstance(value, str):
        return render_text(value, context)
    if isinstance(value, Mapping):
        return {key: _render_leaves(item, context) for key, item in value.items()}
    if isinstance(value, list):
        return [_render_leaves(item, context) for item in value]
    return value


def _url_part(value: str) -> str:
    return quote(value, safe="")


def _one_line(value: str) -> str:
    return " ".join(value.splitlines())
