"""WAHA over HTTP: one pooled httpx client per sender with its `X-Api-Key` (a new one when its URL or
key changes), the sender's sealed secrets opened once, session calls that answer 2xx or raise
`WahaError`, and WAHA's error texts."""

from __future__ import annotations

from urllib.parse import quote

import httpx

from switchboard_runtime.sealing import Sealer, SealingError

from ..domain.sender import Sender
from .config_errors import CONFIG_ERRORS, INVALID_CONFIG, describe


class WahaError(Exception):
    """A session call that WAHA refused (`code` = its HTTP status) or that could not be made
    (`code` = "unreachable", "credentials_unavailable", "not_configured", "invalid_phone_number")."""

    def __init__(self, code: int | str, reason: str):
        super().__init__(f"{code}: {reason}")
        self.code, self.reason = code, reason


class WahaHttp:
    def __init__(self, sealer: Sealer | None, timeout: float = 15.0):
        self.sealer, self.timeout = sealer, timeout
        self.clients: dict[str, tuple[tuple[str, str], httpx.AsyncClient]] = {}  # sender id → ((base, key), client)
        self._opened: dict[str, dict[str, str]] = {}  # sealed credentials → their secrets

    def secrets(self, sender: Sender) -> dict[str, str]:
        sealed = sender.sealed_credentials
        if not sealed:
            return {}
        if sealed not in self._opened:
            if self.sealer is None:
                raise SealingError("SWITCHBOARD_SECRET_KEY is not set: the sender's credentials cannot be opened")
            self._opened[sealed] = self.sealer.unseal(sealed)
        return self._opened[sealed]

    async def client(self, sender: Sender) -> tuple[httpx.AsyncClient, str]:
        """The sender's pooled client and its session name (a new client when its URL or key changed)."""
        base, session = (sender.config.get("base_url") or "").rstrip("/"), sender.config.get("session") or ""
        if not base or not session:
            raise WahaError("not_configured", "the sender's configuration lacks `base_url` or `session`")
        key = self.secrets(sender).get("api_key") or ""
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

    async def call(self, sender: Sender, method: str, path: str, **kwargs) -> httpx.Response:
        """A session call: `path` may name `{session}`; 2xx responses only, else WahaError."""
        try:
            client, session = await self.client(sender)
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
            raise WahaError(response.status_code, error_text(response))
        return response

    async def close(self) -> None:
        for _, client in self.clients.values():
            await client.aclose()
        self.clients.clear()


def json_body(response: httpx.Response) -> dict:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def error_text(response: httpx.Response) -> str:
    """WAHA's error text: NestJS `{"statusCode", "message", "error"}` (message may be a list of validation
    errors), a session-status body `{"error": "…", "status"}`, or a 500's `{"exception": {"message"}}`."""
    body = json_body(response)
    for text in (body.get("message"), body.get("error"), (body.get("exception") or {}).get("message")
                 if isinstance(body.get("exception"), dict) else None):
        if isinstance(text, list):
            text = "; ".join(str(t) for t in text)
        if isinstance(text, str) and text:
            return text[:500]
    return (response.text or f"HTTP {response.status_code}")[:500] if not body else f"HTTP {response.status_code}"

