"""Helpers for the end-to-end tests (the `platform` fixture is in conftest.py)."""

from __future__ import annotations

import time

import httpx


def api(platform) -> httpx.Client:
    return httpx.Client(base_url=platform["base"], headers={"X-API-Key": platform["key"]}, timeout=10)


def poll(fn, predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if predicate(value):
            return value
        assert time.monotonic() < deadline, f"timed out; last value {value}"
        time.sleep(0.1)
