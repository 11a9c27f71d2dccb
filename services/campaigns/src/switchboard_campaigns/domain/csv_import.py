"""Contacts streamed from a CSV upload: the caller brings the bytes (an async iterator of chunks) and
stores the batches; the import holds one line and one batch at a time, whatever the file's size.
Pure."""

from __future__ import annotations

import csv
from collections import deque
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import NamedTuple

from .contacts import BadUpload, Contact, ContactRows, ImportReport, variable_name

BATCH = 1_000               # contacts per yielded batch
PHONE_COLUMNS = ("phone", "number", "phone_number", "telefone", "whatsapp")
NAME_COLUMNS = ("name", "nome", "first_name")


class _NeedMore(Exception):
    """The csv reader asked for a line that has not arrived yet."""


class _Feed:
    """The csv reader's source: the lines received so far. It remembers the lines the current
    record took, so that an unfinished record can be handed again once more lines arrive."""

    def __init__(self) -> None:
        self.queue: deque[str] = deque()
        self.taken: list[str] = []
        self.ended = False

    def __iter__(self) -> _Feed:
        return self

    def __next__(self) -> str:
        if self.queue:
            line = self.queue.popleft()
            self.taken.append(line)
            return line
        if self.ended:
            raise StopIteration
        raise _NeedMore


class CsvImport:
    """One CSV upload, streamed: `async for batch in CsvImport(...).batches(chunks)`, with
    `.report` for progress and the final answer. Header row with a phone column (or an alias),
    optional name column, every other column a variable; `,`, `;` or tab as delimiter; UTF-8
    with or without BOM. It holds at most one line (`max_line_bytes`) besides the chunk being
    read: a longer line is skipped to its end and rejected, never buffered whole.

    BadUpload (bad encoding, no phone column) may come after some batches were yielded — an
    invalid byte can sit at the end of the file — so the caller stages the batches and keeps
    them only when the import completes."""

    def __init__(self, *, default_region: str | None, required: Iterable[str],
                 max_field_bytes: int = 64 * 1024, max_line_bytes: int = 256 * 1024,
                 report: ImportReport | None = None):
        self.report = report if report is not None else ImportReport()
        self.max_field_bytes, self.max_line_bytes = max_field_bytes, max_line_bytes
        self.max_buffered = 0          # the most held between chunks (unfinished line and record)
        self._rows = ContactRows(self.report, default_region, required)
        self._partial = bytearray()    # the unfinished last line
        self._skipping = 0             # > 0: inside an over-long line, this many bytes skipped
        self._offset = 0               # byte offset of the next line's start
        self._line = 0                 # number of the last line received
        self._record_line = 1          # number of the current record's first line
        self._feed = _Feed()
        self._reader: Iterator[list[str]] | None = None
        self._columns: _Header | None = None

    async def batches(self, chunks: AsyncIterator[bytes]) -> AsyncIterator[list[Contact]]:
        """Batches of at most BATCH contacts; raises BadUpload if the file cannot be read at all."""
        batch: list[Contact] = []
        async for chunk in chunks:
            self.report.bytes_read += len(chunk)
            for contact in self._chunk(chunk):
                batch.append(contact)
                if len(batch) >= BATCH:
                    yield batch
                    batch = []
        for contact in self._end():
            batch.append(contact)
            if len(batch) >= BATCH:
                yield batch
                batch = []
        if batch:
            yield batch

    # --- bytes → lines ------------------------------------------------------------------------

    def _chunk(self, chunk: bytes) -> Iterator[Contact]:
        """Split off the complete lines (an unfinished one waits for the next chunk), parse them."""
        if self._skipping:
            newline = chunk.find(b"\n")
            if newline < 0:
                self._skipping += len(chunk)
                return
            yield from self._too_long(self._skipping + newline + 1)
            self._skipping, chunk = 0, chunk[newline + 1:]
        parts = chunk.split(b"\n")
        tail = parts.pop()
        if parts and self._partial:
            parts[0] = bytes(self._partial) + parts[0]
            self._partial.clear()
        limit = self.max_line_bytes
        for raw in parts:
            if len(raw) >= limit:
                yield from self._too_long(len(raw) + 1)
            else:
                self._received(raw)
        yield from self._drain()
        if len(self._partial) + len(tail) >= limit:
            self._skipping = len(self._partial) + len(tail)
            self._partial.clear()
        else:
            self._partial += tail
        held = len(self._partial) + sum(map(len, self._feed.queue))   # unfinished line and record
        self.max_buffered = max(self.max_buffered, held)

    def _end(self) -> Iterator[Contact]:
        """The last line (it may lack its newline) and whatever record is still open."""
        if self._skipping:
            yield from self._too_long(self._skipping)
        elif self._partial:
            self._received(bytes(self._partial))
            self._partial.clear()
        self._feed.ended = True
        yield from self._drain()
        if self._columns is None:
            raise BadUpload("the file is empty" if self._line == 0 else "the file has no header row")

    def _received(self, raw: bytes) -> None:
        """Decode one complete line and queue it for the csv reader (a UTF-8 multi-byte sequence
        never contains b"\n", so splitting the bytes first is safe); the first line that is not
        blank is the header and decides the delimiter."""
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadUpload(_not_utf8(raw, self._offset + exc.start)) from None
        self._offset += len(raw) + 1
        self._line += 1
        if self._reader is None:
            if self._line == 1:
                text = text.removeprefix("\ufeff")
            if not text.strip():
                self._record_line += 1
                return
            delimiter = max(",;\t", key=text.count)   # the header decides; a tie goes to ","
            self._reader = csv.reader(self._feed, delimiter=delimiter, strict=True)
        self._feed.queue.append(text + "\n")

    def _too_long(self, size: int) -> Iterator[Contact]:
        """A line over max_line_bytes, skipped without being held: it ends the record it is in."""
        yield from self._drain()
        self._offset += size
        self._line += 1
        if self._columns is None:
            raise BadUpload(f"the header line is longer than {self.max_line_bytes} bytes")
        self.report.rows_seen += 1
        self.report.reject(self._record_line, f"line too long (over {self.max_line_bytes} bytes)")
        self._feed.taken.clear()
        self._feed.queue.clear()
        self._record_line = self._line + 1

    # --- lines → records → contacts --------------------------------------------------------

    def _drain(self) -> Iterator[Contact]:
        """Parse every complete record queued; keep an unfinished one for the next chunk."""
        feed, reader = self._feed, self._reader
        while feed.queue and reader is not None:
            reason = ""
            try:
                row: list[str] | None = next(reader)
            except _NeedMore:
                if sum(map(len, feed.taken)) < self.max_line_bytes:
                    feed.queue.extend(feed.taken)
                    feed.taken.clear()
                    return
                self._unclosed()
                continue
            except csv.Error as exc:
                if feed.ended and not feed.queue and "unexpected end" in str(exc):
                    self._unclosed()   # the file ended inside a quoted field
                    continue
                if self._columns is None:
                    raise BadUpload(f"the header row is malformed ({exc})") from None
                row = None
                reason = f"malformed CSV ({exc})"
                if "field limit" in str(exc):   # the csv module's own cap, checked before ours
                    reason = f"field too long (over {csv.field_size_limit()} characters)"
            except StopIteration:
                return
            line, self._record_line = self._record_line, self._record_line + len(feed.taken)
            feed.taken.clear()
            if row is None:
                self.report.rows_seen += 1
                self.report.reject(line, reason)
            elif "".join(row).strip():   # blank lines (and rows of empty fields) are skipped
                contact = self._contact(line, row)
                if contact:
                    yield contact

    def _unclosed(self) -> None:
        """A quote opened on the record's first line never closed: reject that line only and
        read the lines after it afresh."""
        feed = self._feed
        if self._columns is None:
            raise BadUpload("the header row has an unclosed quote")
        self.report.rows_seen += 1
        self.report.reject(self._record_line, "unclosed quote")
        feed.queue.extendleft(reversed(feed.taken[1:]))
        feed.taken.clear()
        self._record_line += 1

    def _contact(self, line: int, row: list[str]) -> Contact | None:
        if self._columns is None:
            self._columns = _header(row)
            return None
        header, size = self._columns, len(row)
        for value in row:
            if len(value) > self.max_field_bytes // 4 and len(value.encode()) > self.max_field_bytes:
                self.report.rows_seen += 1
                self.report.reject(line, f"field too long ({len(value.encode())} bytes)")
                return None
        if size > header.width and "".join(row[header.width:]).strip():
            self.report.rows_seen += 1
            self.report.reject(line, f"{size} fields but the header has {header.width} columns")
            return None
        name = None
        if header.name is not None and header.name < size:
            name = row[header.name].strip() or None
        variables = {key: row[at].strip() for at, key in header.variables if at < size and row[at].strip()}
        return self._rows.contact(line, row[header.phone] if header.phone < size else "", name, variables)


async def read_csv(chunks: AsyncIterator[bytes], report: ImportReport, *, default_region: str | None,
                   required: Iterable[str], max_field_bytes: int = 64 * 1024,
                   max_line_bytes: int = 256 * 1024) -> AsyncIterator[list[Contact]]:
    """`CsvImport(...).batches(chunks)`, tallying into `report`."""
    upload = CsvImport(default_region=default_region, required=required, report=report,
                       max_field_bytes=max_field_bytes, max_line_bytes=max_line_bytes)
    async for batch in upload.batches(chunks):
        yield batch


class _Header(NamedTuple):
    phone: int                         # column indexes
    name: int | None
    variables: list[tuple[int, str]]   # (column, variable name)
    width: int


def _header(row: list[str]) -> _Header:
    names = [variable_name(value) for value in row]
    phone_at = next((names.index(a) for a in PHONE_COLUMNS if a in names), None)
    if phone_at is None:
        listed = ", ".join(repr(value.strip()) for value in row if value.strip()) or "none"
        raise BadUpload(f"missing phone column; columns are: {listed}")
    name_at = next((names.index(a) for a in NAME_COLUMNS if a in names), None)
    variables = [(at, n) for at, n in enumerate(names) if n and at not in (phone_at, name_at)]
    seen: set[str] = set()
    for _, n in variables:
        if n in seen:
            raise BadUpload(f"duplicate column {n!r}")
        seen.add(n)
    return _Header(phone_at, name_at, variables, len(names))


def _not_utf8(raw: bytes, offset: int) -> str:
    if offset == 0 and raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return "the file is UTF-16 text, not UTF-8 (save it as “CSV UTF-8”)"
    return f"the file is not UTF-8 text (byte offset {offset})"
