"""Deterministic ids are public (events, messages and conversations are named by them): the quick
computation gives exactly the UUIDv5 it always gave."""

from __future__ import annotations

import random
import string
import uuid

from switchboard_contracts.campaign import campaign_message_id
from switchboard_contracts.conversation import conversation_id
from switchboard_contracts.ids import SWITCHBOARD_NAMESPACE, deterministic_id


def test_ids_published_before_stay_the_same():
    assert conversation_id("org-1", "7c9e6679-7425-40de-944b-e07fc1f90ae7", "+4915112345678") == \
        "0b615970-64da-5404-815a-264c87856a66"
    assert campaign_message_id("c-1", "+5511987654321") == "00dadd53-9ff3-54e5-9249-f3e1430d541a"


def test_every_id_is_the_uuid5_of_its_joined_parts():
    rnd = random.Random(17)
    alphabet = string.printable + "äßé€😀\x1f"
    for _ in range(5000):
        parts = [rnd.choice(["conversation", "message", 5, None, 2.5, "ä€😀"])] + [
            "".join(rnd.choices(alphabet, k=rnd.randint(0, 40))) for _ in range(rnd.randint(0, 4))]
        expected = str(uuid.uuid5(SWITCHBOARD_NAMESPACE, "\x1f".join(str(p) for p in parts)))
        got = deterministic_id(*parts)
        assert got == expected, parts
        assert uuid.UUID(got).version == 5 and uuid.UUID(got).variant == uuid.RFC_4122
