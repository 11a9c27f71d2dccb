"""The email node's message against a real SMTP server (aiosmtpd on 127.0.0.1): delivered with its To,
Subject, body and deterministic Message-ID; a refused recipient, a refused login, a closed port and a
server that never greets all fail with their reason; nothing is sent for an address or subject that
would inject headers, nor when SMTP is not configured."""

from __future__ import annotations

import asyncio
import email
import email.policy

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from switchboard_devkit.testing.ports import server_port
from switchboard_flows.effects.email import NOT_CONFIGURED, EmailOutcome, Mailer, SmtpConfig, message_id

USER, PASSWORD = "flows", "s3cret-pass"


class Recorder:
    """An aiosmtpd handler: refuses recipients at refused.example, keeps every message it accepts."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], email.message.EmailMessage]] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.endswith("@refused.example"):
            return "550 5.1.1 no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 Message accepted"


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


def authenticate(server, session, envelope, mechanism, auth_data) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (_text(auth_data.login), _text(auth_data.password)) == (USER,
                                                                                                        PASSWORD)
    return AuthResult(success=ok, handled=False)  # not handled: the server answers 235 or 535 itself


@pytest.fixture(scope="module")
def smtp():
    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=server_port(), authenticator=authenticate,
                            auth_require_tls=False)
    controller.start()
    try:
        yield controller.port, recorder
    finally:
        controller.stop()


def config(port: int, **overrides) -> SmtpConfig:
    values = dict(host="127.0.0.1", port=port, username=None, password=None, sender="Switchboard <flows@acme.example>",
                  timeout_seconds=5.0)
    return SmtpConfig(**{**values, **overrides})


async def test_a_message_is_delivered_with_its_headers_and_body(smtp) -> None:
    port, recorder = smtp
    outcome = await Mailer(config(port)).send(to="Ada Lovelace <ada@example.org>", subject="Grüße, order 42",
                                              body="Hello Ada,\nyour order shipped.", message_key="exec-1:node-3")
    assert outcome == EmailOutcome(ok=True, error=None, duration_ms=outcome.duration_ms)
    sender, recipients, message = recorder.messages[-1]
    assert (sender, recipients) == ("flows@acme.example", ["ada@example.org"])
    assert message["To"] == "Ada Lovelace <ada@example.org>" and message["Subject"] == "Grüße, order 42"
    assert message["From"] == "Switchboard <flows@acme.example>"
    assert message.get_content().replace("\r\n", "\n").rstrip("\n") == "Hello Ada,\nyour order shipped."
    assert message["Message-ID"] == message_id("exec-1:node-3", "acme.example")


async def test_the_message_id_is_the_same_for_the_same_key_and_differs_for_another(smtp) -> None:
    port, recorder = smtp
    mailer = Mailer(config(port))
    for key in ("k-1", "k-1", "k-2"):
        assert (await mailer.send(to="bob@example.org", subject="s", body="b", message_key=key)).ok
    ids = [m["Message-ID"] for _, _, m in recorder.messages[-3:]]
    assert ids[0] == ids[1] != ids[2] and ids[0].endswith("@acme.example>")


async def test_a_login_with_the_right_password_sends(smtp) -> None:
    port, recorder = smtp
    before = len(recorder.messages)
    outcome = await Mailer(config(port, username=USER, password=PASSWORD)).send(
        to="carol@example.org", subject="s", body="b", message_key="k")
    assert outcome.ok and len(recorder.messages) == before + 1


async def test_a_refused_login_fails_with_the_reason_and_without_the_password(smtp) -> None:
    port, recorder = smtp
    before = len(recorder.messages)
    outcome = await Mailer(config(port, username=USER, password="wrong-password")).send(
        to="carol@example.org", subject="s", body="b", message_key="k")
    assert not outcome.ok and outcome.error.startswith("the SMTP login was refused: 535")
    assert "wrong-password" not in outcome.error and len(recorder.messages) == before
    assert "wrong-password" not in repr(config(port, password="wrong-password"))


async def test_a_refused_recipient_fails_with_the_servers_reason(smtp) -> None:
    port, recorder = smtp
    before = len(recorder.messages)
    outcome = await Mailer(config(port)).send(to="nobody@refused.example", subject="s", body="b", message_key="k")
    assert not outcome.ok and outcome.error == "the recipient was refused: 550 5.1.1 no such mailbox here"
    assert len(recorder.messages) == before


async def test_a_closed_port_fails_quickly() -> None:
    outcome = await Mailer(config(server_port(), timeout_seconds=10.0)).send(
        to="ada@example.org", subject="s", body="b", message_key="k")  # nothing listens there
    assert not outcome.ok and outcome.error.startswith("cannot connect to the SMTP server 127.0.0.1:")
    assert outcome.duration_ms < 5000  # refused at once, not waited out


async def test_a_server_that_never_greets_times_out() -> None:
    waiting: set[asyncio.Task] = set()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        waiting.add(asyncio.current_task())
        try:
            await reader.read()  # never a greeting: until the client gives up
        finally:
            writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    try:
        port = server.sockets[0].getsockname()[1]
        outcome = await Mailer(config(port, timeout_seconds=0.5)).send(
            to="ada@example.org", subject="s", body="b", message_key="k")
    finally:
        server.close()
        for task in waiting:
            task.cancel()
        await asyncio.gather(*waiting, return_exceptions=True)
        await server.wait_closed()
    assert not outcome.ok and outcome.error == f"the SMTP server 127.0.0.1:{port} timed out"
    assert outcome.duration_ms >= 490


async def test_not_configured_fails() -> None:
    outcome = await Mailer(None).send(to="ada@example.org", subject="s", body="b", message_key="k")
    assert (outcome.ok, outcome.error) == (False, NOT_CONFIGURED)


@pytest.mark.parametrize("to", ["ada@example.org\r\nBcc: eve@evil.example", "ada@example.org\nX: y",
                                "ada@example.org, eve@evil.example", "not an address", "ada@", "@example.org",
                                "Ada <ada@example.org> eve@evil.example", ""])
async def test_an_address_that_is_not_one_address_is_refused(smtp, to: str) -> None:
    port, recorder = smtp
    before = len(recorder.messages)
    outcome = await Mailer(config(port)).send(to=to, subject="s", body="b", message_key="k")
    assert not outcome.ok and outcome.error.startswith("the recipient is not valid")
    assert len(recorder.messages) == before


@pytest.mark.parametrize("subject", ["hi\r\nBcc: eve@evil.example", "hi\nthere", "nul\x00"])
async def test_a_subject_with_a_line_break_is_refused(smtp, subject: str) -> None:
    port, recorder = smtp
    before = len(recorder.messages)
    outcome = await Mailer(config(port)).send(to="ada@example.org", subject=subject, body="b", message_key="k")
    assert (outcome.ok, outcome.error) == (False, "the subject may not contain a line break")
    assert len(recorder.messages) == before


async def test_an_invalid_configured_sender_fails(smtp) -> None:
    port, _ = smtp
    outcome = await Mailer(config(port, sender="flows\r\nBcc: x@y.example")).send(
        to="ada@example.org", subject="s", body="b", message_key="k")
    assert not outcome.ok and outcome.error.startswith("the configured sender is not valid")
