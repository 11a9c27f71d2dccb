"""Sending through WAHA: a session is one phone, so a sender's messages go one at a time and in
order, each after a human-like pause shown as "typing…" (domain/pacing.py); different senders go
concurrently. Once a message of a sender must be tried again (session down, WAHA unreachable, rate
limited), the sender's later messages in the batch are held back with it, so that order is kept. WAHA's
answer is read into a result: sent (with the id WAHA's acks name), failed, or to be tried again."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace

import httpx

from switchboard_contracts.message import StatusError
from switchboard_runtime.logs import get_logger
from switchboard_runtime.sealing import SealingError

from ..domain.outbound import OutboundMessage, SendResult
from ..domain.pacing import OFF, HumanPacing
from ..domain.sender import Sender
from .config_errors import CONFIG_ERRORS, INVALID_CONFIG, describe
from .waha_body import Refused, request_for
from .waha_http import WahaError, WahaHttp, error_text, json_body

log = get_logger(__name__)

RETRY_DELAY = 5.0  # WAHA unreachable, timed out or failing (5xx)
SESSION_DELAY = 10.0  # the session is not WORKING: the session-pool reconnects it meanwhile
UNAUTHORIZED_DELAY = 30.0  # the API key was refused: someone has to fix the sender's credentials
RATE_LIMIT_DELAY = 30.0  # 429 without a Retry-After header


class WahaSending:
    def __init__(self, http: WahaHttp, senders: dict[str, Sender], *, pacing: HumanPacing | None = None,
                 sleep: Callable[[float], Awaitable[object]] = asyncio.sleep, rng: random.Random | None = None):
        self.http, self.senders = http, senders
        self.pacing, self.sleep = pacing, sleep
        self.rng = rng or random.Random()

    async def send(self, messages: list[OutboundMessage]) -> list[SendResult]:
        lanes: dict[str, list[int]] = {}
        for i, m in enumerate(messages):
            lanes.setdefault(m.sender_id, []).append(i)
        results: list[SendResult | None] = [None] * len(messages)

        async def lane(indexes: list[int]) -> None:
            held: SendResult | None = None
            for i in indexes:
                m = messages[i]
                if held is not None:  # an earlier message waits: this one waits behind it
                    results[i] = replace(held, message_id=m.message_id)
                    continue
                results[i] = await self._send_one(m)
                if results[i].retry:
                    held = results[i]

        await asyncio.gather(*(lane(indexes) for indexes in lanes.values()))
        return results  # type: ignore[return-value]

    def _pacing(self, sender: Sender) -> HumanPacing | None:
        asked = str(sender.config.get("pacing", "")).strip().lower()
        if self.pacing is None and (not asked or asked in OFF):
            return None
        return HumanPacing.from_config(sender.config, base=self.pacing)

    async def _send_one(self, m: OutboundMessage) -> SendResult:
        sender = self.senders.get(m.sender_id)
        if sender is None:
            return SendResult(m.message_id, ok=False, error=StatusError(code="unknown_sender", title="Unknown sender"))
        if m.expires_at is not None and time.time() >= m.expires_at:
            return SendResult(m.message_id, ok=False, expired=True, error=StatusError(
                code="expired", title="Expired", detail="The message's time to live ran out before it could go."))
        try:
            client, session = await self.http.client(sender)
            endpoint, body = request_for(m, session)
        except Refused as exc:
            return SendResult(m.message_id, ok=False, error=exc.error)
        except SealingError as exc:
            return SendResult(m.message_id, ok=False, error=StatusError(
                code="credentials_unavailable", title="Sender credentials unavailable", detail=str(exc)))
        except WahaError as exc:
            return SendResult(m.message_id, ok=False, error=StatusError(
                code=exc.code, title="Sender not configured", detail=exc.reason))
        except CONFIG_ERRORS as exc:
            return SendResult(m.message_id, ok=False, error=StatusError(
                code=INVALID_CONFIG, title="Sender misconfigured", detail=describe(exc)))
        if pacing := self._pacing(sender):
            await self._pause(client, m, session, body["chatId"], body.get("text") or body.get("caption") or "", pacing)
        try:
            response = await client.post(f"/api/{endpoint}", json=body)
        except CONFIG_ERRORS as exc:
            return SendResult(m.message_id, ok=False, error=StatusError(
                code=INVALID_CONFIG, title="Sender misconfigured", detail=describe(exc)))
        except httpx.HTTPError as exc:  # network trouble or a timeout: try again later
            log.warning("WAHA unreachable", sender_id=m.sender_id, error=type(exc).__name__)
            return SendResult(m.message_id, ok=False, retry="retry", delay=RETRY_DELAY, error=StatusError(
                code="provider_unreachable", title="WAHA unreachable", detail=type(exc).__name__))
        return _result(m, response)

    async def _pause(self, client: httpx.AsyncClient, m: OutboundMessage, session: str, chat_id: str, text: str,
                     pacing: HumanPacing) -> None:
        """"typing…", a human pause, then not typing. Failures here never fail the send; a session that
        is not working, or a refused key, skips the pause (the send reports it)."""
        chat = {"session": session, "chatId": chat_id}
        if await self._typing(client, m, "startTyping", chat) in (401, 403, 404, 422):
            return
        await self.sleep(pacing.delay(text, self.rng))
        await self._typing(client, m, "stopTyping", chat)

    async def _typing(self, client: httpx.AsyncClient, m: OutboundMessage, action: str, chat: dict) -> int | None:
        try:
            response = await client.post(f"/api/{action}", json=chat)
        except httpx.HTTPError as exc:
            log.info("WAHA typing indicator failed", sender_id=m.sender_id, action=action, error=type(exc).__name__)
            return None
        if response.is_error:
            log.info("WAHA typing indicator refused", sender_id=m.sender_id, action=action,
                     status=response.status_code)
        return response.status_code


def _result(m: OutboundMessage, response: httpx.Response) -> SendResult:
    status, detail = response.status_code, error_text(response)
    if response.is_success:
        return SendResult(m.message_id, ok=True, provider_message_id=_message_id(json_body(response)))
    if status in (401, 403):
        return SendResult(m.message_id, ok=False, retry="retry", delay=UNAUTHORIZED_DELAY, error=StatusError(
            code="unauthorized", title="WAHA refused the sender's API key", detail=detail))
    if status == 429:
        return SendResult(m.message_id, ok=False, retry="retry", delay=_retry_after(response), error=StatusError(
            code="rate_limited", title="WAHA rate limit hit", detail=detail))
    if _session_down(response):
        session_status = json_body(response).get("status")
        return SendResult(m.message_id, ok=False, retry="retry", delay=SESSION_DELAY, error=StatusError(
            code="session_not_working", title="WhatsApp Web session is not working",
            detail=f"{detail} (status {session_status})" if isinstance(session_status, str) else detail))
    if status >= 500:
        log.warning("WAHA failed a send", sender_id=m.sender_id, status=status)
        return SendResult(m.message_id, ok=False, retry="retry", delay=RETRY_DELAY, error=StatusError(
            code=f"http_{status}", title="WAHA server error", detail=detail))
    return SendResult(m.message_id, ok=False, error=StatusError(
        code=f"http_{status}", title="WAHA refused the message", detail=detail))


def _session_down(response: httpx.Response) -> bool:
    """WAHA's answer for a session that is not WORKING: 422 `{"error": "Session status is not as
    expected…", "status", "expected"}`, or 404 for a session it does not run (stopped or unknown)."""
    body = json_body(response)
    if response.status_code == 422:
        return "status" in body or "not as expected" in error_text(response).lower()
    return response.status_code == 404 and "session" in error_text(response).lower()


def _retry_after(response: httpx.Response) -> float:
    try:
        return max(float(response.headers.get("retry-after", "")), 1.0)
    except ValueError:
        return RATE_LIMIT_DELAY


def _message_id(body: dict) -> str | None:
    """The sent message's id as WAHA's webhooks (`message.ack`) name it, `true_<chat>_<id>`: a string,
    WEBJS's `{"_serialized": …}`, or built from NOWEB's raw engine key, as WAHA builds it."""
    ident = body.get("id")
    if isinstance(ident, str) and ident:
        return ident
    if isinstance(ident, dict) and isinstance(ident.get("_serialized"), str):
        return ident["_serialized"]
    key = body.get("key")
    if not isinstance(key, dict) or not isinstance(key.get("id"), str) or not key["id"]:
        return None
    jid = key.get("remoteJid")
    if not isinstance(jid, str) or not jid:
        return key["id"]  # no chat to build WAHA's id with: the engine's own (acks will not match it)
    return f"{'true' if key.get('fromMe') else 'false'}_{_chat_of_jid(jid)}_{key['id']}"


def _chat_of_jid(jid: str) -> str:
    """WAHA's chat id of an engine JID: a person's `…@s.whatsapp.net` is `…@c.us`; groups, lids,
    newsletters and broadcasts keep theirs."""
    user, _, server = jid.partition("@")
    return f"{user}@c.us" if server == "s.whatsapp.net" else jid

