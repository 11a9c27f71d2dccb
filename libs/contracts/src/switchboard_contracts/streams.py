"""Streams, consumers and key-value buckets as data; the runtime declares them idempotently."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from . import subjects

DAY = 24 * 3600


class SourceSpec(BaseModel):
    """Another stream whose messages this one copies in (server-side), renaming their subjects."""

    stream: str
    subject_from: str
    subject_to: str


class RepublishSpec(BaseModel):
    """Every message the stream stores (sourced ones included) is also published, server-side, on a
    core NATS subject (headers `Nats-Stream`, `Nats-Subject`, `Nats-Sequence`): a live feed, at most once."""

    src: str
    dest: str


class StreamSpec(BaseModel):
    name: str
    subjects: list[str]
    retention: Literal["limits", "workqueue"] = "limits"
    max_age_seconds: int = 0  # 0 = unlimited
    max_bytes: int = -1  # -1 = unlimited
    max_msgs_per_subject: int = -1  # -1 = unlimited
    duplicate_window_seconds: int = 120
    sources: list[SourceSpec] = []
    republish: RepublishSpec | None = None
    allow_msg_schedules: bool = False  # messages with `Nats-Schedule: @at …` are published on their target then
    description: str = ""


class ConsumerSpec(BaseModel):
    stream: str
    durable: str  # `<service>__<purpose>`
    filter_subjects: list[str]
    max_deliver: int = 5
    ack_wait_seconds: float = 30.0
    max_ack_pending: int = 10_000

    @property
    def dead_letter_subject(self) -> str:
        return subjects.dead_letter_subject(self.durable)


class KeyValueSpec(BaseModel):
    bucket: str
    ttl_seconds: int = 0
    max_bytes: int = -1  # -1 = unlimited
    description: str = ""


INGEST = StreamSpec(
    name="SWITCHBOARD_INGEST",
    subjects=[subjects.INGEST_ALL],
    max_age_seconds=7 * DAY,
    max_msgs_per_subject=1,
    description="Events from provider webhooks, one subject per fact (`sb.ingest.<org>.<entity>.<event>.<digest>`),"
                " published only if absent: the 7-day record that makes a retried webhook a duplicate."
                " SWITCHBOARD_EVENTS copies each in.",
)

EVENTS = StreamSpec(
    name="SWITCHBOARD_EVENTS",
    subjects=[subjects.EVENTS_ALL],
    max_age_seconds=365 * DAY,
    sources=[SourceSpec(stream=INGEST.name, subject_from="sb.ingest.*.*.*.*",
                        subject_to="sb.evt.{{wildcard(1)}}.{{wildcard(2)}}.{{wildcard(3)}}")],
    # The live subject: a plain subscription of `sb.live.<org>.>` gets every stored event once, in stream
    # order, webhook-derived ones included (a core subscription of `sb.evt.…` misses the sourced ones).
    republish=RepublishSpec(src=subjects.EVENTS_ALL, dest=subjects.LIVE_ALL),
    description="Every public event (CloudEvents), all organizations, in order.",
)

COMMANDS = StreamSpec(
    name="SWITCHBOARD_COMMANDS",
    subjects=[subjects.COMMANDS_ALL],
    retention="workqueue",
    max_age_seconds=7 * DAY,
    description="Internal commands; each is removed once a consumer acks it.",
)

DEAD_LETTERS = StreamSpec(
    name="SWITCHBOARD_DEAD_LETTERS",
    subjects=[subjects.DEAD_LETTER_ALL],
    max_age_seconds=30 * DAY,
    description="Messages a consumer could not process, with the reason.",
)

REPLAYS = StreamSpec(
    name="SWITCHBOARD_REPLAYS",
    subjects=[subjects.REPLAYS_ALL],
    retention="workqueue",
    max_age_seconds=30 * DAY,
    description="Dead letters an operator gives back (`switchboard events dead-letters replay`), each on "
                "`sb.replay.<durable>` for the one consumer that dead-lettered it (never republished as a public "
                "event); every service process reads its consumers' with one `<service>__replays` consumer.",
)

QUARANTINE = StreamSpec(
    name="SWITCHBOARD_QUARANTINE",
    subjects=[subjects.QUARANTINE_ALL],
    max_age_seconds=30 * DAY,
    max_bytes=1024 * 1024 * 1024,
    description="Webhook deliveries no sender owns (unverified), kept for operators; oldest dropped first.",
)

TIMERS = StreamSpec(
    name="SWITCHBOARD_TIMERS",
    subjects=[subjects.SCHEDULES_ALL, subjects.TIMERS_ALL],
    retention="workqueue",
    max_msgs_per_subject=1,  # one schedule per key: a newer one replaces the older (a timer moved or cancelled)
    allow_msg_schedules=True,
    description="Durable timers: a schedule on `sb.sched.<service>.<org>.<key>` (headers `Nats-Schedule: @at "
                "<time>`, `Nats-Schedule-Target`) is published by the server on `sb.timer.<service>.<org>.<key>` "
                "at its time, also after restarts; its owner's consumer acts on it.",
)

ERP = StreamSpec(
    name="SWITCHBOARD_ERP",
    subjects=[subjects.ERP_ALL],
    max_age_seconds=30 * DAY,
    duplicate_window_seconds=24 * 3600,  # an ERP that republishes with the same Nats-Msg-Id within a day is dropped
    description="Other teams' ERP events (CloudEvents on `erp.evt.<org>.<entity>.<event>`), kept 30 days: "
                "order events that notification rules turn into template messages.",
)

SERVICES = KeyValueSpec(
    bucket="sb_services",
    ttl_seconds=15,
    description="Readiness heartbeats: one key per service instance.",
)

SENDER_ROUTES = KeyValueSpec(
    bucket="sb_sender_routes",
    description="Which sender owns a Meta phone_number_id or a WAHA session, with its sealed webhook secrets.",
)

SENDER_QUOTAS = KeyValueSpec(
    bucket="sb_sender_quotas",
    ttl_seconds=2 * DAY,
    description="Each sender's quota windows, shared by every session-pool replica (changed by compare-and-set).",
)

CAMPAIGN_HOLDS = KeyValueSpec(
    bucket="sb_campaign_holds",
    description="Campaigns on hold (key: campaign id, value: paused or cancelled), written by the campaigns "
                "service; the session-pool holds (paused) or fails (cancelled) their queued messages.",
)

TEMPLATE_HOLDS = KeyValueSpec(
    bucket="sb_template_holds",
    description="The last status Meta reported for each template (key: org.waba.name.language), written by the "
                "session-pool from template.status_changed; PAUSED holds the template's queued messages, DISABLED "
                "fails them, any other status lifts the hold.",
)

# --- consumers -------------------------------------------------------------------------

SESSION_POOL_SEND = ConsumerSpec(
    stream=COMMANDS.name,
    durable="session_pool__send",
    filter_subjects=[subjects.any_org_command("message", "send")],
    max_ack_pending=20_000,
)

SESSION_POOL_SENDERS = ConsumerSpec(
    stream=COMMANDS.name,
    durable="session_pool__senders",
    filter_subjects=["sb.cmd.*.sender.>"],
)

SESSION_POOL_CONNECTIONS = ConsumerSpec(
    stream=COMMANDS.name,
    durable="session_pool__connections",
    filter_subjects=[subjects.any_org_command("connection", "attempt")],
    max_deliver=-1,  # the handler ends each attempt chain itself (connected, refused, or out of attempts)
    ack_wait_seconds=90.0,
)

SESSION_POOL_SESSIONS = ConsumerSpec(
    stream=EVENTS.name,
    durable="session_pool__sessions",
    filter_subjects=[subjects.any_org_events("sender", "session_status")],
)

SESSION_POOL_INBOUND = ConsumerSpec(
    stream=EVENTS.name,
    durable="session_pool__inbound",
    filter_subjects=[subjects.any_org_events("message", "received")],
)

SESSION_POOL_TEMPLATES = ConsumerSpec(
    stream=EVENTS.name,
    durable="session_pool__templates",
    filter_subjects=[subjects.any_org_events("template", "status_changed")],  # Meta's reports, both origins
)

CONVERSATIONS_HISTORY = ConsumerSpec(
    stream=EVENTS.name,
    durable="conversations__history",
    filter_subjects=[subjects.any_org_events("message")],
)

CONVERSATIONS_DIRECTORY = ConsumerSpec(
    stream=EVENTS.name,
    durable="conversations__directory",
    filter_subjects=[subjects.any_org_events("user"), subjects.any_org_events("team"),
                     subjects.any_org_events("sender", "registered"), subjects.any_org_events("sender", "removed"),
                     subjects.any_org_events("blocklist")],
)

CONVERSATIONS_LIFECYCLE = ConsumerSpec(
    stream=EVENTS.name,
    durable="conversations__lifecycle",
    # its own lifecycle events (not `started`: one per campaign contact): heals a read row a crash left behind
    filter_subjects=[subjects.any_org_events("conversation", name) for name in (
        "assigned", "unassigned", "status_changed", "snoozed", "priority_changed", "tagged", "untagged",
        "note_added", "read", "customer_linked", "sla_warning", "sla_breached", "archived")],
)

CONVERSATIONS_HANDOFFS = ConsumerSpec(
    stream=EVENTS.name,
    durable="conversations__handoffs",
    filter_subjects=[subjects.any_org_events("flow", "handoff_requested")],
)

CONVERSATIONS_TEMPLATES = ConsumerSpec(
    stream=EVENTS.name,
    durable="conversations__templates",
    # Meta's template reports as webhook-ingest publishes them (the service's own, from syncs, are passed over)
    filter_subjects=[subjects.any_org_events("template", name) for name in ("status_changed", "quality_changed",
                                                                            "category_changed")],
)

CONVERSATIONS_NOTIFICATIONS = ConsumerSpec(
    stream=ERP.name,
    durable="conversations__notifications",
    filter_subjects=[subjects.ERP_ALL],
    max_ack_pending=2_000,
)

CAMPAIGNS_STATUSES = ConsumerSpec(
    stream=EVENTS.name,
    durable="campaigns__statuses",
    filter_subjects=[subjects.any_org_events("message", "status")],
)

CAMPAIGNS_SENDERS = ConsumerSpec(
    stream=EVENTS.name,
    durable="campaigns__senders",
    filter_subjects=[subjects.any_org_events("sender")],
)

CAMPAIGNS_TEMPLATES = ConsumerSpec(
    stream=EVENTS.name,
    durable="campaigns__templates",
    # the templates' statuses (the conversations service's aggregate events, Meta's reports from either
    # publisher), and the senders' business accounts (for senders the directory knew before it kept them)
    filter_subjects=[subjects.any_org_events("template", name) for name in (
        "created", "edited", "imported", "submitted", "deleted", "status_changed")]
    + [subjects.any_org_events("sender", "registered")],
)

CAMPAIGNS_OPTOUTS = ConsumerSpec(
    stream=EVENTS.name,
    durable="campaigns__optouts",
    filter_subjects=[subjects.any_org_events("message", "received")],
)

GATEWAY_READ_MODELS = ConsumerSpec(
    stream=EVENTS.name,
    durable="gateway__read_models",
    filter_subjects=[subjects.any_org_events("sender")],  # the senders read model (messages: conversations)
)

FLOWS_INBOUND = ConsumerSpec(
    stream=EVENTS.name,
    durable="flows__inbound",
    ack_wait_seconds=10.0,  # batches take well under a second: a crashed replica's are redelivered soon
    filter_subjects=[subjects.any_org_events("message", "received")],
)

FLOWS_OUTCOMES = ConsumerSpec(
    stream=COMMANDS.name,
    durable="flows__outcomes",
    ack_wait_seconds=10.0,  # batches take well under a second: a crashed replica's are redelivered soon
    filter_subjects=[subjects.any_org_command("flow", "send_outcome")],  # SendMessage.outcome_to
)

# Retired: flows read every message's status to find its own messages' outcomes, which now come as
# `flow.send_outcome` commands (FLOWS_OUTCOMES). A deployment that has it keeps it while executions
# that began waiting before FLOWS_OUTCOMES existed may still need it (flows' `legacy_statuses.py`).
FLOWS_STATUSES = ConsumerSpec(
    stream=EVENTS.name,
    durable="flows__statuses",
    ack_wait_seconds=10.0,
    filter_subjects=[subjects.any_org_events("message", "status")],
)

FLOWS_TIMERS = ConsumerSpec(
    stream=TIMERS.name,
    durable="flows__timers",
    ack_wait_seconds=10.0,  # batches take well under a second: a crashed replica's are redelivered soon
    filter_subjects=[subjects.timer_subject("flows", "*", "*")],
)

FLOWS_EFFECTS = ConsumerSpec(
    stream=COMMANDS.name,
    durable="flows__effects",
    filter_subjects=[subjects.any_org_command("flow", "effect")],
    max_deliver=10,
    ack_wait_seconds=10.0,  # an HTTP call (up to 60 s with its retries) reports progress every 3 s
    max_ack_pending=5_000,
)

FLOWS_BLOCKLIST = ConsumerSpec(
    stream=EVENTS.name,
    durable="flows__blocklist",
    ack_wait_seconds=10.0,  # batches take well under a second: a crashed replica's are redelivered soon
    filter_subjects=[subjects.any_org_events("blocklist")],
)

FLOWS_TEMPLATES = ConsumerSpec(
    stream=EVENTS.name,
    durable="flows__templates",
    # the templates' definitions and statuses (the conversations service's aggregate events, Meta's reports
    # from either publisher), and each Meta sender's business account
    filter_subjects=[subjects.any_org_events("template", name) for name in (
        "created", "edited", "imported", "submitted", "deleted", "status_changed")]
    + [subjects.any_org_events("sender", "registered")],
)

FLOWS_EVENTS = ConsumerSpec(
    stream=EVENTS.name,
    durable="flows__events",
    ack_wait_seconds=10.0,  # batches take well under a second: a crashed replica's are redelivered soon
    # the types active event-triggered flows listen to; the flows service sets them as flows change
    filter_subjects=["sb.evt.-.flow.none"],
)
