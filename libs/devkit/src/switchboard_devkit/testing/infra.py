"""Test infrastructure: one PostgreSQL for the session (a fresh database per test that asks), and a
fresh NATS JetStream server per test — or the servers named by SWITCHBOARD_NATS_URL /
SWITCHBOARD_DATABASE_URL."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from pathlib import Path

from ..nats_server import NatsServer, PortTaken
from ..postgres_server import PostgresServer
from .ports import server_port


class TestInfra:
    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="switchboard-test-"))
        os.chmod(self.root, 0o755)
        self.external_nats = os.environ.get("SWITCHBOARD_NATS_URL")
        self.external_db = os.environ.get("SWITCHBOARD_DATABASE_URL")
        self.postgres: PostgresServer | None = None
        self._nats: list[NatsServer] = []

    def start(self) -> TestInfra:
        if os.environ.get("SWITCHBOARD_TEST_CONTAINERS") == "1" and shutil.which("docker") \
                and not (self.external_db and self.external_nats):
            self._start_containers()
        if not self.external_db:
            self.postgres = PostgresServer(self.root / "pg", port=server_port(), durable=False).start()
        return self

    def _start_containers(self) -> None:
        """Opt-in for machines with a Docker engine: PostgreSQL and NATS from testcontainers."""
        from testcontainers.core.container import DockerContainer
        from testcontainers.core.waiting_utils import wait_for_logs
        from testcontainers.postgres import PostgresContainer

        pg = PostgresContainer("postgres:17", username="switchboard", password="switchboard",
                               dbname="switchboard", driver=None).start()
        nats = DockerContainer("nats:2.11").with_command("-js").with_exposed_ports(4222).start()
        wait_for_logs(nats, "Server is ready")
        self._containers = [pg, nats]
        self.external_db = pg.get_connection_url()
        self.external_nats = f"nats://{nats.get_container_host_ip()}:{nats.get_exposed_port(4222)}"

    def new_database(self) -> str:
        """A URL to a database no other test uses."""
        name = "t_" + uuid.uuid4().hex[:12]
        if self.postgres:
            return self.postgres.create_database(name)
        import psycopg

        assert self.external_db
        with psycopg.connect(self.external_db, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.external_db.rsplit("/", 1)[0] + "/" + name

    def new_nats(self) -> str:
        """A URL to a NATS JetStream server with empty streams."""
        if self.external_nats:
            return self.external_nats
        for attempt in range(5):  # bounded: a port picked free may be taken before the server binds it
            try:
                server = NatsServer(self.root / f"nats-{uuid.uuid4().hex[:8]}", port=server_port()).start()
                break
            except PortTaken:
                if attempt == 4:
                    raise
        self._nats.append(server)
        return server.url

    def release_nats(self, url: str) -> None:
        """Stop the server `new_nats` started for `url` (nothing for an external one)."""
        for server in [s for s in self._nats if s.url == url]:
            server.stop()
            self._nats.remove(server)
            shutil.rmtree(server.store_dir, ignore_errors=True)

    def stop(self) -> None:
        for container in getattr(self, "_containers", []):
            container.stop()
        for server in self._nats:
            server.stop()
        if self.postgres:
            self.postgres.stop()
        shutil.rmtree(self.root, ignore_errors=True)
        if self.postgres and self.postgres.data_dir != self.root / "pg":
            shutil.rmtree(self.postgres.data_dir.parent, ignore_errors=True)
