"""The audit file format (switchboard_runtime.audit), pure: a file verifies as written, and each kind of
tampering is found and names the first record it touched."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from switchboard_runtime import audit

KEY = "audit-test-secret-key"
SINCE = datetime(2026, 5, 1, tzinfo=UTC)
UNTIL = datetime(2026, 5, 2, tzinfo=UTC)
CREATED = datetime(2026, 5, 3, 12, 0, 0, tzinfo=UTC)


def events(n: int = 60) -> list[tuple[int, bytes]]:
    return [(100 + 3 * i, json.dumps({"specversion": "1.0", "id": f"e{i}", "type": "switchboard.message.received.v1",
                                      "orgid": "org1", "data": {"text": f"hello {i} ü"}},
                                     separators=(",", ":"), ensure_ascii=False).encode())
            for i in range(n)]


def file_lines(evs=None, key: str = KEY) -> list[bytes]:
    return list(audit.export_lines("org1", SINCE, UNTIL, CREATED, key, events() if evs is None else evs))


def check(lines: list[bytes], **keys) -> audit.VerifyResult:
    return audit.verify_lines(b"".join(lines).split(b"\n"), **(keys or {"secret_key": KEY}))


def test_a_file_verifies_with_the_secret_key_and_with_the_public_key() -> None:
    lines = file_lines()
    assert len(lines) == 62 and lines[0].startswith(b'{"audit":"switchboard.audit.v1"')
    ok = check(lines)
    assert ok.ok, ok.problem
    assert ok.records == 60 and ok.manifest["first_sequence"] == 100 and ok.manifest["last_sequence"] == 277
    assert ok.manifest["count"] == 60 and ok.header["org"] == "org1"
    assert check(lines, public_key=audit.public_key_of(KEY)).ok
    # each record carries the exact event bytes after a fixed prefix
    rec = audit.parse_record(lines[5], 5)
    assert rec is not None and rec.event == events()[4][1] and rec.sequence == events()[4][0]


def test_a_changed_byte_names_the_record() -> None:
    lines = file_lines()
    lines[42] = lines[42].replace(b"hello 41", b"hellO 41")
    result = check(lines)
    assert not result.ok and result.kind == "changed"
    assert (result.record, result.sequence) == (42, events()[41][0])
    assert str(result) == f"record 42 (sequence {events()[41][0]}): its event was changed"


def test_a_changed_sequence_is_a_changed_record() -> None:
    lines = file_lines()
    lines[10] = lines[10].replace(b'"sequence":127,', b'"sequence":128,')
    result = check(lines)
    assert not result.ok and result.kind == "changed" and result.record == 10


def test_a_removed_record_is_named() -> None:
    lines = file_lines()
    del lines[30]  # record 30
    result = check(lines)
    assert not result.ok and result.kind == "removed" and result.record == 30
    assert result.sequence == events()[30][0]  # the record now at 30 is the old 31st
    assert "record 30 was removed" in str(result)


def test_the_first_record_removed_is_not_taken_for_a_changed_header() -> None:
    lines = file_lines()
    del lines[1]
    result = check(lines)
    assert not result.ok and result.kind == "removed" and result.record == 1


def test_two_swapped_records_are_named() -> None:
    lines = file_lines()
    lines[20], lines[21] = lines[21], lines[20]
    result = check(lines)
    assert not result.ok and result.kind == "reordered" and result.record == 20
    assert result.sequence == events()[20][0]


def test_a_record_moved_far_is_named() -> None:
    lines = file_lines()
    moved = lines.pop(5)
    lines.insert(50, moved)
    result = check(lines)
    assert not result.ok and result.record == 5 and result.kind in ("removed", "reordered")


def test_a_truncated_file_is_found() -> None:
    lines = file_lines()
    cut = lines[:-11] + lines[-1:]  # the last ten records gone, the manifest kept
    result = check(cut)
    assert not result.ok and result.kind == "truncated" and result.record == 51
    assert "51–60 are missing" in str(result)
    no_manifest = check(lines[:-1])
    assert not no_manifest.ok and no_manifest.kind == "truncated" and "no manifest" in str(no_manifest)


def test_a_wrong_key_fails_the_signature() -> None:
    lines = file_lines()
    result = check(lines, secret_key="another-key")
    assert not result.ok and result.kind == "signature"
    assert not check(lines, public_key=audit.public_key_of("another-key")).ok
    forged = file_lines(key="another-key")  # signed with another platform's key: not ours
    assert check(forged).kind == "signature"


def test_a_changed_header_or_manifest_is_found() -> None:
    lines = file_lines()
    header = lines[:]
    header[0] = header[0].replace(b'"org":"org1"', b'"org":"org2"')
    assert check(header).kind == "header"
    manifest = lines[:]
    manifest[-1] = manifest[-1].replace(b'"count":60', b'"count":59')
    assert check(manifest).kind == "signature"
    # the last record dropped and the chain consistent up to there, under the original signed manifest
    assert check(lines[:-2] + lines[-1:]).kind == "truncated"
    # the records rewritten with a recomputed chain (a changed event, hashes made to fit): the signed final hash differs
    evs = events()
    evs[7] = (evs[7][0], evs[7][1].replace(b"hello 7", b"hullo 7"))
    recomputed = file_lines(evs)
    result = check(recomputed[:-1] + lines[-1:])
    assert not result.ok and result.kind == "manifest"


def test_events_that_are_not_one_line_of_json_keep_their_exact_bytes() -> None:
    odd = [(1, b'{\n  "id": "pretty"\n}'), (2, b"not json at all"), (3, b'{"id":"plain"}')]
    lines = file_lines(odd)
    assert all(line.count(b"\n") == 1 for line in lines)
    assert b'"event_b64":' in lines[1] and b'"event_b64":' in lines[2] and b'"event":{"id":"plain"}' in lines[3]
    assert check(lines).ok
    assert audit.parse_record(lines[1], 1).event == odd[0][1]
    tampered = lines[:]
    tampered[2] = tampered[2].replace(b'"event_b64":"', b'"event_b64":"QQ')
    assert check(tampered).record == 2


def test_an_empty_range_verifies_and_cannot_be_padded() -> None:
    lines = file_lines([])
    assert check(lines).ok and check(lines).records == 0
    padded = [lines[0], file_lines()[1], lines[1]]
    assert not check(padded).ok


def test_no_key_no_file() -> None:
    with pytest.raises(ValueError):
        list(audit.export_lines("org1", SINCE, UNTIL, CREATED, "", events()))
    with pytest.raises(ValueError):
        audit.verify_lines(file_lines())
