"""The tamper-evident audit file (docs/audit.md), as pure functions: no I/O, no clock.

A file is JSON lines, split on b"\\n" only:

    {"audit":"switchboard.audit.v1","org":…,"since":…,"until":…,"created":…,"stream":"SWITCHBOARD_EVENTS"}
    {"sequence":1093,"prev":"<hex>","hash":"<hex>","event":<the event's exact stored bytes>}
    …
    {"manifest":{…},"signature":{"alg":"Ed25519","key_id":…,"public_key":…,"value":…}}

The chain: h0 = SHA-256("switchboard.audit.v1 header\\0" + the header line's bytes); each record's
hash = SHA-256(previous hash (32 bytes) + its stream sequence (8 bytes, big-endian) + the event's bytes);
`prev` repeats the previous hash so that a verifier can tell a changed record from a removed or moved one.
An event whose bytes are not one line of JSON object (a raw newline, not `{…}`) is written as
`"event_b64":"<base64>"` instead; the hash covers its exact bytes all the same.

The manifest (org, since, until, created, header hash, first and last sequence, count, final hash) is
signed with Ed25519; the private key is derived from the platform's secret key (HKDF-SHA256), so anyone
given the public key (`public_key_of(secret)`, `switchboard events audit-key`) can check a file, and only
the holder of the secret key can sign one."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

FORMAT = "switchboard.audit.v1"
STREAM = "SWITCHBOARD_EVENTS"
_HEADER_DOMAIN = b"switchboard.audit.v1 header\x00"
_MANIFEST_DOMAIN = b"switchboard.audit.v1 manifest\x00"
_KDF_INFO = b"switchboard/audit-signing/ed25519/v1"
_RECORD = re.compile(rb'\{"sequence":(\d+),"prev":"([0-9a-f]{64})","hash":"([0-9a-f]{64})","(event|event_b64)":')
LOOKAHEAD = 10_000  # records a verifier reads past a broken link to tell "moved" from "removed"


# --- keys ---------------------------------------------------------------------------------------

def signing_key(secret_key: str) -> Ed25519PrivateKey:
    """The audit signing key derived from SWITCHBOARD_SECRET_KEY (HKDF-SHA256, no salt, fixed info)."""
    if not secret_key:
        raise ValueError("no secret key (SWITCHBOARD_SECRET_KEY) to sign the audit manifest with")
    seed = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_KDF_INFO).derive(secret_key.encode())
    return Ed25519PrivateKey.from_private_bytes(seed)


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def public_key_of(secret_key: str) -> str:
    """The verification key (base64 of the raw 32-byte Ed25519 public key) to hand to auditors."""
    return base64.b64encode(_raw_public(signing_key(secret_key).public_key())).decode()


def key_id(public_key_b64: str) -> str:
    return hashlib.sha256(base64.b64decode(public_key_b64)).hexdigest()[:16]


def _public_key(public_key_b64: str) -> Ed25519PublicKey:
    try:
        raw = base64.b64decode(public_key_b64, validate=True)
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError as exc:
        raise ValueError(f"not a base64 Ed25519 public key: {exc}") from exc


# --- writing ------------------------------------------------------------------------------------

def _rfc3339(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def _canonical(obj: dict) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def header_line(org: str, since: datetime | None, until: datetime | None, created: datetime) -> bytes:
    header = {"audit": FORMAT, "org": org, "since": _rfc3339(since) if since else None,
              "until": _rfc3339(until) if until else None, "created": _rfc3339(created), "stream": STREAM}
    return json.dumps(header, separators=(",", ":")).encode() + b"\n"


def header_hash(line: bytes) -> bytes:
    return hashlib.sha256(_HEADER_DOMAIN + line.rstrip(b"\n")).digest()


def record_hash(prev: bytes, sequence: int, event: bytes) -> bytes:
    return hashlib.sha256(prev + sequence.to_bytes(8, "big") + event).digest()


def _one_line_json(event: bytes) -> bool:
    return event[:1] == b"{" and event[-1:] == b"}" and b"\n" not in event and b"\r" not in event


def record_line(sequence: int, prev: bytes, digest: bytes, event: bytes) -> bytes:
    head = b'{"sequence":%d,"prev":"%s","hash":"%s",' % (sequence, prev.hex().encode(), digest.hex().encode())
    if _one_line_json(event):
        return b"".join((head, b'"event":', event, b"}\n"))
    return b"".join((head, b'"event_b64":"', base64.b64encode(event), b'"}\n'))


def _signed_bytes(manifest: dict) -> bytes:
    return _MANIFEST_DOMAIN + _canonical(manifest)


class AuditWriter:
    """Builds the file line by line: `header()`, then `record(seq, event)` for each event in stream
    order, then `manifest()`. Holds only the running chain."""

    def __init__(self, org: str, since: datetime | None, until: datetime | None, created: datetime,
                 secret_key: str):
        self._key = signing_key(secret_key)  # fails now, before a line is written, without a key
        self.org, self.since, self.until, self.created = org, since, until, created
        self.count = 0
        self.first: int | None = None
        self.last: int | None = None
        self._header_hash = b""
        self._prev = b""

    def header(self) -> bytes:
        line = header_line(self.org, self.since, self.until, self.created)
        self._header_hash = self._prev = header_hash(line)
        return line

    def record(self, sequence: int, event: bytes) -> bytes:
        digest = hashlib.sha256(self._prev + sequence.to_bytes(8, "big") + event).digest()
        line = record_line(sequence, self._prev, digest, event)
        self._prev = digest
        self.count += 1
        if self.first is None:
            self.first = sequence
        self.last = sequence
        return line

    def manifest(self) -> bytes:
        manifest = {"org": self.org, "since": _rfc3339(self.since) if self.since else None,
                    "until": _rfc3339(self.until) if self.until else None, "created": _rfc3339(self.created),
                    "header_hash": self._header_hash.hex(), "first_sequence": self.first,
                    "last_sequence": self.last, "count": self.count, "final_hash": self._prev.hex()}
        public = base64.b64encode(_raw_public(self._key.public_key())).decode()
        signature = {"alg": "Ed25519", "key_id": key_id(public), "public_key": public,
                     "value": base64.b64encode(self._key.sign(_signed_bytes(manifest))).decode()}
        return json.dumps({"manifest": manifest, "signature": signature}, separators=(",", ":")).encode() + b"\n"


def export_lines(org: str, since: datetime | None, until: datetime | None, created: datetime, secret_key: str,
                 events: Iterable[tuple[int, bytes]]) -> Iterator[bytes]:
    """The whole file for `(sequence, event bytes)` pairs in stream order, line by line."""
    writer = AuditWriter(org, since, until, created, secret_key)
    yield writer.header()
    for sequence, event in events:
        yield writer.record(sequence, event)
    yield writer.manifest()


# --- verifying ----------------------------------------------------------------------------------

@dataclass
class Record:
    position: int  # 1-based, counting records only (not the header)
    sequence: int
    prev: bytes
    digest: bytes
    event: bytes


@dataclass
class VerifyResult:
    ok: bool
    problem: str | None = None  # what is wrong, naming the first bad record ("record 42 (sequence 1093): …")
    kind: str | None = None  # changed | removed | reordered | truncated | header | manifest | signature | format
    record: int | None = None  # the first bad record's position (1-based), where one can be named
    sequence: int | None = None  # and its stream sequence
    records: int = 0  # records read
    header: dict | None = None
    manifest: dict = field(default_factory=dict)
    key_id: str | None = None

    def __str__(self) -> str:
        if self.ok:
            m = self.manifest
            return (f"ok: {self.records} records of {m.get('org')}, sequences {m.get('first_sequence')}–"
                    f"{m.get('last_sequence')}, signed by key {self.key_id}")
        return self.problem or "invalid"


class _Bad(Exception):
    def __init__(self, kind: str, problem: str, record: Record | None = None, position: int | None = None):
        super().__init__(problem)
        self.kind, self.problem = kind, problem
        self.position = record.position if record else position
        self.sequence = record.sequence if record else None


def parse_record(line: bytes, position: int) -> Record | None:
    """A record line's fields and the exact event bytes; None if the line is not a record."""
    line = line.rstrip(b"\n")
    m = _RECORD.match(line)
    if m is None or not line.endswith(b"}"):
        return None
    body = line[m.end():-1]
    if m.group(4) == b"event_b64":
        if not (body.startswith(b'"') and body.endswith(b'"')):
            return None
        try:
            body = base64.b64decode(body[1:-1], validate=True)
        except ValueError:
            return None
    return Record(position, int(m.group(1)), bytes.fromhex(m.group(2).decode()),
                  bytes.fromhex(m.group(3).decode()), body)


def _name(r: Record) -> str:
    return f"record {r.position} (sequence {r.sequence})"


def verify_lines(lines: Iterable[bytes], *, secret_key: str | None = None,
                 public_key: str | None = None) -> VerifyResult:
    """Check an audit file given as its lines (bytes, split on b"\\n" only) against the signer's public
    key (base64) or the secret key it derives from. The result names the first record that was
    changed, removed or moved, or what else is wrong (header, truncation, manifest, signature)."""
    if public_key is None and not secret_key:
        raise ValueError("verifying needs the signer's public key or the secret key")
    trusted = _public_key(public_key) if public_key is not None else signing_key(secret_key or "").public_key()
    result = VerifyResult(ok=False)
    it = iter(lines)
    try:
        _verify(it, trusted, result)
    except _Bad as bad:
        result.ok, result.kind, result.problem = False, bad.kind, bad.problem
        result.record, result.sequence = bad.position, bad.sequence
        return result
    result.ok = True
    return result


def _verify(it: Iterator[bytes], trusted: Ed25519PublicKey, result: VerifyResult) -> None:
    first = next(it, None)
    if first is None:
        raise _Bad("format", "the file is empty")
    try:
        header = json.loads(first)
    except ValueError:
        header = None
    if not isinstance(header, dict) or header.get("audit") != FORMAT:
        raise _Bad("header", f"line 1 is not a {FORMAT} header")
    result.header = header
    h0 = header_hash(first)
    prev = h0
    last_seq: int | None = None
    position = 0
    for line in it:
        if not line.strip():
            continue
        if line.startswith(b'{"manifest":'):
            _check_manifest(line, trusted, result, h0, prev, position, last_seq)
            for rest in it:
                if rest.strip():
                    raise _Bad("format", f"a line after the manifest (after record {position})", position=position)
            return
        position += 1
        rec = parse_record(line, position)
        if rec is None:
            raise _Bad("format", f"record {position}: not a record line (changed or damaged)", position=position)
        result.records = position
        if rec.prev != prev and record_hash(prev, rec.sequence, rec.event) != rec.digest:
            raise _link_broken(rec, prev, h0, last_seq, it)
        if record_hash(prev, rec.sequence, rec.event) != rec.digest:
            raise _Bad("changed", f"{_name(rec)}: its event was changed", rec)
        if last_seq is not None and rec.sequence <= last_seq:
            raise _Bad("reordered", f"{_name(rec)}: out of order (after sequence {last_seq})", rec)
        prev, last_seq = rec.digest, rec.sequence
    raise _Bad("truncated", f"no manifest: the file is truncated after record {position}", position=position + 1)


def _link_broken(rec: Record, prev: bytes, h0: bytes, last_seq: int | None, it: Iterator[bytes]) -> _Bad:
    """The record does not follow the one before it: the header changed (record 1), a record before it
    was removed, or records were moved (its predecessor comes later in the file)."""
    if last_seq is not None and rec.sequence <= last_seq:
        return _Bad("reordered", f"{_name(rec)}: out of order (after sequence {last_seq})", rec)
    signed_header: str | None = None
    for n, line in enumerate(it):  # does its predecessor come later? then it was moved up
        if line.startswith(b'{"manifest":'):
            try:
                signed_header = json.loads(line)["manifest"]["header_hash"]
            except (ValueError, KeyError, TypeError):
                pass
            break
        if n >= LOOKAHEAD:
            break
        later = parse_record(line, rec.position + 1 + n)
        if later is not None and later.digest == rec.prev:
            return _Bad("reordered", f"{_name(rec)}: out of order (records were moved; sequence "
                                     f"{later.sequence} belongs before it)", rec)
    if rec.position == 1 and signed_header is not None and signed_header != h0.hex():
        return _Bad("header", "the header was changed (record 1 does not follow it)", rec)
    if rec.position == 1:
        return _Bad("removed", f"record 1 was removed (the first record, sequence {rec.sequence}, does not "
                               f"follow the header)", rec)
    return _Bad("removed", f"record {rec.position} was removed (the record now at {rec.position}, "
                           f"sequence {rec.sequence}, does not follow record {rec.position - 1})", rec)


def _check_manifest(line: bytes, trusted: Ed25519PublicKey, result: VerifyResult, h0: bytes, final: bytes,
                    count: int, last_seq: int | None) -> None:
    try:
        doc = json.loads(line)
        manifest, signature = doc["manifest"], doc["signature"]
        value = base64.b64decode(signature["value"], validate=True)
    except (ValueError, KeyError, TypeError) as exc:
        raise _Bad("manifest", f"the manifest line is damaged ({exc!r})") from exc
    if not isinstance(manifest, dict):
        raise _Bad("manifest", "the manifest line is damaged")
    result.manifest = manifest
    result.key_id = key_id(base64.b64encode(_raw_public(trusted)).decode())
    try:
        trusted.verify(value, _signed_bytes(manifest))
    except InvalidSignature:
        raise _Bad("signature", "the manifest's signature does not verify with this key (wrong key, or the "
                                "manifest was changed)") from None
    header = result.header or {}
    for name in ("org", "since", "until", "created"):
        if header.get(name) != manifest.get(name):
            raise _Bad("header", f"the header was changed: its {name} is not the signed one")
    if manifest.get("header_hash") != h0.hex():
        raise _Bad("header", "the header was changed")
    expected = manifest.get("count")
    if isinstance(expected, int) and count < expected:
        raise _Bad("truncated", f"records {count + 1}–{expected} are missing: the file ends after record {count} "
                                f"(the manifest counts {expected})", position=count + 1)
    if expected != count or manifest.get("last_sequence") != last_seq or manifest.get("final_hash") != final.hex():
        raise _Bad("manifest", f"the records do not end as the signed manifest says (it counts {expected}, "
                               f"last sequence {manifest.get('last_sequence')}; the file has {count}, last "
                               f"sequence {last_seq}): records were added, or the chain was recomputed",
                   position=count)
