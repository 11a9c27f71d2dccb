"""The dev supervisor behind `make run`: embedded NATS and PostgreSQL (unless SWITCHBOARD_NATS_URL and
SWITCHBOARD_DATABASE_URL name servers), the dev organization and API key, then every service as its
own process with one combined log prefixed by service. Ctrl-C stops everything cleanly."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from .nats_server import NatsServer
from .ports import port_open
from .postgres_server import PostgresServer

COLORS = ["\033[36m", "\033[35m", "\033[33m", "\033[32m", "\033[34m", "\033[31m"]
RESET = "\033[0m"


@dataclass
class ServiceSpec:
    name: str
    module: str


SERVICES = {
    "gateway": ServiceSpec("gateway", "switchboard_gateway.main"),
    "session-pool": ServiceSpec("session-pool", "switchboard_session_pool.main"),
    "conversations": ServiceSpec("conversations", "switchboard_conversations.main"),
    "webhook-ingest": ServiceSpec("webhook-ingest", "switchboard_webhook_ingest.main"),
    "campaigns": ServiceSpec("campaigns", "switchboard_campaigns.main"),
}


def _secret_file(path: Path, length: int = 32) -> str:
    """A secret kept in .data (generated on first start, mode 0600)."""
    if path.exists():
        return path.read_text().strip()
    value = secrets.token_urlsafe(length)
    path.write_text(value)
    path.chmod(0o600)
    return value


def _say(line: str) -> None:
    print(f"[supervisor] {line}", flush=True)


class Supervisor:
    def __init__(self, data_dir: Path, services: list[str]):
        self.data_dir = data_dir.absolute()
        self.services = [SERVICES[s] for s in services]
        self.nats: NatsServer | None = None
        self.postgres: PostgresServer | None = None
        self.children: dict[str, asyncio.subprocess.Process] = {}
        self.stopping = False

    # --- infrastructure ------------------------------------------------------------------------

    def start_infrastructure(self) -> dict[str, str]:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        nats_url = os.environ.get("SWITCHBOARD_NATS_URL")
        db_url = os.environ.get("SWITCHBOARD_DATABASE_URL")
        if nats_url and db_url:
            _say("using the NATS and PostgreSQL named by SWITCHBOARD_NATS_URL / SWITCHBOARD_DATABASE_URL")
        else:
            nats_port = int(os.environ.get("SWITCHBOARD_DEV_NATS_PORT", "4222"))
            pg_port = int(os.environ.get("SWITCHBOARD_DEV_POSTGRES_PORT", "5433"))
            for what, port in (("NATS", nats_port), ("PostgreSQL", pg_port)):
                if port_open(port):
                    raise SystemExit(f"[supervisor] port {port} for {what} is taken: stop what uses it or set "
                                     f"SWITCHBOARD_DEV_{'NATS' if what == 'NATS' else 'POSTGRES'}_PORT")
            self.nats = NatsServer(self.data_dir / "nats", port=nats_port,
                                   log_file=self.data_dir / "nats.log").start()
            nats_url = self.nats.url
            _say(f"NATS JetStream on {nats_url} (data in {self.data_dir / 'nats'})")
            password = _secret_file(self.data_dir / "pg-password")
            self.postgres = PostgresServer(self.data_dir / "pg", port=pg_port, password=password,
                                           durable=True).start()
            db_url = self.postgres.url
            _say(f"PostgreSQL on 127.0.0.1:{pg_port} (data in {self.data_dir / 'pg'})")
        return {"SWITCHBOARD_NATS_URL": nats_url, "SWITCHBOARD_DATABASE_URL": db_url,
                "SWITCHBOARD_SECRET_KEY": os.environ.get("SWITCHBOARD_SECRET_KEY")
                or _secret_file(self.data_dir / "secret-key")}

    def stop_infrastructure(self) -> None:
        if self.postgres:
            self.postgres.stop()
        if self.nats:
            self.nats.stop()

    # --- services ------------------------------------------------------------------------------

    def child_env(self, infra: dict[str, str]) -> dict[str, str]:
        env = {**os.environ, **infra}
        env.setdefault("SWITCHBOARD_LOG_FORMAT", "console")
        env["PYTHONUNBUFFERED"] = "1"
        return env

    def bootstrap(self, env: dict[str, str]) -> str | None:
        if not any(s.name == "gateway" for s in self.services):
            return None
        key_file = self.data_dir / "dev-api-key"
        subprocess.run([sys.executable, "-m", "switchboard_gateway.cli", "bootstrap-dev",
                        "--key-file", str(key_file)], env=env, check=True, stdout=subprocess.DEVNULL)
        return key_file.read_text().strip()

    async def _pipe(self, name: str, color: str, stream: asyncio.StreamReader) -> None:
        prefix = f"{color}{name:<14}|{RESET} " if sys.stdout.isatty() else f"{name:<14}| "
        while line := await stream.readline():
            sys.stdout.write(prefix + line.decode(errors="replace"))
            sys.stdout.flush()

    async def run_service(self, spec: ServiceSpec, color: str, env: dict[str, str]) -> None:
        restarts = 0
        while not self.stopping:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", spec.module, env=env,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
                start_new_session=True)  # Ctrl-C reaches only us; we stop the children in order
            self.children[spec.name] = proc
            await self._pipe(spec.name, color, proc.stdout)
            code = await proc.wait()
            if self.stopping:
                return
            restarts += 1
            delay = min(2 ** restarts, 30)
            _say(f"{spec.name} exited with {code}; restarting in {delay}s")
            await asyncio.sleep(delay)

    async def stop_services(self) -> None:
        self.stopping = True
        for proc in self.children.values():
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
        for name, proc in self.children.items():
            try:
                await asyncio.wait_for(proc.wait(), timeout=20)
            except TimeoutError:
                _say(f"{name} did not stop in time; killing it")
                proc.kill()
                await proc.wait()

    # --- the whole run -------------------------------------------------------------------------

    def write_endpoints(self, infra: dict[str, str], gateway_url: str, ingest_url: str | None) -> dict[str, str]:
        endpoints = {"gateway": gateway_url, "nats": infra["SWITCHBOARD_NATS_URL"],
                     "database": infra["SWITCHBOARD_DATABASE_URL"]}
        if ingest_url:
            endpoints["ingest"] = ingest_url
        path = self.data_dir / "endpoints.json"
        path.write_text(json.dumps(endpoints, indent=2) + "\n")
        path.chmod(0o600)  # the database URL carries the dev password
        return endpoints

    async def run(self) -> None:
        infra = self.start_infrastructure()
        env = self.child_env(infra)
        tasks: list[asyncio.Task] = []
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            key = await asyncio.to_thread(self.bootstrap, env)
            host = env.get("SWITCHBOARD_GATEWAY_HOST", "127.0.0.1")
            gateway_url = f"http://{host}:{env.get('SWITCHBOARD_GATEWAY_PORT', '8080')}"
            ingest_url = None
            if any(s.name == "webhook-ingest" for s in self.services):
                ingest_url = (f"http://{env.get('SWITCHBOARD_INGEST_HOST', '127.0.0.1')}:"
                              f"{env.get('SWITCHBOARD_INGEST_PORT', '8081')}")
            endpoints = self.write_endpoints(infra, gateway_url, ingest_url)
            if any(s.name == "campaigns" for s in self.services):  # the gateway forwards /v1/campaigns there
                env.setdefault("SWITCHBOARD_CAMPAIGNS_URL", f"http://127.0.0.1:{env.get('SWITCHBOARD_CAMPAIGNS_PORT', '8082')}")
            if any(s.name == "conversations" for s in self.services):  # ...and /v1/messages, /v1/conversations
                env.setdefault("SWITCHBOARD_CONVERSATIONS_URL",
                               f"http://127.0.0.1:{env.get('SWITCHBOARD_CONVERSATIONS_PORT', '8083')}")
            if ingest_url:  # WAHA sessions the session-pool starts post their events to webhook-ingest
                env.setdefault("SWITCHBOARD_WAHA_WEBHOOK_URL", f"{ingest_url}/webhooks/waha")
            for i, spec in enumerate(self.services):
                tasks.append(asyncio.create_task(self.run_service(spec, COLORS[i % len(COLORS)], env)))
            safe_db = endpoints["database"].split("@")[-1]
            _say("endpoints (also in .data/endpoints.json):")
            _say(f"  gateway   {gateway_url}   docs {gateway_url}/docs")
            if ingest_url:
                _say(f"  ingest    {ingest_url}   webhooks {ingest_url}/webhooks/meta, /webhooks/waha")
            _say(f"  nats      {endpoints['nats']}")
            _say(f"  database  postgresql://…@{safe_db}")
            if key:
                _say(f"  dev API key {key}   (in {self.data_dir / 'dev-api-key'})")
                _say(f"  try: curl -H 'X-API-Key: {key}' {gateway_url}/v1/me")
            _say("Ctrl-C stops everything")
            await stop.wait()
        finally:
            _say("stopping services…")
            await self.stop_services()
            for t in tasks:
                t.cancel()
            self.stop_infrastructure()
            _say("stopped")


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(prog="switchboard-dev")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the whole platform on the embedded default")
    run.add_argument("--data-dir", default=".data")
    run.add_argument("--services", default=",".join(SERVICES))
    args = parser.parse_args(argv)
    if args.command == "run":
        services = [s.strip() for s in args.services.split(",") if s.strip()]
        asyncio.run(Supervisor(Path(args.data_dir), services).run())
