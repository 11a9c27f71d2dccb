"""A local stand-in for WAHA (WhatsApp HTTP API), reproducing its documented request and response
shapes, status codes and error bodies (NestJS: `{"statusCode", "message", "error"}`; a session that is
not in the expected status: 422 `{"error", "session", "status", "expected"}`), with sessions that move
through STARTING → SCAN_QR_CODE → WORKING, and error injection per chat id and per session."""

from __future__ import annotations

import asyncio
import re
import secrets
import time

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from switchboard_devkit.testing.fake_server import serving

NAME = re.compile(r"^[a-zA-Z0-9_-]+$")
CHAT_ID = re.compile(r"^[\w.-]+@(c\.us|g\.us|lid|newsletter)$")
NOT_AS_EXPECTED = "Session status is not as expected. Try again later or restart the session"
MEDIA = ("sendImage", "sendFile", "sendVoice", "sendVideo")
ERRORS = {  # injected status → WAHA's body for it
    400: {"statusCode": 400, "message": ["chatId must be a valid chat id"], "error": "Bad Request"},
    429: {"statusCode": 429, "message": "ThrottlerException: Too Many Requests"},
    500: {"statusCode": 500, "timestamp": "2026-01-01T00:00:00.000Z",
          "exception": {"message": "Evaluation failed: t: t", "name": "Error"}},
    503: {"statusCode": 503, "message": "Service Unavailable", "error": "Service Unavailable"},
}


def nest_error(status: int, message: str, error: str) -> JSONResponse:
    return JSONResponse({"statusCode": status, "message": message, "error": error}, status_code=status)


def not_found(name: str) -> JSONResponse:
    """What WAHA answers for a session it does not run (stopped or never created)."""
    return nest_error(404, f"We didn't find a session with name '{name}'.\nPlease start it first by using "
                           f"POST /api/sessions/{name}/start request", "Not Found")


def not_as_expected(name: str, status: str, expected: list[str]) -> JSONResponse:
    return JSONResponse({"error": NOT_AS_EXPECTED, "session": name, "status": status, "expected": expected},
                        status_code=422)


class FakeWaha:
    def __init__(self, api_key: str | None = "k", id_style: str = "webjs", boot_seconds: float = 0.0):
        self.api_key = api_key  # None: WAHA without WHATSAPP_API_KEY (no auth)
        # "webjs": {"id": {"_serialized": …}}; "string": {"id": "true_…"}; "noweb": {"key": {…}}
        self.id_style = id_style
        self.boot_seconds = boot_seconds  # STARTING lasts this long
        self.sessions: dict[str, dict] = {}  # name → {"name", "status", "config", "paired": me | None, …}
        self.created: list[dict] = []  # every accepted create body
        self.pairing_requests: list[dict] = []  # {"session", "phoneNumber", "code"}
        self.sent: list[dict] = []  # {"endpoint", "body", "id", "at", "seq"} of every accepted send
        self.typing: list[dict] = []  # {"action": "start"|"stop", "session", "chatId", "at", "seq"}
        self.errors: dict[str, list[int | tuple[int, dict]]] = {}  # chat id → statuses (or bodies) in turn
        self.slow: dict[str, float] = {}  # session → seconds each send hangs
        self._seq = 0
        app = self.app = FastAPI()
        app.middleware("http")(self._auth)
        app.post("/api/sessions")(self.create)
        app.get("/api/sessions/{name}")(self.get)
        app.post("/api/sessions/{name}/start")(self.start)
        app.post("/api/sessions/{name}/stop")(self.stop)
        app.post("/api/sessions/{name}/restart")(self.restart)
        app.get("/api/{name}/auth/qr")(self.qr)
        app.post("/api/{name}/auth/request-code")(self.request_code)
        app.post("/api/startTyping")(self.start_typing)
        app.post("/api/stopTyping")(self.stop_typing)
        app.post("/api/sendText")(self.send_text)
        for endpoint in MEDIA:
            app.post(f"/api/{endpoint}")(self._media(endpoint))

    # --- test controls ---------------------------------------------------------------------------

    def pair(self, name: str, me: str = "15550001111@c.us", push_name: str = "Acme") -> None:
        """The phone scanned the QR (or typed the code): the session is WORKING as `me`."""
        s = self.sessions[name]
        s["paired"] = {"id": me, "pushName": push_name}
        self._move(s, "WORKING")

    def drop(self, name: str, status: str = "FAILED") -> None:
        """The session failed (the phone went away) or was stopped behind our back."""
        self._move(self.sessions[name], status)

    def add_session(self, name: str, status: str = "WORKING", me: str = "15550001111@c.us") -> None:
        """A session that already exists on the server (paired when WORKING)."""
        paired = {"id": me, "pushName": "Acme"} if status == "WORKING" else None
        self.sessions[name] = {"name": name, "status": status, "config": None, "paired": paired, "qr": None, "gen": 0}

    # --- internals -------------------------------------------------------------------------------

    def _next(self) -> tuple[float, int]:
        self._seq += 1
        return time.monotonic(), self._seq

    def _move(self, s: dict, status: str) -> None:
        s["status"], s["gen"] = status, s["gen"] + 1
        s["qr"] = f"2@{secrets.token_urlsafe(24)},{secrets.token_urlsafe(16)}" if status == "SCAN_QR_CODE" else None

    def _boot(self, s: dict) -> None:
        """STARTING, then SCAN_QR_CODE (or WORKING when it was paired before) after `boot_seconds`."""
        self._move(s, "STARTING")
        gen = s["gen"]

        def booted() -> None:
            if s["gen"] == gen:  # nothing happened to it meanwhile
                self._move(s, "WORKING" if s["paired"] else "SCAN_QR_CODE")

        asyncio.get_running_loop().call_later(self.boot_seconds, booted)

    @staticmethod
    def _info(s: dict) -> dict:
        return {"name": s["name"], "status": s["status"], "config": s["config"],
                "me": s["paired"] if s["status"] == "WORKING" else None,
                "engine": {"engine": "WEBJS"}, "presence": None, "timestamps": {"activity": None}}

    async def _auth(self, request: Request, call_next):
        if self.api_key is not None and request.url.path.startswith("/api/"):
            if request.headers.get("x-api-key") != self.api_key:
                return JSONResponse({"message": "Unauthorized", "statusCode": 401}, status_code=401)
        return await call_next(request)

    def _working(self, name: str | None) -> JSONResponse | None:
        s = self.sessions.get(name or "")
        if s is None or s["status"] == "STOPPED":
            return not_found(name or "")
        if s["status"] != "WORKING":
            return not_as_expected(s["name"], s["status"], ["WORKING"])
        return None

    # --- sessions ------------------------------------------------------------------------------

    async def create(self, request: Request):
        body = await request.json()
        name = body.get("name") or f"session_{secrets.token_hex(8)}"
        if not NAME.match(name):
            return nest_error(400, "Session name can only contain alphanumeric characters, hyphens, and "
                                   "underscores (a-z, A-Z, 0-9, -, _) or be empty", "Bad Request")
        if name in self.sessions:
            return nest_error(422, f"Session '{name}' already exists. Use PUT to update it.", "Unprocessable Entity")
        self.created.append(body)
        s = self.sessions[name] = {"name": name, "status": "STOPPED", "config": body.get("config"),
                                   "paired": None, "qr": None, "gen": 0}
        if body.get("start"):
            self._boot(s)
        return JSONResponse(self._info(s), status_code=201)

    async def get(self, name: str):
        s = self.sessions.get(name)
        return nest_error(404, "Session not found", "Not Found") if s is None else self._info(s)

    async def start(self, name: str):
        s = self.sessions.get(name)
        if s is None:
            return nest_error(404, "Session not found", "Not Found")
        if s["status"] == "STOPPED":  # a running session (even FAILED) is left as it is
            self._boot(s)
        return JSONResponse(self._info(s), status_code=201)

    async def stop(self, name: str):
        s = self.sessions.get(name)
        if s is None:
            return nest_error(404, "Session not found", "Not Found")
        self._move(s, "STOPPED")
        return JSONResponse(self._info(s), status_code=201)

    async def restart(self, name: str):
        s = self.sessions.get(name)
        if s is None:
            return nest_error(404, "Session not found", "Not Found")
        self._boot(s)
        return JSONResponse(self._info(s), status_code=201)

    async def qr(self, name: str, format: str = "image"):
        s = self.sessions.get(name)
        if s is None or s["status"] == "STOPPED":
            return not_found(name)
        if s["status"] != "SCAN_QR_CODE":
            return not_as_expected(name, s["status"], ["SCAN_QR_CODE"])
        if format == "raw":
            return {"value": s["qr"]}
        return Response(b"\x89PNG\r\n\x1a\n" + s["qr"].encode(), media_type="image/png")

    async def request_code(self, name: str, request: Request):
        body = await request.json()
        s = self.sessions.get(name)
        if s is None or s["status"] == "STOPPED":
            return not_found(name)
        if s["status"] != "SCAN_QR_CODE":
            return not_as_expected(name, s["status"], ["SCAN_QR_CODE"])
        phone = body.get("phoneNumber")
        if not isinstance(phone, str) or not phone.isdigit():
            return nest_error(400, "phoneNumber must be a phone number in international format", "Bad Request")
        code = "-".join(secrets.token_hex(2).upper() for _ in range(2))
        self.pairing_requests.append({"session": name, "phoneNumber": phone, "code": code})
        return JSONResponse({"code": code}, status_code=201)

    # --- chatting ------------------------------------------------------------------------------

    async def _typing(self, request: Request, action: str):
        body = await request.json()
        if refused := self._working(body.get("session")):
            return refused
        at, seq = self._next()
        self.typing.append({"action": action, "session": body["session"], "chatId": body.get("chatId"),
                            "at": at, "seq": seq})
        return JSONResponse({"result": True}, status_code=201)

    async def start_typing(self, request: Request):
        return await self._typing(request, "start")

    async def stop_typing(self, request: Request):
        return await self._typing(request, "stop")

    async def send_text(self, request: Request):
        body = await request.json()
        if not isinstance(body.get("text"), str):
            return nest_error(400, "text must be a string", "Bad Request")
        return await self._send("sendText", body)

    def _media(self, endpoint: str):
        async def send_media(request: Request):
            body = await request.json()
            file = body.get("file")
            if not isinstance(file, dict) or not (file.get("url") or file.get("data")):
                return nest_error(400, 'File must contain either "data" or "url".', "Bad Request")
            if not file.get("mimetype"):
                return nest_error(400, "file.mimetype must be a string", "Bad Request")
            return await self._send(endpoint, body)
        return send_media

    async def _send(self, endpoint: str, body: dict):
        if not CHAT_ID.match(str(body.get("chatId") or "")):
            return JSONResponse(ERRORS[400], status_code=400)
        if refused := self._working(body.get("session")):
            return refused
        if body["session"] in self.slow:
            await asyncio.sleep(self.slow[body["session"]])
        queue = self.errors.get(body["chatId"])
        if queue:
            injected = queue.pop(0)
            status, error = injected if isinstance(injected, tuple) else (injected, ERRORS[injected])
            headers = {"Retry-After": "7"} if status == 429 else None
            return JSONResponse(error, status_code=status, headers=headers)
        at, seq = self._next()
        short = secrets.token_hex(10).upper()
        serialized = f"true_{body['chatId']}_{short}"
        self.sent.append({"endpoint": endpoint, "body": body, "id": serialized, "at": at, "seq": seq})
        me = self.sessions[body["session"]]["paired"]["id"]
        message = {"body": body.get("text") or body.get("caption") or "", "from": me, "to": body["chatId"],
                   "fromMe": True, "timestamp": int(time.time()), "ack": 0, "hasMedia": endpoint != "sendText"}
        if self.id_style == "string":
            message["id"] = serialized
        elif self.id_style == "noweb":  # NOWEB answers with the engine's raw message: a JID, no `id`
            number = body["chatId"].split("@")[0]
            message = {"key": {"remoteJid": f"{number}@s.whatsapp.net", "fromMe": True, "id": short},
                       "message": {"extendedTextMessage": {"text": body.get("text") or ""}},
                       "messageTimestamp": str(int(time.time())), "status": "PENDING"}
        else:
            message["id"] = {"fromMe": True, "remote": body["chatId"], "id": short, "_serialized": serialized}
        return JSONResponse(message, status_code=201)


def running_fake_waha(**kwargs):
    return serving(FakeWaha(**kwargs))
