"""The WAHA provider against a local fake WAHA: sessions (start, QR, pairing, restart of a failed one),
sends (text, replies, media by link; what WhatsApp Web cannot send), errors acted on (retry, hold back,
fail), human pacing with a typing indicator, and one slow session not holding up another.
No NATS or PostgreSQL: the provider is driven directly, with a recording `sleep` for the pacing."""

from __future__ import annotations

import asyncio
import random
import re
import time
from datetime import UTC, datetime

import pytest

from switchboard_contracts.ids import new_id
from switchboard_devkit.ports import free_port
from switchboard_runtime.sealing import Sealer
from switchboard_devkit.testing.plugin import TEST_SECRET_KEY
from switchboard_session_pool.domain.outbound import OutboundMessage
from switchboard_session_pool.domain.pacing import HumanPacing
from switchboard_session_pool.domain.sender import Sender
from switchboard_session_pool.providers.waha import WahaProvider
from switchboard_session_pool.providers.waha_http import WahaError
from switchboard_session_pool.providers.waha_sessions import SessionState

from .fake_waha import running_fake_waha

TO, CHAT = "+15551234567", "15551234567@c.us"
HOOK = "http://127.0.0.1:9/webhooks/waha"


def waha_sender(url: str, session: str = "shop", api_key: str = "k", hmac_key: str | None = None,
                **config: str) -> Sender:
    secrets = {"api_key": api_key} | ({"webhook_hmac_key": hmac_key} if hmac_key else {})
    return Sender(sender_id=new_id(), org_id="org-1", name="web", provider="waha", quotas={}, phone_number=None,
                  registered_at=datetime.now(UTC), config={"base_url": url, "session": session, **config},
                  sealed_credentials=Sealer(TEST_SECRET_KEY).seal(secrets))


def outbound(sender: Sender, text: str = "hello", to: str = TO, **fields) -> OutboundMessage:
    return OutboundMessage(message_id=new_id(), org_id=sender.org_id, sender_id=str(sender.id),
                           sender_phone="+15550001111", to=to, text=text, client_ref=None, correlationid="corr",
                           causationid="cause", **fields)


class Sleeps:
    """A `sleep` that records what it was asked to wait, and does not wait."""

    def __init__(self):
        self.durations: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.durations.append(seconds)


def provider(*senders: Sender, pacing: HumanPacing | None = None, sleep: Sleeps | None = None,
             timeout: float = 5.0) -> WahaProvider:
    return WahaProvider(Sealer(TEST_SECRET_KEY), {str(s.id): s for s in senders}, timeout=timeout,
                        pacing=pacing, sleep=sleep or Sleeps(), rng=random.Random(7))


async def until_status(waha: WahaProvider, sender: Sender, status: str) -> SessionState:
    async with asyncio.timeout(2):
        while (state := await waha.status(sender)).status != status:
            await asyncio.sleep(0.01)
    return state


# --- sessions ------------------------------------------------------------------------------------

async def test_start_creates_the_session_then_qr_then_pairing_makes_it_work():
    async with running_fake_waha() as fake:
        sender = waha_sender(fake.url, hmac_key="hmac-secret")
        waha = provider(sender)
        try:
            state = await waha.start(sender, webhook_url=HOOK)
            assert state == SessionState("STARTING", None)
            assert fake.created == [{"name": "shop", "start": True, "config": {"webhooks": [{
                "url": HOOK, "events": ["message", "message.ack", "session.status"], "hmac": {"key": "hmac-secret"}}]}}]

            await until_status(waha, sender, "SCAN_QR_CODE")
            value = await waha.qr(sender)
            assert value == fake.sessions["shop"]["qr"] and value.startswith("2@")

            fake.pair("shop", me="15550001111@c.us")
            assert await waha.status(sender) == SessionState("WORKING", "15550001111@c.us")
            assert await waha.qr(sender) is None  # nothing to scan any more

            again = await waha.start(sender, webhook_url=HOOK)  # it exists: started (already running)
            assert again == SessionState("WORKING", "15550001111@c.us") and len(fake.created) == 1

            assert (await waha.stop(sender)).status == "STOPPED"
            assert (await waha.start(sender)).status == "STARTING"
            assert (await until_status(waha, sender, "WORKING")).me == "15550001111@c.us"  # still paired
        finally:
            await waha.close()


async def test_start_without_webhook_or_hmac_key_sends_no_config():
    async with running_fake_waha() as fake:
        sender = waha_sender(fake.url)
        waha = provider(sender)
        try:
            await waha.start(sender)
            assert fake.created == [{"name": "shop", "start": True}]
            other = waha_sender(fake.url, session="other")
            await waha.start(other, webhook_url=HOOK)
            assert fake.created[1]["config"] == {"webhooks": [{"url": HOOK, "events": [
                "message", "message.ack", "session.status"]}]}
        finally:
            await waha.close()


async def test_a_failed_session_is_restarted():
    async with running_fake_waha() as fake:
        fake.add_session("shop", "WORKING")
        fake.drop("shop", "FAILED")
        sender = waha_sender(fake.url)
        waha = provider(sender)
        try:
            assert (await waha.start(sender)).status == "STARTING"  # plain start would leave it FAILED
            assert (await until_status(waha, sender, "WORKING")).me == "15550001111@c.us"
        finally:
            await waha.close()


async def test_pairing_code():
    async with running_fake_waha() as fake:
        sender = waha_sender(fake.url)
        waha = provider(sender)
        try:
            await waha.start(sender)
            await until_status(waha, sender, "SCAN_QR_CODE")
            code = await waha.pairing_code(sender, "+1 (555) 123-4567")
            assert re.fullmatch(r"[0-9A-F]{4}-[0-9A-F]{4}", code)
            assert fake.pairing_requests == [{"session": "shop", "phoneNumber": "15551234567", "code": code}]
            with pytest.raises(WahaError) as bad:
                await waha.pairing_code(sender, "12")
            assert bad.value.code == "invalid_phone_number"
            fake.pair("shop")
            with pytest.raises(WahaError) as working:
                await waha.pairing_code(sender, TO)
            assert working.value.code == 422 and "not as expected" in working.value.reason
        finally:
            await waha.close()


async def test_session_calls_report_refused_keys_missing_sessions_and_unreachable_servers():
    async with running_fake_waha(api_key="right-key") as fake:
        wrong = waha_sender(fake.url, api_key="wrong-key-0123456789")
        missing = waha_sender(fake.url, api_key="right-key", session="nope")
        down = waha_sender(f"http://127.0.0.1:{free_port()}")
        waha = provider(wrong, missing, down)
        try:
            with pytest.raises(WahaError) as refused:
                await waha.start(wrong, webhook_url=HOOK)
            assert refused.value.code == 401 and "wrong-key" not in str(refused.value)
            with pytest.raises(WahaError) as gone:
                await waha.status(missing)
            assert gone.value.code == 404 and gone.value.reason == "Session not found"
            with pytest.raises(WahaError) as unreachable:
                await waha.status(down)
            assert unreachable.value.code == "unreachable"
            assert fake.created == []
        finally:
            await waha.close()


# --- sends ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("id_style", ["webjs", "string", "noweb"])
async def test_send_text_body_and_returned_id(id_style):
    async with running_fake_waha(id_style=id_style) as fake:
        fake.add_session("shop")
        sender = waha_sender(fake.url)
        waha = provider(sender)
        try:
            m = outbound(sender, "hello there")
            [result] = await waha.send([m])
        finally:
            await waha.close()
    [sent] = fake.sent
    assert sent["endpoint"] == "sendText"
    assert sent["body"] == {"session": "shop", "chatId": CHAT, "text": "hello there"}
    assert result.ok and result.message_id == m.message_id and result.final
    assert result.provider_message_id == sent["id"] and sent["id"].startswith(f"true_{CHAT}_")


async def test_reply_to_is_passed_as_wahas_reply_to():
    async with running_fake_waha() as fake:
        fake.add_session("shop")
        sender = waha_sender(fake.url)
        waha = provider(sender)
        try:
            [result] = await waha.send([outbound(sender, "yes", reply_to=f"false_{CHAT}_AAAA")])
        finally:
            await waha.close()
    assert result.ok
    assert fake.sent[0]["body"] == {"session": "shop", "chatId": CHAT, "text": "yes", "reply_to": f"false_{CHAT}_AAAA"}


async def test_media_by_link_goes_to_the_matching_endpoint():
    async with running_fake_waha() as fake:
        fake.add_session("shop")
        sender = waha_sender(fake.url)
        waha = provider(sender)
        image = outbound(sender, "[image]", type="image",
                         media={"link": "https://cdn.example.com/p/cat.png", "caption": "Our cat"})
        document = outbound(sender, "[document]", type="document", reply_to="false_x@c.us_B",
                            media={"link": "https://cdn.example.com/f/123", "filename": "invoice.pdf",
                                   "mime_type": "application/pdf"})
        audio = outbound(sender, "[audio]", type="audio", media={"link": "https://cdn.example.com/a/hi.mp3"})
        video = outbound(sender, "[video]", type="video", media={"link": "https://cdn.example.com/v/clip.mp4"})
        try:
            results = await waha.send([image, document, audio, video])
        finally:
            await waha.close()
    assert [r.ok for r in results] == [True] * 4
    assert [r.provider_message_id for r in results] == [s["id"] for s in fake.sent]
    bodies = {s["endpoint"]: s["body"] for s in fake.sent}
    assert list(bodies) == ["sendImage", "sendFile", "sendVoice", "sendVideo"]  # in order
    assert bodies["sendImage"] == {"session": "shop", "chatId": CHAT, "caption": "Our cat", "file": {
        "url": "https://cdn.example.com/p/cat.png", "mimetype": "image/png", "filename": "cat.png"}}
    assert bodies["sendFile"] == {"session": "shop", "chatId": CHAT, "reply_to": "false_x@c.us_B", "file": {
        "url": "https://cdn.example.com/f/123", "mimetype": "application/pdf", "filename": "invoice.pdf"}}
    assert bodies["sendVoice"]["file"]["mimetype"] == "audio/mpeg" and bodies["sendVoice"]["convert"] is True
    assert bodies["sendVideo"]["file"]["mimetype"] == "video/mp4" and bodies["sendVideo"]["convert"] is False


@pytest.mark.parametrize("fields, title", [
    ({"type": "template", "template": {"name": "welcome", "language": "en_US"}}, "Template"),
    ({"type": "interactive", "interactive": {"type": "button"}}, "Interactive"),
    ({"type": "image", "media": {"id": "1234567890"}}, "Image by media id"),
])
async def test_what_whatsapp_web_cannot_send_fails_without_a_request(fields, title):
    async with running_fake_waha() as fake:
        fake.add_session("shop")
        sender = waha_sender(fake.url)
        waha = provider(sender, pacing=HumanPacing())
        try:
            [result] = await waha.send([outbound(sender, "[x]", **fields)])
        finally:
            await waha.close()
    assert not result.ok and result.final
    assert result.error.code == "unsupported_by_provider" and result.error.title.startswith(title)
    assert "WhatsApp Web" in result.error.detail
    assert fake.sent == [] and fake.typing == []


async def test_a_refused_api_key_is_retried_later_as_unauthorized():
    async with running_fake_waha(api_key="right-key") as fake:
        fake.add_session("shop")
        sender = waha_sender(fake.url, api_key="wrong-key-0123456789")
        waha = provider(sender)
        try:
            first, second = await waha.send([outbound(sender), outbound(sender)])
        finally:
            await waha.close()
    for r in (first, second):
        assert not r.ok and r.retry == "retry" and r.delay == 30.0 and r.error.code == "unauthorized"
        assert "wrong-key" not in repr(r)
    assert fake.sent == []


async def test_server_errors_retry_and_hold_back_the_senders_later_messages():
    async with running_fake_waha() as fake:
        fake.add_session("shop")
        fake.errors[CHAT] = [500]
        sender = waha_sender(fake.url)
        waha = provider(sender)
        try:
            batch = [outbound(sender, "one"), outbound(sender, "two", to="+15559998888")]
            first = await waha.send(batch)
            assert fake.sent == []  # "two" did not overtake "one"
            second = await waha.send(batch)
        finally:
            await waha.close()
    for r in first:
        assert not r.ok and r.retry == "retry" and r.delay == 5.0
        assert r.error.code == "http_500" and r.error.detail == "Evaluation failed: t: t"
    assert [r.message_id for r in first] == [m.message_id for m in batch]
    assert all(r.ok for r in second) and [s["body"]["text"] for s in fake.sent] == ["one", "two"]


async def test_rate_limited_sends_wait_for_retry_after():
    async with running_fake_waha() as fake:
        fake.add_session("shop")
        fake.errors[CHAT] = [429]
        sender = waha_sender(fake.url)
        waha = provider(sender)
        try:
            [result] = await waha.send([outbound(sender)])
        finally:
            await waha.close()
    assert result.retry == "retry" and result.delay == 7.0 and result.error.code == "rate_limited"


async def test_other_4xx_fail_the_message_with_wahas_message_and_the_next_goes():
    async with running_fake_waha() as fake:
        fake.add_session("shop")
        fake.errors[CHAT] = [400]
        sender = waha_sender(fake.url)
        waha = provider(sender)
        try:
            failed, sent = await waha.send([outbound(sender, "one"), outbound(sender, "two")])
        finally:
            await waha.close()
    assert not failed.ok and failed.final
    assert failed.error.code == "http_400" and failed.error.detail == "chatId must be a valid chat id"
    assert sent.ok and [s["body"]["text"] for s in fake.sent] == ["two"]


@pytest.mark.parametrize("status", ["FAILED", "SCAN_QR_CODE", "STOPPED"])
async def test_a_session_that_is_not_working_is_retried(status):
    async with running_fake_waha() as fake:
        fake.add_session("shop")
        fake.drop("shop", status)
        sender = waha_sender(fake.url)
        waha = provider(sender, pacing=HumanPacing(), sleep=(sleeps := Sleeps()))
        try:
            [result] = await waha.send([outbound(sender)])
        finally:
            await waha.close()
    assert not result.ok and result.retry == "retry" and result.delay == 10.0
    assert result.error.code == "session_not_working"
    if status != "STOPPED":  # WAHA names the status it found; a stopped session it does not know at all
        assert status in result.error.detail
    assert sleeps.durations == []  # no pause before a send that cannot go


async def test_unreachable_waha_is_retried():
    down = waha_sender(f"http://127.0.0.1:{free_port()}")
    waha = provider(down, pacing=HumanPacing())
    try:
        [result] = await waha.send([outbound(down)])
    finally:
        await waha.close()
    assert result.retry == "retry" and result.delay == 5.0 and result.error.code == "provider_unreachable"


async def test_expired_and_unknown_sender_messages_are_not_sent():
    async with running_fake_waha() as fake:
        fake.add_session("shop")
        sender = waha_sender(fake.url)
        waha = provider(sender)
        stranger = waha_sender(fake.url)  # not among the provider's senders
        try:
            expired, unknown = await waha.send([outbound(sender, expires_at=time.time() - 1), outbound(stranger)])
        finally:
            await waha.close()
    assert expired.expired and expired.error.code == "expired" and not expired.retry
    assert unknown.error.code == "unknown_sender"
    assert fake.sent == []


# --- pacing --------------------------------------------------------------------------------------

async def test_typing_is_shown_before_each_send_for_a_time_scaled_by_length():
    async with running_fake_waha() as fake:
        fake.add_session("shop")
        sender = waha_sender(fake.url)
        sleeps = Sleeps()
        waha = provider(sender, pacing=HumanPacing(), sleep=sleeps)
        long_text = "x" * 300
        try:
            results = await waha.send([outbound(sender, "hi"), outbound(sender, long_text)])
        finally:
            await waha.close()
    assert all(r.ok for r in results)
    timeline = sorted([(t["seq"], t["action"], t["chatId"]) for t in fake.typing]
                      + [(s["seq"], "send", s["body"]["chatId"]) for s in fake.sent])
    assert [action for _, action, _ in timeline] == ["start", "stop", "send"] * 2
    assert {chat for _, _, chat in timeline} == {CHAT}
    short, long = sleeps.durations
    assert 1.0 <= short <= 4.0 + 2 * 0.03
    assert 1.0 + 300 * 0.03 <= long <= 12.0  # base pause plus typing time, capped


async def test_sender_config_sets_the_pause_or_turns_pacing_off():
    async with running_fake_waha() as fake:
        fake.add_session("quick")
        fake.add_session("off")
        fake.add_session("plain")
        quick = waha_sender(fake.url, session="quick", pacing_min_ms="200", pacing_max_ms="300")
        off = waha_sender(fake.url, session="off", pacing="off")
        sleeps = Sleeps()
        waha = provider(quick, off, pacing=HumanPacing(), sleep=sleeps)
        try:
            await waha.send([outbound(quick, "hi"), outbound(off, "hi")])
        finally:
            await waha.close()
        assert len(sleeps.durations) == 1 and 0.2 <= sleeps.durations[0] <= 0.3 + 2 * 0.03
        assert {t["session"] for t in fake.typing} == {"quick"} and len(fake.sent) == 2

        plain = waha_sender(fake.url, session="plain")  # no pacing by default: none unless the sender asks
        asks = waha_sender(fake.url, session="quick", pacing="on")
        waha = provider(plain, asks, pacing=None, sleep=(unpaced := Sleeps()))
        try:
            await waha.send([outbound(plain), outbound(asks)])
        finally:
            await waha.close()
        assert len(unpaced.durations) == 1 and [t["session"] for t in fake.typing[2:]] == ["quick", "quick"]


def test_human_pacing_delay_and_config():
    rng = random.Random(1)
    pacing = HumanPacing()
    delays = [pacing.delay("", rng) for _ in range(200)]
    assert all(1.0 <= d <= 4.0 for d in delays) and max(delays) - min(delays) > 1.0  # random, within bounds
    assert pacing.delay("x" * 10_000, rng) == 12.0  # capped
    assert 1.0 + 100 * 0.03 <= pacing.delay("x" * 100, rng) <= 4.0 + 100 * 0.03

    assert HumanPacing.from_config({}) == HumanPacing()
    assert HumanPacing.from_config({"pacing": "off"}) is None
    assert HumanPacing.from_config({"pacing": " OFF "}) is None
    assert HumanPacing.from_config({"pacing_min_ms": "500", "pacing_max_ms": "1500"}) == HumanPacing(0.5, 1.5)
    assert HumanPacing.from_config({"pacing_min_ms": "soon", "pacing_max_ms": "-3"}) == HumanPacing()
    assert HumanPacing.from_config({"pacing_min_ms": "3000", "pacing_max_ms": "1000"}) == HumanPacing(1.0, 3.0)
    base = HumanPacing(per_char_seconds=0.05, cap_seconds=20.0)
    assert HumanPacing.from_config({"pacing_max_ms": "6000"}, base=base) == HumanPacing(1.0, 6.0, 0.05, 20.0)


# --- concurrency and order -----------------------------------------------------------------------

async def test_a_senders_messages_go_one_at_a_time_in_order():
    async with running_fake_waha() as fake:
        fake.add_session("shop")
        fake.slow["shop"] = 0.2
        sender = waha_sender(fake.url)
        waha = provider(sender)
        try:
            results = await waha.send([outbound(sender, str(i)) for i in range(3)])
        finally:
            await waha.close()
    assert all(r.ok for r in results)
    assert [s["body"]["text"] for s in fake.sent] == ["0", "1", "2"]
    gaps = [b["at"] - a["at"] for a, b in zip(fake.sent, fake.sent[1:], strict=False)]
    assert all(gap >= 0.18 for gap in gaps)  # each waited for the one before (concurrent: ~0 apart)


async def test_a_slow_session_does_not_delay_another_senders_send():
    async with running_fake_waha() as fake:
        fake.add_session("slow")
        fake.add_session("fast")
        fake.slow["slow"] = 1.5
        slow, fast = waha_sender(fake.url, session="slow"), waha_sender(fake.url, session="fast")
        waha = provider(slow, fast)
        try:
            task = asyncio.create_task(waha.send([outbound(slow, "slow"), outbound(fast, "fast")]))
            async with asyncio.timeout(1.0):
                while not fake.sent:
                    await asyncio.sleep(0.01)
            assert [s["body"]["text"] for s in fake.sent] == ["fast"]  # while the slow one still hangs
            async with asyncio.timeout(5):
                results = await task
        finally:
            await waha.close()
    assert all(r.ok for r in results) and [s["body"]["text"] for s in fake.sent] == ["fast", "slow"]
