"""A service's own process (`process.run`) settles its heap once the service has started; a process
that hosts services among other things (the tests) keeps Python's collector settings."""

from __future__ import annotations

import gc
import json
import subprocess
import sys

from switchboard_runtime import process

PROGRAM = """
import gc, json
from switchboard_runtime import process

async def main(stop):
    before = gc.get_threshold()
    process.started()
    print(json.dumps([before, gc.get_threshold(), gc.get_freeze_count()]))

process.run(main)
"""


def test_a_service_process_settles_its_heap_once_started():
    out = subprocess.run([sys.executable, "-c", PROGRAM], capture_output=True, text=True, timeout=60, check=True)
    before, after, frozen = json.loads(out.stdout)
    assert before != [20_000, 20, 20] and after == [20_000, 20, 20] and frozen > 0, out.stdout


def test_a_service_hosted_in_another_program_leaves_the_collector_alone():
    threshold, frozen = gc.get_threshold(), gc.get_freeze_count()
    process.started()
    assert (gc.get_threshold(), gc.get_freeze_count()) == (threshold, frozen)
