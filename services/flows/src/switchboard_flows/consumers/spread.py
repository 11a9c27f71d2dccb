"""Handling a batch's messages side by side — those for the same key (an execution, a contact) one
after the other in stream order, different keys concurrently, at most `limit` at once."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Iterable
from typing import TypeVar

T = TypeVar("T")


async def by_key(items: Iterable[tuple[Hashable, T]], handle: Callable[[T], Awaitable[None]],
                 limit: int = 64) -> None:
    groups: dict[Hashable, list[T]] = {}
    for key, item in items:
        groups.setdefault(key, []).append(item)
    slots = asyncio.Semaphore(limit)

    async def run(group: list[T]) -> None:
        async with slots:
            for item in group:
                await handle(item)

    await asyncio.gather(*(run(group) for group in groups.values()))
