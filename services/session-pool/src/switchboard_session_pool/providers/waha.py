"""WAHA (WhatsApp HTTP API, https://waha.devlike.pro) over WhatsApp Web sessions: the session's life
(create or start with our webhook, stop, status, raw QR value, pairing code) and sends (text, media by
link), one pooled httpx client per sender with its `X-Api-Key`.

A session is one phone: a sender's messages go one at a time and in order, each after a human-like
pause shown as "typing…" (domain/pacing.py); different senders go concurrently. Once a message of a
sender must be tried again (session down, WAHA unreachable, rate limited), the sender's later messages
in the batch are held back with it, so that order is kept."""

from __future__ import annotations

import asyncio
import mimetypes
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from urllib.parse import quote, urlsplit

import httpx

from switchboard_contracts.message import StatusError
from switchboard_runtime.logs import get_logger
from switchboard_runtime.sealing import Sealer, SealingError

from ..domain.outbound import OutboundMessage, SendResult
from ..domain.pacing import OFF, HumanPacing
from ..domain.sender import Sender
from .config_errors import CONFIG_ERRORS, INVALID_CONFIG, describe

log = get_logger(__name__)

WEBHOOK_EVENTS = ("message", "message.ack", "session.status")
MEDIA_ENDPOINTS = {"image": "sendImage", "video": "sendVideo", "audio": "sendVoice", "document": "sendFile"}
DEFAULT_MIME = {"image": "image/jpeg", "video": "video/mp4", "audio": "audio/ogg; codecs=opus",
                "document": "application/octet-stream"}
NOT_ON_WHATSAPP_WEB = {
    "template": "WhatsApp Web (WAHA) has no message templates: send text or media, or use a Meta Cloud API sender.",
    "interactive": "WhatsApp Web (WAHA) has no interactive (button or list) messages: send text, or use a "
                   "Meta Cloud API sender.",
    "sticker": "This WhatsApp Web (WAHA) sender does not send stickers.",
}
RETRY_DELAY = 5.0  # WAHA unreachable, timed out or failing (5xx)
SESSION_DELAY = 10.0  # the session is not WORKING: the session-pool reconnects it meanwhile
UNAUTHORIZED_DELAY = 30.0  # the API key was refused: someone has to fix the sender's credentials
RATE_LIMIT_DELAY = 30.0  # 429 without a Retry-After header


@dataclass(frozen=True)
class SessionState:
    status: str  # STOPPED, STARTING, SCAN_QR_CODE, WORKING or FAILED
    me: str | None  # the account's chat id (`15551234567@c.us`) while WORKING
    reason: str | None = None


class WahaError(Exception):
    """A session call that WAHA refused (`code` = its HTTP status) or that could not be made
    (`code` = "unreachable", "credentials_unavailable", "not_configured", "invalid_phone_number")."""

    def __init__(self, code: int | str, reason: str):
        super().__init__(f"{code}: {reason}")
        self.code, self.reason = code, reason


class _Refused(Exception):
    """A message this provider cannot send at all."""

    def __init__(self, code: str, title: str, detail: str):
        super().__init__(title)
        self.error = StatusError(code=code, title=title, detail=detail)


class WahaProvider:
    def __init__(self, sealer: Sealer | None, senders: dict[str, Sender], *, timeout: float = 15.0,
                 pacing: HumanPacing | None = None, sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
                 rng: random.Random | None = None):
        self.sealer, self.senders = sealer, senders
        self.timeout, self.pacing, self.sleep = timeout, pacing, sleep
        self.rng = rng or random.Random()
        self.clients: dict[str, tuple[tuple[str, str], httpx.AsyncClient]] = {}  # sender id → ((base, key), client)
        self._opened: dict[str, dict[str, str]] = {}  # sealed credentials → their secrets

    # --- connections ---------------------------------------------------------------------------

    def _secrets(self, sender: Sender) -> dict[str, str]:
        sealed = sender.sealed_credentials
        if not sealed:
            return {}
        if sealed not in self._opened:
            if self.sealer is None:
                raise SealingError("SWITCHBOARD_SECRET_KEY is not set: the sender's credentials cannot be opened")
            self._opened[sealed] = self.sealer.unseal(sealed)
        return self._opened[sealed]

    async def _client(self, sender: Sender) -> tuple[httpx.AsyncClient, str]:
        """The sender's pooled client and its session name (a new client when its URL or key changed)."""
        base, session = (sender.config.get("base_url") or "").rstrip("/"), sender.config.get("session") or ""
        if not base or not session:
            raise WahaError("not_configured", "the sender's configuration lacks `base_url` or `session`")
        key = self._secrets(sender).get("api_key") or ""
        sid = str(sender.id)
        known = self.clients.get(sid)
        if known and known[0] == (base, key):
            return known[1], session
        if known:
            await known[1].aclose()
        client = httpx.AsyncClient(base_url=base, headers={"X-Api-Key": key} if key else {}, timeout=self.timeout,
                                   limits=httpx.Limits(max_connections=4, max_keepalive_connections=4))
        self.clients[sid] = ((base, key), client)
        return client, session

    async def _call(self, sender: Sender, method: str, path: str, **kwargs) -> httpx.Response:
        """A session call: `path` may name `{session}`; 2xx responses only, else WahaError."""
        try:
            client, session = await self._client(sender)
            response = await client.request(method, path.format(session=quote(session, safe="")), **kwargs)
        except SealingError as exc:
            raise WahaError("credentials_unavailable", str(exc)) from exc
        except CONFIG_ERRORS as exc:  # permanent: not a network problem
            raise WahaError(INVALID_CONFIG, describe(exc)) from None
        except httpx.HTTPError as exc:
            raise WahaError("unreachable", f"WAHA could not be reached: {type(exc).__name__}") from exc
        if response.status_code in (401, 403):
            raise WahaError(response.status_code, "WAHA refused the sender's API key")
        if response.is_error:
            raise WahaError(response.status_code, _message(response))
        return response

    # --- sessions ------------------------------------------------------------------------------

    async def start(self, sender: Sender, webhook_url: str | None = None,
                    webhook_events: Sequence[str] = WEBHOOK_EVENTS) -> SessionState:
        """Create the session (started, with our webhook and its HMAC key when given), or start it
        when it exists; a FAILED session is restarted (WAHA's start leaves a running session as is)."""
        body: dict = {"name": sender.config.get("session"), "start": True}
        if webhook_url:
            hook: dict = {"url": webhook_url, "events": list(webhook_events)}
            try:
                if hmac_key := self._secrets(sender).get("webhook_hmac_key"):
                    hook["hmac"] = {"key": hmac_key}
            except SealingError as exc:
                raise WahaError("credentials_unavailable", str(exc)) from exc
            body["config"] = {"webhooks": [hook]}
        try:
            return _state(await self._call(sender, "POST", "/api/sessions", json=body))
        except WahaError as exc:
            if exc.code not in (409, 422) or "exist" not in exc.reason.lower():
                raise
        state = _state(await self._call(sender, "POST", "/api/sessions/{session}/start"))
        if state.status == "FAILED":
            state = _state(await self._call(sender, "POST", "/api/sessions/{session}/restart"))
        return state

    async def stop(self, sender: Sender) -> SessionState:
        return _state(await self._call(sender, "POST", "/api/sessions/{session}/stop"))

    async def status(self, sender: Sender) -> SessionState:
        return _state(await self._call(sender, "GET", "/api/sessions/{session}"))

    async def qr(self, sender: Sender) -> str | None:
        """The raw QR value to show (rendered by the caller); None unless the session waits for a scan."""
        if (await self.status(sender)).status != "SCAN_QR_CODE":
            return None
        try:
            response = await self._call(sender, "GET", "/api/{session}/auth/qr", params={"format": "raw"})
        except WahaError as exc:
            if exc.code == 422:  # it left SCAN_QR_CODE meanwhile
                return None
            raise
        value = _json(response).get("value")
        return value if isinstance(value, str) and value else None

    async def pairing_code(self, sender: Sender, phone_number: str) -> str:
        """A code to type on the phone (Linked devices → Link with phone number) instead of scanning."""
        digits = "".join(c for c in phone_number if c.isdigit())
        if not 7 <= len(digits) <= 15:
            raise WahaError("invalid_phone_number", "give the phone number in international format")
        response = await self._call(sender, "POST", "/api/{session}/auth/request-code", json={"phoneNumber": digits})
        code = _json(response).get("code")
        if not isinstance(code, str) or not code:
            raise WahaError("no_code", "WAHA answered without a pairing code")
        return code

    async def close(self) -> None:
        for _, client in self.clients.values():
            await client.aclose()
        self.clients.clear()

    # --- sending -------------------------------------------------------------------------------

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
            client, session = await self._client(sender)
            endpoint, body = _request(m, session)
        except _Refused as exc:
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


def _chat_id(to: str) -> str:
    """E.164 `+15551234567` → WAHA's chat id `15551234567@c.us` (chat ids pass through)."""
    if "@" in to:
        return to
    digits = "".join(c for c in to if c.isdigit())
    if not digits:
        raise _Refused("invalid_recipient", "Invalid recipient", f"{to!r} is not a phone number")
    return f"{digits}@c.us"


def _request(m: OutboundMessage, session: str) -> tuple[str, dict]:
    """(WAHA endpoint, JSON body) for a message, or _Refused."""
    kind = getattr(m, "type", "text") or "text"
    body: dict = {"session": session, "chatId": _chat_id(m.to)}
    if kind == "text":
        endpoint = "sendText"
        body["text"] = m.text
    elif kind in MEDIA_ENDPOINTS:
        endpoint = MEDIA_ENDPOINTS[kind]
        media = getattr(m, "media", None) or {}
        link = media.get("link")
        if not link:
            if media.get("id"):
                raise _Refused("unsupported_by_provider", f"{kind.capitalize()} by media id is not supported",
                               "WhatsApp Web (WAHA) sends media from a link; a Cloud API media id cannot be "
                               "used. Give `media.link`.")
            raise _Refused("invalid_content", "Message content cannot be sent", f"the {kind} has no `media.link`")
        mimetype = media.get("mime_type") or mimetypes.guess_type(urlsplit(link).path)[0] or DEFAULT_MIME[kind]
        file = {"url": link, "mimetype": mimetype}
        filename = media.get("filename") or urlsplit(link).path.rsplit("/", 1)[-1]
        if filename:
            file["filename"] = filename
        body["file"] = file
        if media.get("caption") and kind != "audio":
            body["caption"] = media["caption"]
        if kind == "audio":  # a voice note must be Opus in OGG: WAHA converts anything else
            body["convert"] = not mimetype.startswith("audio/ogg")
        elif kind == "video":
            body["convert"] = mimetype != "video/mp4"
    else:
        raise _Refused("unsupported_by_provider", f"{kind.capitalize()} messages are not supported by this sender",
                       NOT_ON_WHATSAPP_WEB.get(kind, f"WhatsApp Web (WAHA) senders cannot send {kind} messages."))
    if reply_to := getattr(m, "reply_to", None):
        body["reply_to"] = reply_to
    return endpoint, body


def _result(m: OutboundMessage, response: httpx.Response) -> SendResult:
    status, detail = response.status_code, _message(response)
    if response.is_success:
        return SendResult(m.message_id, ok=True, provider_message_id=_message_id(_json(response)))
    if status in (401, 403):
        return SendResult(m.message_id, ok=False, retry="retry", delay=UNAUTHORIZED_DELAY, error=StatusError(
            code="unauthorized", title="WAHA refused the sender's API key", detail=detail))
    if status == 429:
        return SendResult(m.message_id, ok=False, retry="retry", delay=_retry_after(response), error=StatusError(
            code="rate_limited", title="WAHA rate limit hit", detail=detail))
    if _session_down(response):
        session_status = _json(response).get("status")
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
    body = _json(response)
    if response.status_code == 422:
        return "status" in body or "not as expected" in _message(response).lower()
    return response.status_code == 404 and "session" in _message(response).lower()


def _retry_after(response: httpx.Response) -> float:
    try:
        return max(float(response.headers.get("retry-after", "")), 1.0)
    except ValueError:
        return RATE_LIMIT_DELAY


def _json(response: httpx.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _message(response: httpx.Response) -> str:
    """WAHA's error text: NestJS `{"statusCode", "message", "error"}` (message may be a list of validation
    errors), a session-status body `{"error": "…", "status"}`, or a 500's `{"exception": {"message"}}`."""
    body = _json(response)
    for text in (body.get("message"), body.get("error"), (body.get("exception") or {}).get("message")
                 if isinstance(body.get("exception"), dict) else None):
        if isinstance(text, list):
            text = "; ".join(str(t) for t in text)
        if isinstance(text, str) and text:
            return text[:500]
    return (response.text or f"HTTP {response.status_code}")[:500] if not body else f"HTTP {response.status_code}"


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


def _state(response: httpx.Response) -> SessionState:
    body = _json(response)
    me = body.get("me")
    return SessionState(status=str(body.get("status") or "UNKNOWN"),
                        me=me.get("id") if isinstance(me, dict) and isinstance(me.get("id"), str) else None)
