"""Operator commands: `python -m switchboard_gateway.cli bootstrap-dev | create-org | rebuild-projections`."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path

from switchboard_contracts import streams
from switchboard_runtime.database import async_engine, migrate
from switchboard_runtime.read_model_rebuild import rebuild

from .main import MIGRATIONS
from .orgs import Organizations
from .read_models.projection import Projection
from .settings import GatewaySettings
from .tables import READ_MODEL_TABLES, SCHEMA


async def bootstrap_dev(settings: GatewaySettings, key_file: Path, name: str) -> dict:
    """Create the development organization and key once; later runs keep the existing key."""
    db = settings.database()
    await migrate(MIGRATIONS, db, SCHEMA)
    engine = async_engine(db, pool_size=1)
    try:
        orgs = Organizations(engine)
        if key_file.exists():
            org = await orgs.by_key(key_file.read_text().strip())
            if org is not None:
                return {"org_id": org.id, "api_key_file": str(key_file), "created": False}
        org, key = await orgs.create(name)
        key_file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(key + "\n")
        return {"org_id": org.id, "api_key_file": str(key_file), "created": True}
    finally:
        await engine.dispose()


async def create_org(settings: GatewaySettings, name: str) -> dict:
    db = settings.database()
    await migrate(MIGRATIONS, db, SCHEMA)
    engine = async_engine(db, pool_size=1)
    try:
        org, key = await Organizations(engine).create(name)
        return {"org_id": org.id, "name": org.name, "api_key": key}
    finally:
        await engine.dispose()


async def rebuild_projections(settings: GatewaySettings, batch: int = 1000) -> dict:
    """Drop the senders read model and replay SWITCHBOARD_EVENTS through the same projection code."""
    async def apply(engine, events) -> None:
        await Projection(engine).apply(events)

    return await rebuild(settings, MIGRATIONS, SCHEMA, READ_MODEL_TABLES, streams.GATEWAY_READ_MODELS, apply,
                         batch)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="switchboard-gateway")
    sub = parser.add_subparsers(dest="command", required=True)
    boot = sub.add_parser("bootstrap-dev", help="create the dev organization and API key once")
    boot.add_argument("--key-file", required=True, type=Path)
    boot.add_argument("--name", default="Development")
    org = sub.add_parser("create-org", help="create an organization; prints its API key once")
    org.add_argument("--name", required=True)
    sub.add_parser("rebuild-projections", help="drop and rebuild the read models from the events")
    args = parser.parse_args(argv)
    settings = GatewaySettings()
    if args.command == "bootstrap-dev":
        result = asyncio.run(bootstrap_dev(settings, args.key_file, args.name))
    elif args.command == "create-org":
        result = asyncio.run(create_org(settings, args.name))
    else:
        result = asyncio.run(rebuild_projections(settings))
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
