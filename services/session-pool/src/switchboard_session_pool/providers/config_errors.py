"""Errors an HTTP client raises about a sender's configuration itself — a URL it cannot use, a
credential that cannot go into a header — rather than about the network: trying again never helps,
so they are permanent (the sender is disconnected with the reason, as for refused credentials)."""

from __future__ import annotations

import httpx

INVALID_CONFIG = "invalid_config"
# LocalProtocolError and UnsupportedProtocol are httpx.HTTPErrors: catch these before HTTPError
CONFIG_ERRORS = (httpx.InvalidURL, httpx.UnsupportedProtocol, httpx.LocalProtocolError, UnicodeError)


def describe(exc: BaseException) -> str:
    """The reason, without any secret (header errors repeat the header's value: never shown)."""
    if isinstance(exc, (httpx.InvalidURL, httpx.UnsupportedProtocol)):
        return f"the sender's provider URL cannot be used: {exc}"[:300]
    return "a credential of the sender cannot be sent in an HTTP header (non-ASCII or control characters)"
