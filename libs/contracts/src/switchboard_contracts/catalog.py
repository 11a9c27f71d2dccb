"""Every published event type and its data model: the source of the JSON Schemas in docs/contracts."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel

from . import blocklist, campaign, commands, conversation, flow, message, notification, sender, template
from . import webhook_endpoint as hooks
from . import user as people


@dataclass(frozen=True)
class EventSpec:
    type: str
    entity: str
    name: str
    model: type[BaseModel]
    description: str


EVENTS: tuple[EventSpec, ...] = (
    EventSpec(message.RECEIVED, "message", "received", message.MessageReceived,
              "An inbound message from a contact to one of our senders."),
    EventSpec(message.ACCEPTED, "message", "accepted", message.MessageAccepted,
              "An outbound message accepted by the session-pool for sending, with its content."),
    EventSpec(message.STATUS, "message", "status", message.MessageStatus,
              "A delivery status of an outbound message (queued, sent, delivered, read, failed...)."),
    EventSpec(sender.REGISTERED, "sender", "registered", sender.SenderRegistered,
              "A sender (WhatsApp number or session) was registered."),
    EventSpec(sender.CONNECTED, "sender", "connected", sender.SenderConnected,
              "A sender is connected and can send."),
    EventSpec(sender.DISCONNECTED, "sender", "disconnected", sender.SenderDisconnected,
              "A sender can no longer send (credentials refused, session dropped), with the reason."),
    EventSpec(sender.PAUSED, "sender", "paused", sender.SenderPaused,
              "Sending through a sender is suspended, manually or automatically, with the reason."),
    EventSpec(sender.RESUMED, "sender", "resumed", sender.SenderResumed,
              "A paused sender sends again."),
    EventSpec(sender.UPDATED, "sender", "updated", sender.SenderUpdated,
              "An operator changed a sender's name, quotas or labels."),
    EventSpec(sender.REMOVED, "sender", "removed", sender.SenderRemoved,
              "A sender was removed; it sends nothing more."),
    EventSpec(sender.CONNECTING, "sender", "connecting", sender.SenderConnecting,
              "A connection (or reconnection) attempt started."),
    EventSpec(sender.QR_ISSUED, "sender", "qr_issued", sender.SenderQrIssued,
              "A WhatsApp Web session waits for its pairing QR to be scanned (the QR is not in the event)."),
    EventSpec(sender.BANNED, "sender", "banned", sender.SenderBanned,
              "The provider reports the number banned."),
    EventSpec(sender.ERROR, "sender", "error", sender.SenderError,
              "A provider reported an error about a sender (Meta value-level errors)."),
    EventSpec(sender.SESSION_STATUS, "sender", "session_status", sender.SenderSessionStatus,
              "A WhatsApp Web (WAHA) session changed state."),
    EventSpec(conversation.STARTED, "conversation", "started", conversation.ConversationStarted,
              "The first message between a sender and a contact opened a conversation."),
    EventSpec(conversation.ASSIGNED, "conversation", "assigned", conversation.Assigned,
              "A conversation's assignee (a user) or team changed (a flow's handoff names its execution)."),
    EventSpec(conversation.UNASSIGNED, "conversation", "unassigned", conversation.Unassigned,
              "A conversation has neither an assignee nor a team any more."),
    EventSpec(conversation.STATUS_CHANGED, "conversation", "status_changed", conversation.StatusChanged,
              "A conversation's status changed (open, pending, resolved, archived), with who or what changed it."),
    EventSpec(conversation.SNOOZED, "conversation", "snoozed", conversation.Snoozed,
              "A conversation is snoozed until a time, or until the contact's next message."),
    EventSpec(conversation.PRIORITY_CHANGED, "conversation", "priority_changed", conversation.PriorityChanged,
              "A conversation's priority changed (by a user, or raised by an SLA's escalation)."),
    EventSpec(conversation.TAGGED, "conversation", "tagged", conversation.Tagged,
              "Tags were added to a conversation."),
    EventSpec(conversation.UNTAGGED, "conversation", "untagged", conversation.Tagged,
              "Tags were removed from a conversation."),
    EventSpec(conversation.NOTE_ADDED, "conversation", "note_added", conversation.NoteAdded,
              "A private note was added to a conversation (never sent to the contact)."),
    EventSpec(conversation.READ, "conversation", "read", conversation.Read,
              "A user (or key) read a conversation up to a time (unread counts are per reader)."),
    EventSpec(conversation.CUSTOMER_LINKED, "conversation", "customer_linked", conversation.CustomerLinked,
              "A conversation was linked to an ERP customer id."),
    EventSpec(conversation.SLA_WARNING, "conversation", "sla_warning", conversation.SlaEvent,
              "An SLA target of a conversation is due soon (its policy's warning time passed unmet)."),
    EventSpec(conversation.SLA_BREACHED, "conversation", "sla_breached", conversation.SlaEvent,
              "An SLA target of a conversation passed its due time unmet."),
    EventSpec(conversation.ARCHIVED, "conversation", "archived", conversation.ArchivedEvent,
              "A resolved conversation was archived (after SWITCHBOARD_ARCHIVE_AFTER_DAYS, or by a user)."),
    EventSpec(blocklist.ADDED, "blocklist", "added", blocklist.BlocklistChanged,
              "A number was blocklisted (by the API, or the contact wrote an opt-out keyword such as STOP)."),
    EventSpec(blocklist.REMOVED, "blocklist", "removed", blocklist.BlocklistChanged,
              "A number left the blocklist (by the API, or the contact wrote an opt-in keyword such as START)."),
    EventSpec(campaign.CREATED, "campaign", "created", campaign.CampaignCreated,
              "A campaign was created (draft): its content, senders, time zone, window and schedule."),
    EventSpec(campaign.CONTACTS_IMPORTED, "campaign", "contacts_imported", campaign.ContactsImported,
              "Contacts were added to a campaign (counts; the contacts are not in the event)."),
    EventSpec(campaign.EDITED, "campaign", "edited", campaign.CampaignEdited,
              "A draft campaign's definition was changed (the whole definition as it is now)."),
    EventSpec(campaign.DELETED, "campaign", "deleted", campaign.CampaignDeleted,
              "A campaign that was not sending was deleted with its contacts and results."),
    *(EventSpec(t, "campaign", t.split(".")[2], campaign.CampaignTransition, d) for t, d in (
        (campaign.SCHEDULED, "A campaign waits for its start time."),
        (campaign.STARTED, "A campaign started sending."),
        (campaign.PAUSED, "A campaign stopped sending for now."),
        (campaign.RESUMED, "A paused campaign sends again."),
        (campaign.CANCELLED, "A campaign was cancelled: it sends nothing more."),
        (campaign.COMPLETED, "Every contact of a campaign has its final outcome."),
        (campaign.FAILED, "A campaign could not go on (e.g. its senders were removed), with the reason."))),
    *(EventSpec(t, "flow", t.split(".")[2], flow.FlowChanged, d) for t, d in (
        (flow.CREATED, "A flow was created (a draft), with its definition."),
        (flow.DRAFT_REPLACED, "A flow's draft was replaced by a whole new definition."),
        (flow.PUBLISHED, "A flow's draft became revision N (immutable), with its definition."),
        (flow.ACTIVATED, "A flow starts executions on its newest published revision."),
        (flow.DEACTIVATED, "A flow starts no more executions (running ones go on)."),
        (flow.DELETED, "A flow was deleted (running executions are cancelled)."))),
    EventSpec(flow.EXECUTION_STARTED, "flow", "execution_started", flow.ExecutionStarted,
              "A flow started for a contact (pinned to the revision it started on)."),
    EventSpec(flow.STEP_COMPLETED, "flow", "step_completed", flow.StepCompleted,
              "An execution finished a node: the node, the exit it took and how long it took."),
    EventSpec(flow.WAITING, "flow", "waiting", flow.Waiting,
              "An execution waits: for a reply, a delay, a sent message's status, an HTTP call or an e-mail."),
    EventSpec(flow.RESUMED, "flow", "resumed", flow.Resumed,
              "A waiting execution goes on (a reply, a timeout, the end of a delay, a status, a result)."),
    *(EventSpec(t, "flow", t.split(".")[2], flow.ExecutionEnded, d) for t, d in (
        (flow.EXECUTION_COMPLETED, "An execution reached its end."),
        (flow.EXECUTION_FAILED, "An execution ended on a failure or a guard (steps, loops, age), with the reason."),
        (flow.EXECUTION_CANCELLED, "An execution was cancelled (by the API, or its flow was deleted)."))),
    EventSpec(flow.HANDOFF_REQUESTED, "flow", "handoff_requested", flow.HandoffRequested,
              "A flow hands a conversation over to people (an optional team); the execution ends."),
    EventSpec(template.STATUS_CHANGED, "template", "status_changed", template.TemplateStatusChanged,
              "Meta changed a template's status (APPROVED, REJECTED, PAUSED, DISABLED...): its webhook "
              "(webhook-ingest) or a reconciliation that found the change (conversations)."),
    EventSpec(template.QUALITY_CHANGED, "template", "quality_changed", template.TemplateQualityChanged,
              "Meta changed a template's quality score (GREEN, YELLOW, RED, UNKNOWN)."),
    EventSpec(template.CATEGORY_CHANGED, "template", "category_changed", template.TemplateCategoryChanged,
              "Meta changed a template's category."),
    *(EventSpec(t, "template", t.split(".")[2], template.TemplateDefined, d) for t, d in (
        (template.CREATED, "A template was created (a draft, not yet at Meta), with its components."),
        (template.EDITED, "A template's category or components were changed (the whole template as it is now)."),
        (template.IMPORTED, "A sync found a template made at Meta directly: kept read-only."))),
    EventSpec(template.SUBMITTED, "template", "submitted", template.TemplateSubmitted,
              "A template was submitted to Meta for review: Meta's id, status and category."),
    EventSpec(template.DELETED, "template", "deleted", template.TemplateDeleted,
              "A template was deleted here (and at Meta, when it was there)."),
    *(EventSpec(t, "notification", t.split(".")[2], notification.NotificationOutcome, d) for t, d in (
        (notification.SENT, "An ERP event's template message was queued (`message_id`; its statuses carry the "
                            "CloudEvent id as correlationid)."),
        (notification.FAILED, "An ERP event's message could not be sent (`reason`)."),
        (notification.SKIPPED, "An ERP event sent nothing, on purpose: duplicate, out_of_order, opted_out, "
                               "template_not_approved, no_rule or invalid_phone."))),
    *(EventSpec(t, "user", t.split(".")[2], people.UserChanged, d) for t, d in (
        (people.USER_CREATED, "A user joined the organization, with their role (never their API key)."),
        (people.USER_UPDATED, "A user's email, name or role changed (the user as it is now)."),
        (people.USER_DELETED, "A user was deleted: their API key no longer works, they left their teams."))),
    *(EventSpec(t, "team", t.split(".")[2], people.TeamChanged, d) for t, d in (
        (people.TEAM_CREATED, "A team was created."),
        (people.TEAM_UPDATED, "A team was renamed."),
        (people.TEAM_DELETED, "A team was deleted (its members are users still)."),
        (people.TEAM_MEMBER_ADDED, "A user joined a team (`user_id`)."),
        (people.TEAM_MEMBER_REMOVED, "A user left a team (`user_id`): removed, or the user was deleted."))),
    *(EventSpec(t, "webhook_endpoint", t.split(".")[2], hooks.WebhookEndpointChanged, d) for t, d in (
        (hooks.CREATED, "A webhook endpoint was created (its URL and event filters; never its secret)."),
        (hooks.UPDATED, "A webhook endpoint's URL, filters or description changed (the endpoint as it is now)."),
        (hooks.DELETED, "A webhook endpoint was deleted: nothing more is delivered to it."),
        (hooks.ENABLED, "A disabled webhook endpoint was enabled again: delivery goes on from where it stopped."))),
    EventSpec(hooks.SECRET_ROTATED, "webhook_endpoint", "secret_rotated", hooks.WebhookSecretRotated,
              "A webhook endpoint's signing secret was replaced; the previous one signs too until it expires."),
    EventSpec(hooks.DISABLED, "webhook_endpoint", "disabled", hooks.WebhookEndpointDisabled,
              "A webhook endpoint was disabled: by the API, by a 410 Gone, or after failing every attempt for days."),
)

COMMANDS: tuple[EventSpec, ...] = (
    EventSpec(commands.SEND_MESSAGE, "message", "send", commands.SendMessage,
              "Send one message through a sender."),
    EventSpec(commands.REGISTER_SENDER, "sender", "register", commands.RegisterSender,
              "Register a sender with the session-pool."),
    EventSpec(commands.SIMULATE_INBOUND, "sender", "simulate_inbound", commands.SimulateInbound,
              "Make a simulator sender receive an inbound message."),
    EventSpec(commands.PAUSE_SENDER, "sender", "pause", commands.PauseSender,
              "Suspend sending through a sender."),
    EventSpec(commands.RESUME_SENDER, "sender", "resume", commands.ResumeSender,
              "Resume sending through a paused sender."),
    EventSpec(commands.UPDATE_SENDER, "sender", "update", commands.UpdateSender,
              "Change a sender's name, quotas or labels."),
    EventSpec(commands.REMOVE_SENDER, "sender", "remove", commands.RemoveSender,
              "Remove a sender (its provider session is stopped)."),
    EventSpec(commands.CONNECT_SENDER, "sender", "connect", commands.ConnectSender,
              "Connect or reconnect a sender now."),
    EventSpec(commands.SIMULATE_SENDER, "sender", "simulate", commands.SimulateSender,
              "Make a simulator sender fail, go slow, disconnect or issue a QR (tests and demos)."),
    EventSpec(commands.CONNECTION_ATTEMPT, "connection", "attempt", commands.ConnectionAttempt,
              "Internal: one (re)connection attempt, redelivered with exponential backoff."),
    EventSpec(flow.PERFORM_EFFECT, "flow", "effect", flow.PerformEffect,
              "Internal: perform an execution step's HTTP call or e-mail, then record its outcome."),
)

BY_TYPE: dict[str, EventSpec] = {spec.type: spec for spec in EVENTS + COMMANDS}


def data_model(type_: str) -> type[BaseModel]:
    """The data model of a known event or command type (KeyError for an unknown one)."""
    return BY_TYPE[type_].model
