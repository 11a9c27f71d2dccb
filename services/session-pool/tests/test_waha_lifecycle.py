"""WhatsApp Web (WAHA) senders in the running session-pool, against a local fake WAHA: the session is
started at registration, its QR is served live, WAHA's session events connect and disconnect it, a
failed session is reconnected with backoff, a removed sender's session is stopped, and on start the
session-pool restores the sessions that were connected."""

from __future__ import annotations

import asyncio

import nats

from switchboard_contracts import commands, sender, sender_rpc
from switchboard_contracts.envelope import make_envelope
from switchboard_contracts.ids import new_id
from switchboard_runtime.sealing import Sealer
from switchboard_devkit.testing.plugin import TEST_SECRET_KEY

from .fake_waha import running_fake_waha
from .helpers import collect_events, command, publish_command, running_session_pool, send_command

FAST = {"reconnect_base_seconds": 0.2, "reconnect_cap_seconds": 1.0, "human_pacing": False}


async def register_waha(js, org, sender_id, base_url, session, api_key="k"):
    cmd = commands.RegisterSender(sender_id=sender_id, name="web", provider="waha",
                                  config={"base_url": base_url, "session": session},
                                  sealed_credentials=Sealer(TEST_SECRET_KEY).seal({"api_key": api_key}))
    await publish_command(js, command(org, commands.REGISTER_SENDER, cmd))


async def session_status(js, org, sender_id, session, status, me=None):
    """What webhook-ingest publishes for WAHA's `session.status` webhook."""
    data = sender.SenderSessionStatus(sender_id=sender_id, session=session, status=status, me=me,
                                      timestamp="2026-11-29T10:00:00Z")
    ce = make_envelope(id=new_id(), source="test", type=sender.SESSION_STATUS, orgid=org, data=data,
                       subject=sender_id)
    await js.publish(f"sb.evt.{org}.sender.session_status", ce.to_json_bytes(), headers={"Nats-Msg-Id": ce.id})


def lifecycle(events, sender_id):
    return [e.type.split(".")[2] for e in events if e.subject == sender_id]


async def ask(nats_url, subject, org, sender_id, **extra) -> sender_rpc.SenderReply:
    nc = await nats.connect(nats_url)
    try:
        msg = await nc.request(subject, sender_rpc.SenderRequest(org_id=org, sender_id=sender_id, **extra)
                               .model_dump_json().encode(), timeout=10)
        return sender_rpc.SenderReply.model_validate_json(msg.data)
    finally:
        await nc.close()


async def test_pair_by_qr_send_drop_reconnect_and_remove(nats_url, database_url):
    org, sid, session = "org_waha_1", new_id(), "shop1"
    async with running_fake_waha() as waha, running_session_pool(nats_url, database_url, **FAST) as js:
        await register_waha(js, org, sid, waha.url, session)
        await collect_events(js, f"sb.evt.{org}.sender.qr_issued", lambda evs: any(e.subject == sid for e in evs))
        assert waha.sessions[session]["status"] == "SCAN_QR_CODE"

        qr = await ask(nats_url, sender_rpc.QR, org, sid)
        assert qr.ok and qr.data["qr"] == waha.sessions[session]["qr"]
        assert (await ask(nats_url, sender_rpc.QR, "another_org", sid)).status == 404
        code = await ask(nats_url, sender_rpc.PAIRING_CODE, org, sid, phone_number="+15551230000")
        assert code.ok and waha.pairing_requests[-1] == {"session": session, "phoneNumber": "15551230000",
                                                          "code": code.data["code"]}

        waha.pair(session, me="15550001111@c.us")
        await session_status(js, org, sid, session, "WORKING", me="15550001111@c.us")
        connected = await collect_events(js, f"sb.evt.{org}.sender.connected",
                                         lambda evs: any(e.subject == sid for e in evs))
        assert next(e for e in connected if e.subject == sid).data["phone_number"] == "+15550001111"
        assert (await ask(nats_url, sender_rpc.QR, org, sid)).status == 404  # nothing left to scan

        await publish_command(js, send_command(org, sid, "+4915112345678", "hello from the web"))
        await collect_events(js, f"sb.evt.{org}.message.status",
                             lambda evs: any(e.data["status"] == "sent" for e in evs))
        assert [(s["endpoint"], s["body"]["chatId"], s["body"]["text"]) for s in waha.sent] == [
            ("sendText", "4915112345678@c.us", "hello from the web")]

        # the phone goes away: WAHA reports FAILED; the session-pool restarts the session
        waha.drop(session, "FAILED")
        await session_status(js, org, sid, session, "FAILED")
        events = await collect_events(js, f"sb.evt.{org}.sender.*",
                                      lambda evs: lifecycle(evs, sid).count("connected") >= 2, timeout=20)
        steps = lifecycle(events, sid)
        assert steps[steps.index("disconnected", steps.index("connected")):][:2] == ["disconnected", "connecting"]
        assert waha.sessions[session]["status"] == "WORKING"

        await publish_command(js, command(org, commands.REMOVE_SENDER, commands.RemoveSender(sender_id=sid)))
        await collect_events(js, f"sb.evt.{org}.sender.removed", lambda evs: any(e.subject == sid for e in evs))
        for _ in range(50):
            if waha.sessions[session]["status"] == "STOPPED":
                break
            await asyncio.sleep(0.1)
        assert waha.sessions[session]["status"] == "STOPPED"


async def test_refused_key_is_not_retried_and_restart_restores_sessions(nats_url, database_url):
    org, refused, restored = "org_waha_2", new_id(), new_id()
    async with running_fake_waha() as waha:
        waha.add_session("kept", status="WORKING")
        async with running_session_pool(nats_url, database_url, **FAST) as js:
            await register_waha(js, org, refused, waha.url, "locked", api_key="wrong")
            await register_waha(js, org, restored, waha.url, "kept")
            events = await collect_events(
                js, f"sb.evt.{org}.sender.*",
                lambda evs: "disconnected" in lifecycle(evs, refused) and "connected" in lifecycle(evs, restored))
            gone = next(e for e in events if e.subject == refused and e.type.endswith("disconnected.v1"))
            assert gone.data["retry_in_seconds"] is None and "API key" in gone.data["reason"]
            await asyncio.sleep(1.0)  # no further attempts follow a refusal
            events = await collect_events(js, f"sb.evt.{org}.sender.*",
                                          lambda evs: "disconnected" in lifecycle(evs, refused))
            assert lifecycle(events, refused).count("connecting") == 1

        waha.drop("kept", "STOPPED")  # stopped while the session-pool was down
        async with running_session_pool(nats_url, database_url, **FAST) as js:
            for _ in range(100):
                if waha.sessions["kept"]["status"] == "WORKING":
                    break
                await asyncio.sleep(0.1)
            assert waha.sessions["kept"]["status"] == "WORKING"
