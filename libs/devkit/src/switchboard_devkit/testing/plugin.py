"""pytest fixtures: `infra` (session), `nats_url` and `database_url` (fresh per test),
`settings_env` (both, as SWITCHBOARD_* variables for a service under test)."""

from __future__ import annotations

import os

import pytest

from ..postgres_server import _os_user
from .infra import TestInfra

TEST_SECRET_KEY = "test-secret-key-not-for-production"


def pytest_configure(config) -> None:
    if not hasattr(config, "workerinput") and not os.environ.get("SWITCHBOARD_DATABASE_URL"):
        # the run's one controlling process (not an xdist worker), before any worker starts PostgreSQL:
        _os_user()  # as root, the OS user PostgreSQL runs as exists (created once, not raced for)


@pytest.fixture(scope="session")
def infra():
    infra = TestInfra().start()
    yield infra
    infra.stop()


@pytest.fixture
def nats_url(infra: TestInfra):
    url = infra.new_nats()
    yield url
    infra.release_nats(url)  # each test's server ends with it


@pytest.fixture
def database_url(infra: TestInfra) -> str:
    return infra.new_database()


@pytest.fixture
def service_env(nats_url: str, database_url: str) -> dict[str, str]:
    return {"SWITCHBOARD_NATS_URL": nats_url, "SWITCHBOARD_DATABASE_URL": database_url,
            "SWITCHBOARD_LOG_FORMAT": "console", "SWITCHBOARD_SECRET_KEY": TEST_SECRET_KEY}
