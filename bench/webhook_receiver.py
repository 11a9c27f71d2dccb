"""The benchmark's receiver, a process of its own: `python -m bench.webhook_receiver STATS_PORT PORT…`
serves the devkit's real HTTP receiver on each PORT (each answers 204; a port written `PORT:slow`
answers after 10 s) and, on STATS_PORT, `GET /stats` → per port: requests received, distinct
webhook-ids, and publish → delivery latencies (from the event's `time`) of the requests since
`GET /reset`."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from datetime import datetime

from switchboard_devkit.testing.webhook_receiver import Receiver, Reply

SLOW_SECONDS = 10.0


class Counted:
    def __init__(self, slow: bool):
        self.slow = slow
        self.count = 0
        self.latencies: list[float] = []
        self.ids: set[str] = set()

    def respond(self, request):
        now = time.time()
        self.count += 1
        body = json.loads(request.body)
        self.ids.add(body["id"])
        self.latencies.append(now - datetime.fromisoformat(body["time"]).timestamp())
        return Reply(204, delay=SLOW_SECONDS if self.slow else 0.0)


async def main(stats_port: int, ports: list[str]) -> None:
    counted: dict[str, Counted] = {}
    receivers = []
    for spec in ports:
        port, _, kind = spec.partition(":")
        c = counted[port] = Counted(kind == "slow")
        r = Receiver(c.respond)
        r.received = _Discard()  # the counts above are all we keep
        receivers.append(await r.start(int(port)))

    def stats(request):
        if request.path == "/reset":
            for c in counted.values():
                c.count, c.latencies, c.ids = 0, [], set()
            return Reply(204)
        body = {p: {"count": c.count, "distinct": len(c.ids), "latencies": c.latencies} for p, c in counted.items()}
        return Reply(200, headers={"content-type": "application/json"}, body=json.dumps(body).encode())

    control = Receiver(stats)
    control.received = _Discard()
    await control.start(stats_port)
    print("ready", flush=True)
    await asyncio.Event().wait()


class _Discard(list):
    def append(self, _item) -> None:
        pass


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), sys.argv[2:]))
