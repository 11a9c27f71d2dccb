"""How the suite is spread over its pytest-xdist workers (`-n 2 --dist loadgroup`, pyproject.toml).
Only where and in which order tests run changes here, never what runs.

- A test marked `long` takes tens of seconds on its own: those go first, one to each worker, so they
  overlap the many short tests instead of ending the run on one worker while the other idles.
- The tests that drive the whole platform (the `platform` and `stoppable_platform` fixtures of
  tests/conftest.py) form one xdist group, so one worker starts the shared platform for them all (a
  `long` one among them runs wherever it is sent and starts the platform there too). The group goes
  next, with the tests that stop the platform at its end; then every other test, as collected. Each
  worker takes the next test when it runs short."""

from __future__ import annotations

import pytest

pytest_plugins = ["switchboard_devkit.testing.plugin"]

PLATFORM_FIXTURES = {"platform", "stoppable_platform"}


@pytest.hookimpl(tryfirst=True)  # before xdist names each test's group from its marker
def pytest_collection_modifyitems(config, items) -> None:
    for item in items:
        if item.get_closest_marker("long") is None and PLATFORM_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.xdist_group("platform"))

    def rank(item) -> int:
        if item.get_closest_marker("long"):
            return 0
        if item.get_closest_marker("xdist_group"):
            return 2 if "stoppable_platform" in item.fixturenames else 1
        return 3

    items.sort(key=rank)  # stable: otherwise as collected
