"""The suite runs on pytest-xdist workers (see `addopts` in pyproject.toml). A test marked `long` takes
tens of seconds on its own: those are run first, so they overlap the many short ones instead of
ending the run on one worker while the others are idle. Only the order changes, never what runs."""

from __future__ import annotations

pytest_plugins = ["switchboard_devkit.testing.plugin"]


def pytest_collection_modifyitems(config, items) -> None:
    items.sort(key=lambda item: item.get_closest_marker("long") is None)  # stable: otherwise as collected
