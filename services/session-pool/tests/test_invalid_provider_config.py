"""A sender whose configuration an HTTP client refuses (a URL it cannot use, a token that cannot go
into a header) is disconnected with the reason at its first attempt — no retry chain — like a sender
whose credentials the provider refused; nothing secret is in the reason."""

from __future__ import annotations

import asyncio

from switchboard_contracts import commands
from switchboard_contracts.ids import new_id
from switchboard_runtime.sealing import Sealer
from switchboard_devkit.testing.plugin import TEST_SECRET_KEY
from switchboard_devkit.testing.fake_graph import running_fake_graph

from .helpers import collect_events, command, publish_command, running_session_pool

FAST = {"reconnect_base_seconds": 0.2, "reconnect_cap_seconds": 1.0, "human_pacing": False}


def meta(sender_id: str, base_url: str, token: str) -> commands.RegisterSender:
    return commands.RegisterSender(
        sender_id=sender_id, name="meta", provider="meta-cloud",
        config={"phone_number_id": str(abs(hash(sender_id)) % 10**12), "waba_id": "1022",
                "api_base_url": base_url, "api_version": "v23.0"},
        sealed_credentials=Sealer(TEST_SECRET_KEY).seal({"access_token": token, "app_secret": "s",
                                                          "verify_token": "v"}))


def waha(sender_id: str, base_url: str, key: str = "k") -> commands.RegisterSender:
    return commands.RegisterSender(sender_id=sender_id, name="web", provider="waha",
                                   config={"base_url": base_url, "session": f"s{sender_id[:8]}"},
                                   sealed_credentials=Sealer(TEST_SECRET_KEY).seal({"api_key": key}))


def lifecycle(events, sender_id):
    return [e.type.split(".")[2] for e in events if e.subject == sender_id]


async def test_a_configuration_the_client_refuses_disconnects_for_good(nats_url, database_url):
    org = new_id()
    async with running_fake_graph() as graph:
        cases = {  # sender → what is wrong, and what its reason says
            new_id(): (meta, "https://☃-⌘.com", "EAAB-good", "URL"),
            new_id(): (meta, "https://graph.exa\x01mple.com", "EAAB-good", "URL"),
            new_id(): (meta, graph.url, "EAAB-ñandú", "header"),
            new_id(): (waha, "http://wa\x07ha:3000", None, "URL"),
            new_id(): (waha, graph.url, "kéy", "header"),
        }
        async with running_session_pool(nats_url, database_url, **FAST) as js:
            for sid, (kind, url, secret, _) in cases.items():
                cmd = kind(sid, url, secret) if secret else kind(sid, url)
                await publish_command(js, command(org, commands.REGISTER_SENDER, cmd))
            events = await collect_events(js, f"sb.evt.{org}.sender.*", lambda evs: all(
                "disconnected" in lifecycle(evs, sid) for sid in cases), timeout=15)
            await asyncio.sleep(1.5)  # a retry chain would have attempted again (0.2 s, 0.4 s, 0.8 s…)
            events = await collect_events(js, f"sb.evt.{org}.sender.*", lambda evs: all(
                "disconnected" in lifecycle(evs, sid) for sid in cases))
    for sid, (_, _, secret, says) in cases.items():
        gone = [e for e in events if e.subject == sid and e.type.endswith("disconnected.v1")]
        assert len(gone) == 1 and lifecycle(events, sid).count("connecting") == 1, lifecycle(events, sid)
        assert gone[0].data["retry_in_seconds"] is None and gone[0].data["code"] == "invalid_config"
        assert says in gone[0].data["reason"]
        assert not secret or secret not in gone[0].to_json_bytes().decode()
