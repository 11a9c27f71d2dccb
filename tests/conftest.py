"""The platform as `make run` runs it, for the end-to-end tests.

Starting it (PostgreSQL's initdb, NATS, five service processes) costs more than most modules' tests, so
one test process starts it once (`shared_platform`; under pytest-xdist each worker has its own) and
every module that only drives it through the API shares it, each module as an organization of its own
(`platform`: a fresh organization and API key): what a module creates — senders, messages, campaigns,
conversations, blocklist entries, events under `sb.evt.<org>` — is invisible to every other module, as
another organization's resources are to any client. A test that stops the platform gets one of its own
(`private_platform`), so no other test ever finds it stopped."""

from __future__ import annotations

import asyncio

import pytest
from switchboard_devkit.platform import Platform, running_platform

ENV = {"SWITCHBOARD_RECONNECT_BASE_SECONDS": "0.5"}  # reconnection backoff starts at 0.5 s, not 5 s


def _as_dict(p: Platform, key: str) -> dict:
    return {"base": p.base, "key": key, "endpoints": p.endpoints, "proc": p.proc, "data": p.data}


def _new_organization(p: Platform, name: str) -> str:
    """A new organization on the running platform, as the operator command `create-org` makes one;
    returns its API key."""
    from switchboard_gateway.cli import create_org
    from switchboard_gateway.settings import GatewaySettings

    settings = GatewaySettings(database_url=p.endpoints["database"], nats_url=p.endpoints["nats"])
    return asyncio.run(create_org(settings, name))["api_key"]


@pytest.fixture(scope="session")
def shared_platform(tmp_path_factory):
    with running_platform(tmp_path_factory.mktemp("platform"), ENV) as p:
        yield p


@pytest.fixture(scope="module")
def platform(shared_platform: Platform, request):
    """The shared platform, seen as a fresh organization of its own for this module."""
    assert shared_platform.proc.poll() is None, "the shared platform stopped (a test must not stop it)"
    yield _as_dict(shared_platform, _new_organization(shared_platform, request.module.__name__))
    assert shared_platform.proc.poll() is None, f"{request.module.__name__} stopped the shared platform"


@pytest.fixture
def private_platform(tmp_path):
    """A whole platform for one test alone (one that stops it), with the dev organization's key."""
    with running_platform(tmp_path, ENV) as p:
        yield _as_dict(p, p.key)
