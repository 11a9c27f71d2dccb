"""The `email` node's message: one plain-text e-mail through the operator's SMTP server (aiosmtplib),
answered with an EmailOutcome — sent, or failed with the reason (cannot connect, timed out, login
refused, recipient refused...) — never an exception.

The recipient is one address (`a@b.example` or `Name <a@b.example>`); no header field may hold a line
break, so a rendered value cannot add headers. The Message-ID derives from the caller's key, so a
redelivered send carries the same one (and a receiving server or reader can tell it is a repeat). Each
SMTP step has the configured timeout and the whole exchange three times that. The password reaches the
SMTP server only: not a repr, a log or an error."""

from __future__ import annotations

import asyncio
import hashlib
import re
import time
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate

import aiosmtplib

_ADDRESS = re.compile(r'[^\s@<>()\[\],;:"\\]+@[^\s@<>()\[\],;:"\\.]+(\.[^\s@<>()\[\],;:"\\.]+)*')
_NAMED = re.compile(r'(?P<name>[^<>]*)<(?P<address>[^<>]*)>')
_LINE_BREAK = re.compile(r"[\r\n\x00]")
NOT_CONFIGURED = "SMTP is not configured"


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    username: str | None
    password: str | None = field(repr=False)
    sender: str  # the From address (`a@b.example` or `Name <a@b.example>`)
    starttls: bool = False  # upgrade a plain connection with STARTTLS (required when set)
    use_tls: bool = False  # TLS from the start (port 465)
    timeout_seconds: float = 10.0  # each SMTP step's


@dataclass(frozen=True)
class EmailOutcome:
    ok: bool  # the node's `sent` exit; otherwise `failed`
    error: str | None
    duration_ms: int


def parse_address(value: str) -> Address:
    """One e-mail address, with or without a display name; ValueError for anything else."""
    if _LINE_BREAK.search(value):
        raise ValueError("an address may not contain a line break")
    text, name = value.strip(), ""
    named = _NAMED.fullmatch(text)
    if named:
        text, name = named["address"].strip(), named["name"].strip().strip('"').strip()
    if not _ADDRESS.fullmatch(text):
        raise ValueError(f"{value!r} is not one e-mail address")
    username, domain = text.rsplit("@", 1)
    return Address(display_name=name, username=username, domain=domain)


def message_id(key: str, domain: str) -> str:
    """The Message-ID for the caller's key: the same key, the same id."""
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:40]}.flows@{domain}>"


def _message(sender: Address, to: Address, subject: str, body: str, key: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = message_id(key, sender.domain)
    message.set_content(body)
    return message


def _reason(exc: Exception, config: SmtpConfig) -> str:
    """What went wrong, in words for the execution's log (the server's answer, never our password)."""
    where = f"{config.host}:{config.port}"
    if isinstance(exc, (TimeoutError, aiosmtplib.SMTPTimeoutError)):
        return f"the SMTP server {where} timed out"
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        return "the recipient was refused: " + "; ".join(f"{r.code} {r.message}" for r in exc.recipients)
    if isinstance(exc, aiosmtplib.SMTPRecipientRefused):
        return f"the recipient was refused: {exc.code} {exc.message}"
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        return f"the SMTP login was refused: {exc.code} {exc.message}"
    if isinstance(exc, aiosmtplib.SMTPSenderRefused):
        return f"the sender {exc.sender} was refused: {exc.code} {exc.message}"
    if isinstance(exc, aiosmtplib.SMTPDataError):
        return f"the message was refused: {exc.code} {exc.message}"
    if isinstance(exc, aiosmtplib.SMTPConnectError | aiosmtplib.SMTPServerDisconnected | OSError):
        return f"cannot connect to the SMTP server {where}: {exc}"
    if isinstance(exc, aiosmtplib.SMTPException):
        return f"SMTP error: {exc}"
    return f"unexpected error: {type(exc).__name__}"


class Mailer:
    """Sends the e-mail node's messages with the operator's SMTP settings (None: no SMTP server)."""

    def __init__(self, config: SmtpConfig | None):
        self.config = config

    async def send(self, *, to: str, subject: str, body: str, message_key: str) -> EmailOutcome:
        """One message to `to`; never raises (but is cancellable)."""
        started = time.monotonic()
        error = await self._send(to, subject, body, message_key)
        return EmailOutcome(ok=error is None, error=error, duration_ms=int((time.monotonic() - started) * 1000))

    async def _send(self, to: str, subject: str, body: str, key: str) -> str | None:
        """None when the server took the message, else why not."""
        config = self.config
        if config is None:
            return NOT_CONFIGURED
        try:
            sender = parse_address(config.sender)
        except ValueError as exc:
            return f"the configured sender is not valid: {exc}"
        try:
            recipient = parse_address(to)
        except ValueError as exc:
            return f"the recipient is not valid: {exc}"
        if _LINE_BREAK.search(subject):
            return "the subject may not contain a line break"
        try:
            message = _message(sender, recipient, subject, body, key)
            async with asyncio.timeout(config.timeout_seconds * 3):
                await aiosmtplib.send(
                    message, sender=sender.addr_spec, recipients=[recipient.addr_spec], hostname=config.host,
                    port=config.port, username=config.username or None,
                    password=(config.password or "") if config.username else None, use_tls=config.use_tls,
                    start_tls=config.starttls, timeout=config.timeout_seconds)
        except Exception as exc:  # every failure is the node's `failed` exit, with its reason
            return _reason(exc, config)
        return None
