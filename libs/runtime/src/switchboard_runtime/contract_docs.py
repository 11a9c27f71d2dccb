"""The published contracts as documents: one JSON Schema per event and command type, the AsyncAPI
description (`faststream docs gen switchboard_runtime.contract_docs:asyncapi_app`), and the check
that a change does not break a published v1 schema."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from faststream import FastStream
from faststream.nats import NatsBroker
from faststream.specification import AsyncAPI

from switchboard_contracts import catalog
from switchboard_contracts.envelope import CloudEvent
from switchboard_contracts.notification import ErpEvent


def event_schemas() -> dict[str, dict[str, Any]]:
    """type → JSON Schema of the event's `data` (by alias: what is on the wire)."""
    return {spec.type: spec.model.model_json_schema(by_alias=True, mode="serialization")
            for spec in catalog.EVENTS}


def command_schemas() -> dict[str, dict[str, Any]]:
    return {spec.type: spec.model.model_json_schema(by_alias=True, mode="serialization")
            for spec in catalog.COMMANDS}


def _resolve(schema: dict, node: dict) -> dict:
    while "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        node = schema.get("$defs", {}).get(name, {})
    return node


def _shape(schema: dict, node: dict) -> Any:
    """A comparable description of a property's type (nullable-ness included)."""
    node = _resolve(schema, node)
    if "anyOf" in node:
        return sorted((json.dumps(_shape(schema, n), sort_keys=True) for n in node["anyOf"]))
    if node.get("type") == "object" and "properties" in node:
        return {"object": {k: _shape(schema, v) for k, v in node["properties"].items()}}
    if node.get("type") == "array":
        return {"array": _shape(schema, node.get("items", {}))}
    if "enum" in node:
        return {"enum": sorted(map(str, node["enum"]))}
    return node.get("type", "any")


def _unwrap(schema: dict, node: dict) -> tuple[dict, bool]:
    """(the one non-null variant, nullable) for `X | None`; the node itself otherwise."""
    node = _resolve(schema, node)
    variants = node.get("anyOf", [])
    non_null = [v for v in variants if v.get("type") != "null"]
    if variants and len(non_null) == 1:
        return _resolve(schema, non_null[0]), len(non_null) < len(variants)
    return node, False


def compatibility_problems(old: dict, new: dict, path: str = "") -> list[str]:
    """Why `new` breaks consumers of `old`: a field removed, renamed or retyped, or a new required
    field. Additions of optional fields and new enum values are compatible."""
    problems: list[str] = []
    old_root, new_root = old, new
    old_props = _resolve(old_root, old).get("properties", {})
    new_props = _resolve(new_root, new).get("properties", {})
    for name, old_node in old_props.items():
        where = f"{path}{name}"
        if name not in new_props:
            problems.append(f"{where}: removed or renamed")
            continue
        old_node, old_nullable = _unwrap(old_root, old_node)
        new_node, new_nullable = _unwrap(new_root, new_props[name])
        if old_nullable and not new_nullable:
            problems.append(f"{where}: no longer nullable")
        old_shape, new_shape = _shape(old_root, old_node), _shape(new_root, new_node)
        if isinstance(old_shape, dict) and "enum" in old_shape and isinstance(new_shape, dict) \
                and "enum" in new_shape:
            missing = set(old_shape["enum"]) - set(new_shape["enum"])
            if missing:
                problems.append(f"{where}: enum values removed {sorted(missing)}")
        elif isinstance(old_shape, dict) and "object" in old_shape and isinstance(new_shape, dict) \
                and "object" in new_shape:
            problems += compatibility_problems(
                {"$defs": old_root.get("$defs", {}), **old_node},
                {"$defs": new_root.get("$defs", {}), **new_node},
                path=f"{where}.")
        elif old_shape != new_shape:
            problems.append(f"{where}: type changed from {old_shape} to {new_shape}")
    old_required = set(_resolve(old_root, old).get("required", []))
    for name in set(_resolve(new_root, new).get("required", [])) - old_required:
        if name not in old_props:
            problems.append(f"{path}{name}: new required field")
    return problems


def schema_filename(type_: str) -> str:
    return f"{type_}.schema.json"


def write(directory: Path) -> list[Path]:
    written = []
    for sub, schemas in (("events", event_schemas()), ("commands", command_schemas())):
        target = directory / sub
        target.mkdir(parents=True, exist_ok=True)
        for type_, schema in schemas.items():
            path = target / schema_filename(type_)
            path.write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n")
            written.append(path)
    return written


LIVE_TITLE = "switchboard.live"
ERP_TITLE = "erp.events"


def _asyncapi_app() -> FastStream:
    """Every public event (its `data` schema) on `sb.evt.{orgid}.<entity>.<event>` (stream
    SWITCHBOARD_EVENTS); the live subject `sb.live.{orgid}.<entity>.<event>`, where the stream republishes
    each stored event (the whole CloudEvent, at most once); and the ERP inbound subject
    `erp.evt.{orgid}.<entity>.<event>` (stream SWITCHBOARD_ERP), which Switchboard reads."""
    broker = NatsBroker(description="Switchboard public events (CloudEvents 1.0, structured JSON) on "
                                    "the SWITCHBOARD_EVENTS stream.")
    for spec in catalog.EVENTS:
        broker.publisher(f"sb.evt.{{orgid}}.{spec.entity}.{spec.name}", title=spec.type,
                         description=spec.description, schema=spec.model)
    broker.publisher("sb.live.{orgid}.{entity}.{event}", title=LIVE_TITLE, schema=CloudEvent,
                     description="The live subject: every event stored in SWITCHBOARD_EVENTS, republished by the "
                                 "stream as it is stored (the whole CloudEvent; headers Nats-Stream, Nats-Subject, "
                                 "Nats-Sequence), in stream order, at most once — a plain subscription of "
                                 "`sb.live.<orgid>.>` follows an organization; resume durably from Nats-Sequence.")

    @broker.subscriber("erp.evt.{orgid}.{entity}.{event}", title=ERP_TITLE,
                       description="Other teams' ERP events (CloudEvents 1.0; e.g. `erp.evt.<org>.order.shipped`) "
                                   "on the SWITCHBOARD_ERP stream, published by the ERP with `Nats-Msg-Id` = the "
                                   "CloudEvent id; notification rules turn them into template messages.")
    async def erp_event(event: ErpEvent) -> None:  # documented only: the conversations service reads them
        return None

    return FastStream(broker, specification=AsyncAPI(title="Switchboard events", version="1.0.0"))


asyncapi_app = _asyncapi_app()


if __name__ == "__main__":
    for p in write(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/contracts")):
        print(p)
