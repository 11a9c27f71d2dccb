"""`get_many` on PostgreSQL: many aggregates read with one query for their versions — a cached copy
still at its stored version is taken (a copy, never the cached object itself), one another replica
changed since is read afresh, an unknown id is left out, and an application without a cache reads
each as `repository.get` does."""

from __future__ import annotations

from uuid import uuid4

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from switchboard_runtime.eventstore import get_many, postgres_application
from switchboard_runtime.settings import DatabaseUrl

SCHEMA = "get_many_test"


class Counter(Aggregate):
    def __init__(self) -> None:
        self.count = 0

    @event("Counted")
    def count_one(self) -> None:
        self.count += 1


class Counters(Application):
    pass


def replica(database_url: str, cache: bool = True) -> Counters:
    extra = {"AGGREGATE_CACHE_MAXSIZE": "100"} if cache else {}
    return postgres_application(Counters, DatabaseUrl.parse(database_url), SCHEMA, **extra)


def test_cached_copies_at_their_version_fresh_reads_of_changed_ones_unknown_ids_left_out(database_url):
    a, b = replica(database_url), replica(database_url)
    first, second = Counter(), Counter()
    a.save(first, second)
    found = get_many(a, [first.id, second.id, uuid4()])
    assert set(found) == {first.id, second.id}
    assert found[first.id] is not first and found[first.id].count == 0  # a copy of the cached one
    changed = b.repository.get(second.id)
    changed.count_one()
    changed.count_one()
    b.save(changed)  # another replica moved `second` on: `a`'s cached copy is behind
    again = get_many(a, [first.id, second.id])
    assert again[second.id].count == 2 and again[second.id].version == 3
    assert again[first.id].count == 0
    mine = again[second.id]
    mine.count_one()
    a.save(mine)  # saving what get_many gave is a normal save (no conflict: it was current)
    assert b.repository.get(second.id).count == 3


def test_without_a_cache_each_is_read_from_its_events(database_url):
    writer, reader = replica(database_url), replica(database_url, cache=False)
    counter = Counter()
    counter.count_one()
    writer.save(counter)
    found = get_many(reader, [counter.id, uuid4()])
    assert list(found) == [counter.id] and found[counter.id].count == 1
