"""`switchboard`: the operators' command line.

    switchboard events replay --org ORG [--since T | --from-seq N] [--until T] [--type T…] (--out FILE | --to-webhook URL)
    switchboard events export-audit --org ORG --since T [--until T] --out FILE
    switchboard events verify FILE [--public-key KEY]
    switchboard events audit-key
    switchboard events dead-letters list [--consumer NAME]
    switchboard events dead-letters replay (--consumer NAME | --seq N…)

NATS and the secret key are found as the services find them (config.py)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from nats.js.errors import NotFoundError
from rich.console import Console

from switchboard_runtime import audit
from switchboard_runtime.messaging.history import HistoryInterrupted

from . import config
from .audit_file import export_audit, verify_file
from .connect import Unreachable, jetstream
from .dead_letters import dead_letters, replay_dead_letters, table
from .progress import err
from .replay import Range, replay_to_file, replay_to_webhook
from .times import parse_time
from .webhook import DeliveryFailed

app = typer.Typer(help="Switchboard operators' tools.", no_args_is_help=True)
events = typer.Typer(help="Replay, export and verify the event history; dead letters.", no_args_is_help=True)
app.add_typer(events, name="events")
letters = typer.Typer(help="What consumers could not process, and giving it back to them.", no_args_is_help=True)
events.add_typer(letters, name="dead-letters")
out = Console()

DataDir = Annotated[Path | None, typer.Option("--data-dir", help="where `make run` keeps endpoints.json and "
                                                                  "secret-key (default: ./.data)")]
NatsUrl = Annotated[str | None, typer.Option("--nats-url", help="NATS to use (default: SWITCHBOARD_NATS_URL, "
                                                                "else .data/endpoints.json)")]
Org = Annotated[str, typer.Option("--org", help="the organization id")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="no progress bar")]


def _fail(message: str, code: int = 1) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def _time(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_time(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint=name) from None


def _run(coro):
    try:
        return asyncio.run(coro)
    except Unreachable as exc:
        raise _fail(str(exc), 2) from None
    except HistoryInterrupted as exc:
        raise _fail(str(exc)) from None


@events.command()
def replay(org: Org,
           since: Annotated[str | None, typer.Option(help="from this time (RFC 3339, a date, or an age: 2h, 7d)")] = None,
           from_seq: Annotated[int | None, typer.Option("--from-seq", help="from this stream sequence")] = None,
           until: Annotated[str | None, typer.Option(help="up to this time")] = None,
           type_: Annotated[list[str] | None, typer.Option("--type", help="event types: message.*, "
                                                                          "conversation.assigned (repeatable)")] = None,
           out_file: Annotated[str | None, typer.Option("--out", help="a JSON-lines file (- = stdout)")] = None,
           to_webhook: Annotated[str | None, typer.Option("--to-webhook", help="POST each event to this URL")] = None,
           secret: Annotated[str | None, typer.Option(help="sign webhook deliveries with this whsec_ secret",
                                                      envvar="SWITCHBOARD_REPLAY_WEBHOOK_SECRET")] = None,
           data_dir: DataDir = None, nats_url: NatsUrl = None, quiet: Quiet = False) -> None:
    """Stream an organization's events in order to a file (the exact stored bytes, one a line) or a webhook."""
    if since is not None and from_seq is not None:
        raise typer.BadParameter("give --since or --from-seq, not both")
    if (out_file is None) == (to_webhook is None):
        raise typer.BadParameter("give --out FILE or --to-webhook URL")
    if secret is not None and to_webhook is None:
        raise typer.BadParameter("--secret signs webhook deliveries: it needs --to-webhook")
    rng = Range(_time(since, "--since"), from_seq, _time(until, "--until"), type_)
    url = config.nats_url(config.data_dir(data_dir), nats_url)

    async def go():
        async with jetstream(url) as js:
            if to_webhook is not None:
                return await replay_to_webhook(js, org, rng, to_webhook, secret, show_progress=not quiet), 0
            return await replay_to_file(js, org, rng, out_file, show_progress=not quiet)

    try:
        counter, reshaped = _run(go())
    except ValueError as exc:
        raise _fail(str(exc), 2) from None
    except DeliveryFailed as exc:
        raise _fail(f"the webhook refused {exc}; events before it were delivered — resume with "
                    f"--from-seq {exc.sequence}") from None
    summary = counter.summary("replayed")
    if reshaped:
        summary += f"; {reshaped} held raw newlines and were written as compact JSON"
    (err if out_file == "-" else out).print(summary, highlight=False, soft_wrap=True)


@events.command("export-audit")
def export_audit_command(org: Org,
                         since: Annotated[str, typer.Option(help="events stored from this time")],
                         out_file: Annotated[Path, typer.Option("--out", help="the audit file to write")],
                         until: Annotated[str | None, typer.Option(help="…until this time (default: now)")] = None,
                         data_dir: DataDir = None, nats_url: NatsUrl = None, quiet: Quiet = False) -> None:
    """Write a tamper-evident audit file: each event with its sequence, a hash chain, a signed manifest."""
    start = _time(since, "--since")
    end = _time(until, "--until") or datetime.now(UTC)
    if start is not None and end <= start:
        raise typer.BadParameter("--until must be after --since")
    data = config.data_dir(data_dir)
    key = config.secret_key(data)
    if key is None:
        raise _fail(f"no secret key to sign with: set SWITCHBOARD_SECRET_KEY or keep it in {data / 'secret-key'}", 2)

    async def go():
        async with jetstream(config.nats_url(data, nats_url)) as js:
            return await export_audit(js, org, start, end, out_file, key.value, show_progress=not quiet)

    counter = _run(go())
    out.print(counter.summary(f"exported to {out_file}:"), highlight=False)


@events.command()
def verify(file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="the audit file")],
           public_key: Annotated[str | None, typer.Option("--public-key", help="the signer's public key (base64; "
                                                          "`switchboard events audit-key`)")] = None,
           data_dir: DataDir = None) -> None:
    """Check an audit file: exit 0 if intact, else 1 naming the first record changed, removed or moved."""
    secret = None
    if public_key is None:
        found = config.secret_key(config.data_dir(data_dir))
        if found is None:
            raise _fail("give --public-key, or the secret key (SWITCHBOARD_SECRET_KEY or .data/secret-key)", 2)
        secret = found.value
    try:
        result = verify_file(file, secret_key=secret, public_key=public_key)
    except ValueError as exc:
        raise _fail(str(exc), 2) from None
    if not result.ok:
        raise _fail(f"{file}: {result}")
    out.print(f"{file}: {result}", highlight=False, soft_wrap=True)


@events.command("audit-key")
def audit_key(data_dir: DataDir = None) -> None:
    """Print the public key that checks this platform's audit files (for auditors: verify --public-key)."""
    found = config.secret_key(config.data_dir(data_dir))
    if found is None:
        raise _fail("no secret key: set SWITCHBOARD_SECRET_KEY or keep it in .data/secret-key", 2)
    public = audit.public_key_of(found.value)
    out.print(f"{public}  (Ed25519, key id {audit.key_id(public)})", highlight=False)


@letters.command("list")
def list_letters(consumer: Annotated[str | None, typer.Option(help="only this consumer's (its durable name)")] = None,
                 limit: Annotated[int, typer.Option(help="show at most this many (the newest)")] = 200,
                 data_dir: DataDir = None, nats_url: NatsUrl = None) -> None:
    """What each consumer could not process, with the reason."""
    async def go():
        async with jetstream(config.nats_url(config.data_dir(data_dir), nats_url)) as js:
            return await dead_letters(js, consumer)

    try:
        found = _run(go())
    except NotFoundError:
        found = []
    except ValueError as exc:
        raise _fail(str(exc), 2) from None
    shown = found[-limit:] if limit > 0 else found
    title = f"{len(found)} dead letters" + (f" of {consumer}" if consumer else "")
    if len(shown) < len(found):
        title += f" (the newest {len(shown)})"
    out.print(table(shown, title))
    counts: dict[str, int] = {}
    for d in found:
        counts[d.consumer] = counts.get(d.consumer, 0) + 1
    for name, n in sorted(counts.items()):
        out.print(f"  {name}: {n}", highlight=False)


@letters.command("replay")
def replay_letters(consumer: Annotated[str | None, typer.Option(help="give back this consumer's dead letters")] = None,
                   seq: Annotated[list[int] | None, typer.Option("--seq", help="only these dead-letter sequences "
                                                                              "(as `list` shows; repeatable)")] = None,
                   data_dir: DataDir = None, nats_url: NatsUrl = None) -> None:
    """Give dead letters back to the consumer that could not process them (and to no other)."""
    if consumer is None and not seq:
        raise typer.BadParameter("name --consumer, or --seq N (dead-letter sequences from `list`)")

    async def go():
        async with jetstream(config.nats_url(config.data_dir(data_dir), nats_url)) as js:
            return await replay_dead_letters(js, consumer, seq)

    try:
        given = _run(go())
    except NotFoundError:
        given = []
    except ValueError as exc:
        raise _fail(str(exc), 2) from None
    missing = sorted(set(seq or []) - {d.sequence for d in given})
    counts: dict[str, int] = {}
    for d in given:
        counts[d.consumer] = counts.get(d.consumer, 0) + 1
    out.print(f"gave back {len(given)} dead letters" + "".join(f"; {n} to {c}" for c, n in sorted(counts.items())),
              highlight=False)
    if missing:
        raise _fail(f"no such dead letters{f' of {consumer}' if consumer else ''}: {', '.join(map(str, missing))}")
