"""The fake Graph API's error bodies, in Meta's shape `{"error": {"message", "type", "code",
"error_subcode"?, "is_transient"?, "error_user_title"?, "error_user_msg"?, "error_data"?, "fbtrace_id"}}`:
the send errors by code, and the template management API's (a duplicate name and language, a missing
or invalid parameter). The duplicate's texts are Meta's; the other subcodes and texts are plausible
stand-ins (Meta documents the codes, not every message)."""

from __future__ import annotations

import secrets

ERRORS = {  # send errors: code → (HTTP status, title, details)
    2: (500, "Service temporarily unavailable", "An unexpected error has occurred. Please retry your request later."),
    130429: (400, "Rate limit hit", "Cloud API message throughput has been reached."),
    131026: (400, "Message undeliverable", "Unable to deliver message."),
    131047: (400, "Re-engagement message", "More than 24 hours have passed since the recipient last replied."),
    131048: (400, "Spam rate limit hit", "Message failed to send because there are restrictions on how many "
                                         "messages can be sent from this phone number."),
    131056: (400, "(Business Account, Consumer Account) pair rate limit hit", "Too many messages to this user."),
    190: (401, "Invalid OAuth access token", "Invalid OAuth access token - Cannot parse access token"),
}
LANGUAGES = {"en_US": "English (US)", "en_GB": "English (UK)", "en": "English", "de": "German", "fr": "French",
             "es": "Spanish", "it": "Italian", "pt_BR": "Portuguese (BR)", "nl": "Dutch"}
MISSING_FIELD = 2388043
DUPLICATE = 2388024


def error_body(code: int) -> tuple[int, dict]:
    status, title, details = ERRORS[code]
    return status, {"error": {"message": f"({code}) {title}", "type": "OAuthException", "code": code,
                              "error_data": {"messaging_product": "whatsapp", "details": details},
                              "fbtrace_id": "AbCdEf123"}}


def graph_error(message: str, *, status: int = 400, code: int = 100, subcode: int | None = None,
                title: str | None = None, user_msg: str | None = None) -> tuple[int, dict]:
    """(HTTP status, body) of a Graph API error."""
    error: dict = {"message": message, "type": "OAuthException", "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    error["is_transient"] = False
    if title is not None:
        error["error_user_title"], error["error_user_msg"] = title, user_msg
    error["fbtrace_id"] = "A" + secrets.token_urlsafe(15)
    return status, {"error": error}


def duplicate(language: str) -> tuple[int, dict]:
    """A template of this name already has content in this language (Meta's answer)."""
    return graph_error("Invalid parameter", subcode=DUPLICATE, title="Content in This Language Already Exists",
                       user_msg=f"There is already {LANGUAGES.get(language, language)} content for this template. "
                                "You can create a new template and try again.")


def missing(field: str, what: str | None = None) -> tuple[int, dict]:
    """A required parameter (or, with `what`, a part of it, such as the BODY component) is missing."""
    return graph_error(f"(#100) The parameter {field} is required" if what is None else "Invalid parameter",
                       subcode=MISSING_FIELD, title="Message template is missing expected fields",
                       user_msg=f'Message template "{field}" param is missing expected field(s)'
                                + (f" ({what})." if what else "."))


def invalid(field: str, rule: str) -> tuple[int, dict]:
    """A parameter that does not follow its rule (Graph's own wording for a bad parameter)."""
    return graph_error(f"(#100) Param {field} {rule}")


def no_object(object_id: str) -> tuple[int, dict]:
    """Graph's answer for an id that names nothing (or nothing this token may see)."""
    return graph_error(f"Unsupported post request. Object with ID '{object_id}' does not exist, cannot be loaded "
                       "due to missing permissions, or does not support this operation. Please read the Graph API "
                       "documentation at https://developers.facebook.com/docs/graph-api", subcode=33)


def injected(error: int | tuple[int, dict]) -> tuple[int, dict]:
    """An injected error: a code of ERRORS (190, 2, 130429…), DUPLICATE (English (US) content exists),
    or an (HTTP status, body) pair answered as it is."""
    if isinstance(error, tuple):
        return error
    return duplicate("en_US") if error == DUPLICATE else error_body(error)
