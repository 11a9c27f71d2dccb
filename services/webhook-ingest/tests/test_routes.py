"""The route table finds the meta-cloud routes of a WABA: from the watched bucket, and from the bucket
itself when the watch has not shown a route yet; a route that moves or goes is no longer found."""

from __future__ import annotations

import asyncio

import nats

from switchboard_contracts import streams
from switchboard_devkit.testing.plugin import TEST_SECRET_KEY
from switchboard_runtime.messaging.declare import ensure_key_value
from switchboard_runtime.sealing import Sealer
from switchboard_webhook_ingest.routes import RouteTable

from .helpers import add_route


async def until(check, timeout: float = 5.0) -> None:
    for _ in range(int(timeout / 0.02)):
        if await check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("never held")


async def test_routes_of_a_waba_from_the_watch_and_from_the_bucket(nats_url):
    await add_route(nats_url, "meta-cloud", "111", "org-a", "s-1", waba_id="900", app_secret="a")
    await add_route(nats_url, "meta-cloud", "112", "org-b", "s-2", waba_id="900", app_secret="b")
    await add_route(nats_url, "meta-cloud", "113", "org-a", "s-3", waba_id="901", app_secret="a")
    await add_route(nats_url, "meta-cloud", "114", "org-a", "s-4", app_secret="a")  # an old route: no WABA
    await add_route(nats_url, "waha", "900", "org-a", "s-5", waba_id="900")  # not a Meta route
    nc = await nats.connect(nats_url)
    kv = await ensure_key_value(nc.jetstream(), streams.SENDER_ROUTES)
    try:
        lagging = RouteTable(kv, Sealer(TEST_SECRET_KEY))  # never started: as if its watch lagged
        found = await lagging.of_waba("900")
        assert sorted((r.ref.sender_id, r.secrets["app_secret"]) for r in found) == [("s-1", "a"), ("s-2", "b")]
        assert await lagging.of_waba("404") == [] and await lagging.of_waba("901") != []

        table = RouteTable(kv, Sealer(TEST_SECRET_KEY))
        await table.start()
        await asyncio.wait_for(table.loaded.wait(), 5)
        assert {r.ref.sender_id for r in await table.of_waba("900")} == {"s-1", "s-2"}
        # a number moved to another account, another removed: the table follows
        await add_route(nats_url, "meta-cloud", "112", "org-b", "s-2", waba_id="901", app_secret="b")
        await kv.delete("meta-cloud.113")

        async def followed() -> bool:
            return ({r.ref.sender_id for r in await table.of_waba("900")} == {"s-1"}
                    and {r.ref.sender_id for r in await table.of_waba("901")} == {"s-2"})
        await until(followed)
        await kv.delete("meta-cloud.111")

        async def gone() -> bool:
            return await table.of_waba("900") == []
        await until(gone)
        await table.stop()
    finally:
        await nc.close()
