"""Registering provider senders: credentials stay sealed, the route webhook-ingest needs is published."""

from __future__ import annotations

import asyncio

import nats

from switchboard_contracts import commands, streams
from switchboard_contracts.ids import new_id
from switchboard_contracts.sender import SenderRoute, route_key
from switchboard_devkit.testing.patience import REPLY
from switchboard_runtime.messaging.declare import ensure_key_value
from switchboard_runtime.sealing import Sealer
from switchboard_devkit.testing.plugin import TEST_SECRET_KEY

from .helpers import collect_events, command, running_session_pool


async def register(js, org, sender_id, provider, config, secrets):
    cmd = commands.RegisterSender(sender_id=sender_id, name="n", provider=provider, config=config,
                                  sealed_credentials=Sealer(TEST_SECRET_KEY).seal(secrets))
    ce = command(org, commands.REGISTER_SENDER, cmd)
    await js.publish(f"sb.cmd.{org}.sender.register", ce.to_json_bytes(), headers={"Nats-Msg-Id": ce.id})


async def route(kv, key, timeout=REPLY):
    for _ in range(int(timeout / 0.05)):
        try:
            return SenderRoute.model_validate_json((await kv.get(key)).value)
        except Exception:  # noqa: BLE001 - not written yet
            await asyncio.sleep(0.05)
    raise AssertionError(f"no route {key}")


async def test_provider_senders_publish_sealed_routes_and_clean_events(nats_url, database_url):
    org, meta_id, waha_id, thief = new_id(), new_id(), new_id(), new_id()
    async with running_session_pool(nats_url, database_url) as js:
        kv = await ensure_key_value(js, streams.SENDER_ROUTES)
        await register(js, org, meta_id, "meta-cloud", {"phone_number_id": "1234567890", "waba_id": "99"},
                       {"access_token": "EAAB-secret", "app_secret": "app-s", "verify_token": "vt"})
        await register(js, org, waha_id, "waha", {"base_url": "http://127.0.0.1:3000", "session": "shop"},
                       {"webhook_hmac_key": "hk"})
        meta_route = await route(kv, route_key("meta-cloud", "1234567890"))
        waha_route = await route(kv, route_key("waha", "shop"))
        assert (meta_route.org_id, meta_route.sender_id) == (org, meta_id)
        assert meta_route.waba_id == "99" and waha_route.waba_id is None  # template updates name the WABA
        assert Sealer(TEST_SECRET_KEY).unseal(meta_route.sealed)["app_secret"] == "app-s"
        assert Sealer(TEST_SECRET_KEY).unseal(waha_route.sealed) == {"webhook_hmac_key": "hk"}
        # another sender claiming the same number does not take the route over
        await register(js, new_id(), thief, "meta-cloud", {"phone_number_id": "1234567890", "waba_id": "1"},
                       {"app_secret": "evil"})
        events = await collect_events(js, "sb.evt.*.sender.registered", lambda ev: len(ev) == 3)
        assert (await route(kv, route_key("meta-cloud", "1234567890"))).sender_id == meta_id
    registered = {e.subject: e for e in events}
    assert registered[meta_id].data["phone_number_id"] == "1234567890"
    assert registered[waha_id].data["session"] == "shop"
    for e in events:
        raw = e.to_json_bytes().decode()
        assert "EAAB-secret" not in raw and "app-s" not in raw and "sealed" not in raw


async def rewritten(kv, key, written: SenderRoute) -> None:
    """Wait until the route at `key` is `written` again (the session-pool's start rewrote it)."""
    for _ in range(200):
        if await route(kv, key) == written:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"route {key} not rewritten: {await route(kv, key)}")


async def test_a_route_written_without_its_waba_is_rewritten_on_start(nats_url, database_url):
    org = new_id()
    keys = [route_key("meta-cloud", "1234567890"), route_key("meta-cloud", "1234567891")]
    nc = await nats.connect(nats_url)
    kv = await ensure_key_value(nc.jetstream(), streams.SENDER_ROUTES)
    try:
        async with running_session_pool(nats_url, database_url) as js:
            for pnid in ("1234567890", "1234567891"):
                await register(js, org, new_id(), "meta-cloud", {"phone_number_id": pnid, "waba_id": "99"},
                               {"access_token": "EAAB-secret", "app_secret": "app-s", "verify_token": "vt"})
            written = [await route(kv, key) for key in keys]
        assert [r.waba_id for r in written] == ["99", "99"]

        def stale(i: int) -> bytes:  # what the version before routes named their WABA wrote
            return written[i].model_copy(update={"waba_id": None}).model_dump_json().encode()
        await kv.put(keys[0], stale(0))
        async with running_session_pool(nats_url, database_url):
            await rewritten(kv, keys[0], written[0])
        revision = (await kv.get(keys[0])).revision
        await kv.put(keys[1], stale(1))
        async with running_session_pool(nats_url, database_url):
            await rewritten(kv, keys[1], written[1])
        assert (await kv.get(keys[0])).revision == revision  # a route already current is left as it is
    finally:
        await nc.close()
