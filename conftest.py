"""How the suite is spread over its pytest-xdist workers (`-n 4 --dist loadgroup`, pyproject.toml).
Only where and in which order tests run changes here, never what runs.

- LONG tests take tens of seconds on their own. The longest go first, one to each worker, and each
  worker's second test is a short one (a worker is handed two tests to begin with: a long one second
  would wait behind the first); the other long tests follow. So they overlap the many short tests
  instead of ending the run on one worker while the other idles, and a long test that mostly waits
  (for a redelivery, say) leaves its core to the other worker.
- The tests of PLATFORM_MODULES drive the whole platform (the `platform` and `stoppable_platform`
  fixtures of tests/conftest.py): they are one unit of work, so one worker starts the shared platform
  for them all, those that stop it last (a LONG one among them runs on its own and starts the platform
  where it runs). Then every other test, as collected; each worker takes the next when it runs short.

xdist's own `loadgroup` names a group by rewriting node ids, which pytest 9 no longer reads; this
conftest gives `--dist loadgroup` a scheduler that groups by these two lists instead."""

from __future__ import annotations

import pytest

pytest_plugins = ["switchboard_devkit.testing.plugin"]

LONG = {  # node id → about how many seconds it takes alone (only the order follows from it)
    "tests/test_openapi_contract.py::test_schemathesis_finds_nothing": 200,
    "services/campaigns/tests/test_campaign_crash.py::"
    "test_sigkill_campaigns_and_session_pool_mid_run_sends_everyone_once": 50,
    "services/flows/tests/test_flows_crash.py::"
    "test_sigkill_flows_twice_mid_run_every_execution_completes_and_sends_each_message_once": 25,
    "services/session-pool/tests/test_crash_recovery.py::test_sigkill_mid_run_loses_and_duplicates_nothing": 35,
    "services/session-pool/tests/test_redelivery_after_outage.py::"
    "test_waiting_messages_are_not_announced_twice_after_a_long_stop": 31,  # 30 s of it an ack wait
}
PLATFORM_MODULES = {
    "tests/test_campaign_imports.py", "tests/test_campaigns.py", "tests/test_end_to_end.py",
    "tests/test_flows_end_to_end.py", "tests/test_inbox_end_to_end.py",
    "tests/test_messages_owner.py", "tests/test_openapi_contract.py", "tests/test_sender_api.py",
    "tests/test_templates_end_to_end.py", "tests/test_webhooks_end_to_end.py",
}
PLATFORM_FIXTURES = {"platform", "stoppable_platform"}
GROUP = "platform"


def _module(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


def _grouped(nodeid: str) -> bool:
    return _module(nodeid) in PLATFORM_MODULES and nodeid not in LONG


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items) -> None:
    strays = sorted({_module(i.nodeid) for i in items
                     if PLATFORM_FIXTURES & set(getattr(i, "fixturenames", ())) and not _grouped(i.nodeid)
                     and i.nodeid not in LONG})
    if strays:
        raise pytest.UsageError(f"{', '.join(strays)} drive the platform: add them to PLATFORM_MODULES in conftest.py")
    long = sorted((i for i in items if i.nodeid in LONG), key=lambda i: -LONG[i.nodeid])
    group = [i for i in items if _grouped(i.nodeid)]
    group.sort(key=lambda i: "stoppable_platform" in i.fixturenames)  # stable: those that stop it last
    rest = [i for i in items if i.nodeid not in LONG and not _grouped(i.nodeid)]
    workers = getattr(config, "workerinput", {}).get("workercount", 1)
    items[:] = long[:workers] + rest[:workers] + long[workers:] + group + rest[workers:]


@pytest.hookimpl(tryfirst=True, optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class Grouped(LoadScopeScheduling):
        """One unit of work per test, except the platform's tests: one unit for them all."""

        def _split_scope(self, nodeid: str) -> str:
            return GROUP if _grouped(nodeid) else nodeid

    return Grouped(config, log)
