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
from pathlib import Path

from .nats_server import NatsServer
from .ports import port_open
from .postgres_server import PostgresServer
from .services import ServiceSpec, load_services

COLORS = ["\033[36m", "\033[35m", "\033[33m", "\033[32m", "\033[34m", "\033[31m"]
RESET = "\033[0m"


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
    def __init__(self, data_dir: Path, services: list[ServiceSpec]):
        self.data_dir = data_dir.absolute()
        self.services = services
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
            try:
                self.postgres = PostgresServer(self.data_dir / "pg", port=pg_port, password=password,
                                               durable=True).start()
            except BaseException:  # PostgreSQL would not start: the NATS server started for it goes too
                self.stop_infrastructure()
                raise
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
        env.setdefault("SWITCHBOARD_ALLOW_PRIVATE_URLS", "true")  # a developer's ERP runs on the same laptop
        env["PYTHONUNBUFFERED"] = "1"
        return env

    def bootstrap(self, env: dict[str, str]) -> str | None:
        """Run each service's bootstrap module (the gateway's creates the dev organization and key)."""
        key_file = self.data_dir / "dev-api-key"
        modules = [s.bootstrap for s in self.services if s.bootstrap]
        for module in modules:
            subprocess.run([sys.executable, "-m", module, "bootstrap-dev", "--key-file", str(key_file)],
                           env=env, check=True, stdout=subprocess.DEVNULL)
        return key_file.read_text().strip() if modules else None

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

    def reach(self, env: dict[str, str]) -> dict[str, str]:
        """Tell the services how to reach each other (unless set already), and return the endpoints
        the banner shows, by name."""
        endpoints = {}
        for spec in self.services:
            url = spec.url(env)
            if url and spec.reached_by:
                env.setdefault(spec.reached_by, url + spec.reached_path)
            if url and spec.endpoint:
                endpoints[spec.endpoint] = url
        return endpoints

    def write_endpoints(self, infra: dict[str, str], services: dict[str, str]) -> dict[str, str]:
        endpoints = {**services, "nats": infra["SWITCHBOARD_NATS_URL"], "database": infra["SWITCHBOARD_DATABASE_URL"]}
        path = self.data_dir / "endpoints.json"
        path.write_text(json.dumps(endpoints, indent=2) + "\n")
        path.chmod(0o600)  # the database URL carries the dev password
        return endpoints

    def banner(self, endpoints: dict[str, str], key: str | None) -> None:
        _say("endpoints (also in .data/endpoints.json):")
        for name, url in endpoints.items():
            shown = "postgresql://…@" + url.split("@")[-1] if name == "database" else url
            extra = {"gateway": f"   docs {url}/docs",
                     "ingest": f"   webhooks {url}/webhooks/meta, /webhooks/waha"}.get(name, "")
            _say(f"  {name:<9} {shown}{extra}")
        if key and "gateway" in endpoints:
            _say(f"  dev API key {key}   (in {self.data_dir / 'dev-api-key'})")
            _say(f"  try: curl -H 'X-API-Key: {key}' {endpoints['gateway']}/v1/me")

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
            endpoints = self.write_endpoints(infra, self.reach(env))
            for i, spec in enumerate(self.services):
                tasks.append(asyncio.create_task(self.run_service(spec, COLORS[i % len(COLORS)], env)))
            self.banner(endpoints, key)
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
    run.add_argument("--services", default="", help="comma-separated names (default: every listed service)")
    args = parser.parse_args(argv)
    if args.command == "run":
        known = {spec.name: spec for spec in load_services()}
        wanted = [s.strip() for s in args.services.split(",") if s.strip()] or list(known)
        unknown = [name for name in wanted if name not in known]
        if unknown:
            parser.error(f"unknown services {', '.join(unknown)}; pyproject.toml lists {', '.join(known)}")
        asyncio.run(Supervisor(Path(args.data_dir), [known[name] for name in wanted]).run())
