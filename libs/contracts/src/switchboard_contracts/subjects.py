"""NATS subject names. Events: `sb.evt.<orgid>.<entity>.<event>`; commands: `sb.cmd.<orgid>.<entity>.<command>`."""

from __future__ import annotations

EVENTS_ALL = "sb.evt.>"
LIVE_ALL = "sb.live.>"  # SWITCHBOARD_EVENTS republished: every stored event, live, at most once
COMMANDS_ALL = "sb.cmd.>"
DEAD_LETTER_ALL = "sb.dlq.>"
REPLAYS_ALL = "sb.replay.>"  # dead letters given back to the one consumer that could not process them
QUARANTINE_ALL = "sb.quarantine.>"
INGEST_ALL = "sb.ingest.>"
SCHEDULES_ALL = "sb.sched.>"
TIMERS_ALL = "sb.timer.>"
ERP_ALL = "erp.evt.>"  # other teams' ERP events we follow: `erp.evt.<orgid>.<entity>.<event>`


def event_subject(orgid: str, entity: str, name: str) -> str:
    return f"sb.evt.{orgid}.{entity}.{name}"


def org_events(orgid: str) -> str:
    """Filter for one organization's whole history."""
    return f"sb.evt.{orgid}.>"


def org_live(orgid: str) -> str:
    """A plain (core NATS) subscription of one organization's events as the stream stores them."""
    return f"sb.live.{orgid}.>"


def command_subject(orgid: str, entity: str, name: str) -> str:
    return f"sb.cmd.{orgid}.{entity}.{name}"


def any_org_command(entity: str, name: str) -> str:
    return f"sb.cmd.*.{entity}.{name}"


def any_org_events(entity: str, name: str = "*") -> str:
    return f"sb.evt.*.{entity}.{name}"


def dead_letter_subject(durable: str) -> str:
    """Where a consumer puts what it cannot process: `sb.dlq.<durable>`."""
    return f"sb.dlq.{durable}"


def replay_subject(durable: str) -> str:
    """Where a dead letter is given back to the consumer it came from, and to no other: `sb.replay.<durable>`."""
    return f"sb.replay.{durable}"


def quarantine_subject(provider: str) -> str:
    """Where webhook-ingest keeps deliveries no sender owns: `sb.quarantine.<provider>`."""
    return f"sb.quarantine.{provider}"


def ingest_subject(orgid: str, entity: str, name: str, digest: str) -> str:
    """A webhook fact's own subject (`sb.ingest.<orgid>.<entity>.<event>.<digest>`); SWITCHBOARD_EVENTS
    copies it in as `sb.evt.<orgid>.<entity>.<event>`."""
    return f"sb.ingest.{orgid}.{entity}.{name}.{digest}"


def rpc_subject(service: str, operation: str) -> str:
    """Request/reply between services (not stored in any stream): `sb.rpc.<service>.<operation>`.
    Used only where a caller needs an answer the read models cannot give (a live pairing QR)."""
    return f"sb.rpc.{service}.{operation}"


def schedule_subject(service: str, orgid: str, key: str) -> str:
    """Where a service puts a durable timer (`sb.sched.<service>.<orgid>.<key>`): one per key."""
    return f"sb.sched.{service}.{orgid}.{key}"


def timer_subject(service: str, orgid: str, key: str) -> str:
    """Where the server publishes a schedule when it falls due (`sb.timer.<service>.<orgid>.<key>`)."""
    return f"sb.timer.{service}.{orgid}.{key}"
