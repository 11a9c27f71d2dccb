"""A lean HTTP/1.1 load generator (own process): N keep-alive connections post signed Meta deliveries
for a fixed time — one inbound message or two statuses each, every id distinct — and record latency.

    python -m bench.loadgen URL PATH DURATION CONNECTIONS PHONE_NUMBER_ID APP_SECRET PREFIX OUT.json
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import sys
import time
from urllib.parse import urlsplit


def delivery(pnid: str, prefix: str, i: int) -> tuple[bytes, list[tuple[str, str | None]]]:
    """Body and the (provider message id, status or None for received) facts it carries."""
    value: dict = {"messaging_product": "whatsapp",
                   "metadata": {"display_phone_number": "15550001111", "phone_number_id": pnid}}
    ts = str(1_764_000_000 + i)
    if i % 2 == 0:
        wamid = f"wamid.{prefix}.{i}"
        value["contacts"] = [{"profile": {"name": "Bench"}, "wa_id": f"1650555{i:07d}"}]
        value["messages"] = [{"from": f"1650555{i:07d}", "id": wamid, "timestamp": ts, "type": "text",
                              "text": {"body": f"order {i} please"}}]
        facts = [(wamid, None)]
    else:
        wamid = f"wamid.{prefix}.out.{i}"
        value["statuses"] = [{"id": wamid, "status": st, "timestamp": ts, "recipient_id": f"1650555{i:07d}",
                              "conversation": {"id": f"conv{i}", "origin": {"type": "utility"}},
                              "pricing": {"billable": True, "pricing_model": "PMP", "category": "utility"}}
                             for st in ("sent", "delivered")]
        facts = [(wamid, "sent"), (wamid, "delivered")]
    doc = {"object": "whatsapp_business_account",
           "entry": [{"id": "102290129340398", "changes": [{"field": "messages", "value": value}]}]}
    return json.dumps(doc).encode(), facts


async def worker(host: str, port: int, path: str, deadline: float, counter, pnid: str, secret: bytes,
                 prefix: str, latencies: list[float], statuses: dict[int, int], accepted: list) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < deadline:
            i = next(counter)
            body, facts = delivery(pnid, prefix, i)
            sig = hmac.new(secret, body, hashlib.sha256).hexdigest()
            head = (f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
                    f"X-Hub-Signature-256: sha256={sig}\r\nContent-Length: {len(body)}\r\n\r\n").encode()
            started = time.perf_counter()
            writer.write(head + body)
            status_line = await reader.readline()
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            status = int(status_line.split(b" ", 2)[1])
            statuses[status] = statuses.get(status, 0) + 1
            if status == 200:
                accepted.extend(facts)
    finally:
        writer.close()


async def main(url: str, path: str, duration: float, connections: int, pnid: str, secret: str, prefix: str,
               out: str) -> None:
    import itertools

    parts = urlsplit(url)
    counter = itertools.count()
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    accepted: list = []
    started = time.perf_counter()
    deadline = started + duration
    await asyncio.gather(*(worker(parts.hostname, parts.port, path, deadline, counter, pnid, secret.encode(),
                                  prefix, latencies, statuses, accepted) for _ in range(connections)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    result = {"requests": len(latencies), "seconds": elapsed, "statuses": statuses,
              "p50_ms": latencies[len(latencies) // 2] * 1000 if latencies else None,
              "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000 if latencies else None,
              "ok_per_second": statuses.get(200, 0) / elapsed, "accepted_facts": accepted}
    with open(out, "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    url, path, duration, conns, pnid, secret, prefix, out = sys.argv[1:9]
    try:
        import uvloop
        uvloop.install()
    except ImportError:
        pass
    asyncio.run(main(url, path, float(duration), int(conns), pnid, secret, prefix, out))
