"""The directory's lookups against the real NATS and PostgreSQL: a sender just registered is found (the
lookup waits while the directory's consumer is behind the stream), and one that does not exist is
unknown as soon as the consumer has caught up, without waiting out the rest of WAIT_SECONDS."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import create_async_engine

from switchboard_contracts import streams
from switchboard_contracts.ids import new_id
from switchboard_conversations.directory import Directory
from switchboard_runtime.messaging.caught_up import caught_up

from .inbox_helpers import add_sender, eventually, running_inbox


def counted(settled):
    asked = []

    async def ask() -> bool:
        asked.append(answer := await settled())
        return answer

    return ask, asked


async def test_a_sender_lookup_waits_only_while_the_directory_is_behind(nats_url, database_url):
    org, sender_id = new_id(), new_id()
    async with running_inbox(nats_url, database_url) as (_, js):
        engine = create_async_engine(database_url.replace("postgresql://", "postgresql+asyncpg://"))
        try:
            settled = caught_up(js, streams.CONVERSATIONS_DIRECTORY)
            await add_sender(js, org, sender_id, "meta-cloud", "waba-1")
            found = await Directory(engine, settled).meta_sender(org, sender_id)  # published a moment ago
            assert (found.id, found.waba_id) == (sender_id, "waba-1")

            # caught up: an unknown sender is unknown at the first answer
            await eventually(settled, bool)
            ask, asked = counted(settled)
            assert await Directory(engine, ask).meta_sender(org, new_id()) is None
            assert asked == [True]

            # behind: asked again (and the table with it) until the consumer has caught up
            answers = iter([False, False, True])
            ask, asked = counted(lambda: _next(answers))
            assert await Directory(engine, ask).meta_sender(org, new_id()) is None
            assert asked == [False, False, True]

            # never known to be caught up (NATS away, say): the whole wait, then unknown
            ask, asked = counted(_never)
            assert await Directory(engine, ask).meta_sender(org, new_id()) is None
            assert len(asked) > 3 and not any(asked)
            # a lookup that does not wait, or finds its sender at once, asks nothing
            ask, asked = counted(settled)
            assert await Directory(engine, ask).meta_sender(org, new_id(), wait=False) is None and asked == []
            assert (await Directory(engine, ask).meta_sender(org, sender_id)).id == sender_id and asked == []
        finally:
            await engine.dispose()


async def _next(answers) -> bool:
    return next(answers)


async def _never() -> bool:
    return False
