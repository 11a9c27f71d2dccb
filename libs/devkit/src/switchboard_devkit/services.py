"""The services `make run` starts, read from the one list in the workspace's pyproject.toml
(`[[tool.switchboard.services]]`): the supervisor and the test platform learn them there."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    module: str
    host_env: str | None = None
    port_env: str | None = None
    default_port: int | None = None
    endpoint: str | None = None  # its key in .data/endpoints.json and the start-up banner
    reached_by: str | None = None  # the variable the other services reach it by (its URL)
    reached_path: str = ""
    bootstrap: str | None = None  # a module run once before the services: `bootstrap-dev --key-file F`

    def url(self, env: dict[str, str]) -> str | None:
        if not self.port_env:
            return None
        host = env.get(self.host_env or "", "") or "127.0.0.1"
        return f"http://{host}:{env.get(self.port_env) or self.default_port}"


def workspace_root(start: Path | None = None) -> Path:
    """The directory whose pyproject.toml declares the uv workspace (searched upwards from here, then
    from the working directory)."""
    for origin in (start or Path(__file__).resolve(), Path.cwd().resolve()):
        for directory in (origin, *origin.parents):
            candidate = directory / "pyproject.toml"
            if candidate.is_file() and "[tool.uv.workspace]" in candidate.read_text():
                return directory
    raise SystemExit("switchboard-devkit: no workspace pyproject.toml found above here or the working directory")


def load_services(root: Path | None = None) -> list[ServiceSpec]:
    config = tomllib.loads((workspace_root(root) / "pyproject.toml").read_text())
    entries = config.get("tool", {}).get("switchboard", {}).get("services", [])
    if not entries:
        raise SystemExit("switchboard-devkit: pyproject.toml lists no [[tool.switchboard.services]]")
    return [ServiceSpec(**entry) for entry in entries]
