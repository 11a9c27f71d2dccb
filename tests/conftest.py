"""The platform as `make run` runs it, for end-to-end tests (one per test module)."""

from __future__ import annotations

import pytest
from switchboard_devkit.platform import running_platform


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    # reconnection backoff starts at 0.5 s, not 5 s
    with running_platform(tmp_path_factory.mktemp("platform"), {"SWITCHBOARD_RECONNECT_BASE_SECONDS": "0.5"}) as p:
        yield {"base": p.base, "key": p.key, "endpoints": p.endpoints, "proc": p.proc, "data": p.data}
