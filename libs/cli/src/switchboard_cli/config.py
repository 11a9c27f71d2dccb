"""Where the platform is: NATS and the secret key, found as the services find them — the
`SWITCHBOARD_*` variables, else what `make run` wrote to the data directory (`.data` in the current
directory, or `--data-dir`): `endpoints.json` (key "nats") and `secret-key`."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_NATS = "nats://127.0.0.1:4222"  # the services' default (ServiceSettings.nats_url)


@dataclass
class Found:
    value: str
    source: str  # where it was found, for messages


def data_dir(given: Path | None) -> Path:
    return given if given is not None else Path.cwd() / ".data"


def nats_url(data: Path, given: str | None = None) -> Found:
    if given:
        return Found(given, "--nats-url")
    if url := os.environ.get("SWITCHBOARD_NATS_URL"):
        return Found(url, "SWITCHBOARD_NATS_URL")
    endpoints = data / "endpoints.json"
    try:
        url = json.loads(endpoints.read_text()).get("nats")
    except (OSError, ValueError, AttributeError):
        url = None
    if url:
        return Found(url, str(endpoints))
    return Found(DEFAULT_NATS, "the default (no SWITCHBOARD_NATS_URL, no " + str(endpoints) + ")")


def secret_key(data: Path) -> Found | None:
    if key := os.environ.get("SWITCHBOARD_SECRET_KEY"):
        return Found(key, "SWITCHBOARD_SECRET_KEY")
    path = data / "secret-key"
    try:
        key = path.read_text().strip()
    except OSError:
        return None
    return Found(key, str(path)) if key else None
