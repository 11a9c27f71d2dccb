"""The baseline server: a bare FastAPI endpoint on webhook-ingest's server settings that parses the
JSON body and publishes one message to JetStream, awaiting its PubAck (nothing else).

    python -m bench.bare_endpoint NATS_URL PORT
"""

from __future__ import annotations

import asyncio
import itertools
import json
import sys

import nats
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from switchboard_runtime import process
from switchboard_runtime.telemetry import fastapi_telemetry

STREAM, SUBJECT = "BENCH_BARE", "bench.bare.in"


async def serve(stop: asyncio.Event, nats_url: str, port: int) -> None:
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    await js.add_stream(name=STREAM, subjects=["bench.bare.>"])
    ids = itertools.count()
    app = FastAPI(telemetry=fastapi_telemetry("none"))  # the same settings as webhook-ingest's

    @app.post("/bare")
    async def bare(request: Request) -> JSONResponse:
        body = await request.body()
        json.loads(body)
        await js.publish(SUBJECT, body, headers={"Nats-Msg-Id": str(next(ids))})
        return JSONResponse({"published": 1})

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           access_log=False, lifespan="off"))
    server.install_signal_handlers = lambda: None
    process.settle_heap()  # the same process settings as webhook-ingest's
    task = asyncio.create_task(server.serve())
    await stop.wait()
    server.should_exit = True
    await task


if __name__ == "__main__":
    # The same process runner as the services: uvloop, clean stop on SIGTERM.
    process.run(lambda stop: serve(stop, sys.argv[1], int(sys.argv[2])))
