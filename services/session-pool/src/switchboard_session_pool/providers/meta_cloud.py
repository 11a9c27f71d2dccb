"""Meta's WhatsApp Cloud API: `POST {api_base_url}/{api_version}/{phone_number_id}/messages` with the
sender's token (one pooled httpx client per sender, with timeouts), our message id as
`biz_opaque_callback_data`. Errors are acted on by `error.code` (domain/provider_errors.py)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import httpx

from switchboard_contracts.message import StatusError
from switchboard_runtime.logs import get_logger
from switchboard_runtime.sealing import Sealer, SealingError

from ..domain.outbound import OutboundMessage, SendResult
from ..domain.provider_errors import Action, decide
from ..domain.sender import Sender
from .config_errors import CONFIG_ERRORS, INVALID_CONFIG, describe
from .meta_body import graph_body

log = get_logger(__name__)
DEFAULT_BASE, DEFAULT_VERSION = "https://graph.facebook.com", "v23.0"


@dataclass(frozen=True)
class Connection:
    ok: bool
    phone_number: str | None = None
    reason: str | None = None
    code: int | str | None = None
    transient: bool = False  # the Graph API could not be reached or failed: worth trying again
    blocked: bool = False  # Meta reports the number cannot send (health_status BLOCKED)


def _error(response: httpx.Response) -> tuple[int | str | None, str, str | None]:
    """(code, title, detail) of a Graph API error body (or of a response that has none)."""
    try:
        error = response.json().get("error") or {}
    except ValueError:
        error = {}
    details = (error.get("error_data") or {}).get("details") if isinstance(error.get("error_data"), dict) else None
    code = error.get("code", f"http_{response.status_code}")
    return code, error.get("title") or error.get("message") or f"HTTP {response.status_code}", details or error.get("message")


def _blocked(health: object) -> tuple[int | str | None, str] | None:
    """(code, reason) when Meta's health_status says the number can send no message at all."""
    if not isinstance(health, dict) or health.get("can_send_message") != "BLOCKED":
        return None
    for entity in health.get("entities") or []:
        for error in (entity.get("errors") or []) if isinstance(entity, dict) else []:
            if isinstance(error, dict):
                text = error.get("error_description") or "blocked by Meta"
                return error.get("error_code"), f"Meta blocked messaging ({entity.get('entity_type')}): {text}"
    return None, "Meta blocked messaging from this number"


class MetaCloudProvider:
    def __init__(self, sealer: Sealer | None, senders: dict[str, Sender], *, timeout: float = 15.0,
                 concurrency: int = 32):
        self.sealer, self.senders = sealer, senders
        self.timeout = timeout
        self.clients: dict[str, httpx.AsyncClient] = {}
        self.slots = asyncio.Semaphore(concurrency)

    def client(self, sender: Sender) -> httpx.AsyncClient:
        """The sender's Graph API client (its base URL, API version and token), made once; also the
        template management API's (meta_templates.py)."""
        client = self.clients.get(str(sender.id))
        if client is None:
            if self.sealer is None:
                raise SealingError("SWITCHBOARD_SECRET_KEY is not set: the sender's token cannot be opened")
            token = self.sealer.unseal(sender.sealed_credentials or "").get("access_token", "")
            base = (sender.config.get("api_base_url") or DEFAULT_BASE).rstrip("/")
            version = sender.config.get("api_version") or DEFAULT_VERSION
            client = self.clients[str(sender.id)] = httpx.AsyncClient(
                base_url=f"{base}/{version}", headers={"Authorization": f"Bearer {token}"},
                timeout=self.timeout, limits=httpx.Limits(max_connections=20, max_keepalive_connections=20))
        return client

    async def connect(self, sender: Sender) -> Connection:
        """Check the credentials: the phone number's own record, with its display number and Meta's
        `health_status` (a number Meta BLOCKED from messaging is reported as such)."""
        try:
            response = await self.client(sender).get(
                f"/{sender.config['phone_number_id']}",
                params={"fields": "display_phone_number,verified_name,health_status"})
        except SealingError as exc:
            return Connection(False, reason=str(exc))
        except KeyError as exc:
            return Connection(False, reason=f"the sender's configuration lacks {exc}")
        except CONFIG_ERRORS as exc:  # permanent: not a network problem
            return Connection(False, reason=describe(exc), code=INVALID_CONFIG)
        except httpx.HTTPError as exc:
            return Connection(False, reason=f"the Graph API could not be reached: {exc!r}"[:500], transient=True)
        if response.status_code == 200:
            body = response.json()
            number = str(body.get("display_phone_number") or "")
            digits = "".join(c for c in number if c.isdigit())
            if blocked := _blocked(body.get("health_status")):
                return Connection(False, reason=blocked[1], code=blocked[0], blocked=True)
            return Connection(True, phone_number=f"+{digits}" if digits else None)
        code, title, detail = _error(response)
        return Connection(False, reason=f"{title}: {detail}" if detail and detail != title else title, code=code,
                          transient=response.status_code >= 500 or decide(code).action is Action.RETRY)

    async def send(self, messages: list[OutboundMessage]) -> list[SendResult]:
        return list(await asyncio.gather(*(self._send_one(m) for m in messages)))

    async def _send_one(self, m: OutboundMessage) -> SendResult:
        sender = self.senders.get(m.sender_id)
        if sender is None:
            return SendResult(m.message_id, ok=False, error=StatusError(code="unknown_sender", title="Unknown sender"))
        try:
            body = graph_body(m)
        except ValueError as exc:
            return SendResult(m.message_id, ok=False, error=StatusError(
                code="invalid_content", title="Message content cannot be sent", detail=str(exc)))
        async with self.slots:
            try:
                response = await self.client(sender).post(f"/{sender.config['phone_number_id']}/messages", json=body)
            except SealingError as exc:
                return SendResult(m.message_id, ok=False, error=StatusError(
                    code="credentials_unavailable", title="Sender credentials unavailable", detail=str(exc)))
            except CONFIG_ERRORS as exc:
                return SendResult(m.message_id, ok=False, error=StatusError(
                    code=INVALID_CONFIG, title="Sender misconfigured", detail=describe(exc)))
            except httpx.HTTPError as exc:  # network trouble or a timeout: try again later
                log.warning("Graph API unreachable", sender_id=m.sender_id, error=repr(exc))
                return SendResult(m.message_id, ok=False, retry=Action.RETRY.value, delay=5.0,
                                  error=StatusError(code="provider_unreachable", title="Graph API unreachable"))
        if response.status_code == 200:
            try:
                wamid = response.json()["messages"][0]["id"]
            except (ValueError, KeyError, IndexError, TypeError):
                wamid = None
            return SendResult(m.message_id, ok=True, provider_message_id=wamid)
        code, title, detail = _error(response)
        decision = decide(code)
        if decision.action is Action.FAIL and str(code).startswith("http_5"):
            decision = decide(2)  # a server error without a Graph error body: transient
        error = StatusError(code=code, title=title, detail=detail)
        if decision.action is Action.FAIL:
            return SendResult(m.message_id, ok=False, error=error)
        return SendResult(m.message_id, ok=False, error=error, retry=decision.action.value, delay=decision.delay)

    async def close(self) -> None:
        for client in self.clients.values():
            await client.aclose()
        self.clients.clear()
