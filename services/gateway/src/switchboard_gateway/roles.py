"""What each role may do, in one place (pure: no FastAPI, no database). The gateway asks `may` on every
authenticated request — its own routes and those it forwards — and answers 403 when it says no; the
merged OpenAPI document lists that 403 wherever some role may be refused (`refusable`).

- admin: everything (the organization's own key acts as an admin);
- agent: reads everything, and works conversations, messages and canned responses;
- viewer: reads only.
Everything else — senders, campaigns, broadcast lists, blocklist, flows, executions, auto-replies,
users, teams, SLA policies, inbox settings, templates, webhook endpoints, the simulator — is managed by
admins only, and only admins read the audit export (`/v1/audit…`)."""

from __future__ import annotations

import posixpath

ROLES = ("admin", "agent", "viewer")
READS = frozenset({"GET", "HEAD"})
# what an agent may change besides reading: a prefix covers the path itself and everything below it
AGENT_WRITES = ("/v1/conversations", "/v1/canned-responses")
AGENT_WRITES_EXACT = frozenset({"/v1/messages", "/v1/messages/bulk"})
ADMIN_READS = ("/v1/audit",)  # what only admins may read: the organization's whole event history


def _normalized(path: str) -> str:
    """The path as a server resolving `.`, `..` and `//` would read it (so `/v1/conversations/../x`
    is judged as `/v1/x`, never as a conversation)."""
    if not path.startswith("/"):
        path = "/" + path
    out = posixpath.normpath(path)
    return "/" + out.lstrip("/")  # normpath keeps a leading "//"


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + "/")


def may(role: str, method: str, path: str) -> bool:
    """Whether `role` may send `method` to `path` (a concrete request path)."""
    method = method.upper()
    if role == "admin":
        return True
    if role not in ROLES:
        return False
    if method in READS:
        return not any(_under(_normalized(path), prefix) for prefix in ADMIN_READS)
    if role != "agent":
        return False
    path = _normalized(path)
    return path in AGENT_WRITES_EXACT or any(_under(path, prefix) for prefix in AGENT_WRITES)


def refusable(method: str, path: str) -> bool:
    """Whether some role may be refused (403) this operation."""
    return not all(may(role, method, path) for role in ROLES)
