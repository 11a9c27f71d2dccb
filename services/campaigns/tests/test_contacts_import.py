"""Contact import: E.164 normalization, the streaming CSV reader (delimiters, BOM, quoted
newlines, aliases, variables, duplicates, bad rows by line, bad uploads, bounded memory) and
the JSON list. Pure: no network, no files."""

from __future__ import annotations

import tracemalloc
from collections.abc import AsyncIterator, Iterator

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from switchboard_campaigns.domain.contacts import REJECTED_KEPT, BadUpload, Contact, ImportReport, Rejected
from switchboard_campaigns.domain.csv_import import CsvImport, read_csv
from switchboard_campaigns.domain.deduper import Deduper
from switchboard_campaigns.domain.json_import import read_json
from switchboard_campaigns.domain.phones import InvalidPhone, check_region, normalize


async def chunked(data: bytes, size: int = 7) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start:start + size]


async def import_csv(data: bytes | str, size: int = 7, *, region: str | None = "BR",
                     required: frozenset[str] = frozenset(),
                     **limits: int) -> tuple[list[Contact], CsvImport]:
    upload = CsvImport(default_region=region, required=set(required), **limits)
    raw = data.encode() if isinstance(data, str) else data
    contacts = [c async for batch in upload.batches(chunked(raw, size)) for c in batch]
    return contacts, upload


# --- phones ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("raw", "region", "e164"), [
    ("030 1234567", "DE", "+49301234567"),
    ("+49 (0)30 1234567", None, "+49301234567"),
    ("0049 30 1234567", None, "+49301234567"),
    ("0049-30-1234567", "US", "+49301234567"),        # 00 is taken as the international prefix
    ("(11) 98765-4321", "BR", "+5511987654321"),
    ("11 98765 4321", "br", "+5511987654321"),
    ("0055 11 98765-4321", "BR", "+5511987654321"),
    ("+55 (11) 98765-4321", "DE", "+5511987654321"),  # a country code wins over the region
    ("(415) 555-2671", "US", "+14155552671"),
    ("1-415-555-2671", "US", "+14155552671"),
    ("  +1 415.555.2671 ", None, "+14155552671"),
])
def test_normalizes_to_e164(raw: str, region: str | None, e164: str) -> None:
    assert normalize(raw, region) == e164


@pytest.mark.parametrize(("raw", "region", "reason"), [
    ("", "BR", "missing phone number"),
    ("call me", "BR", "not a phone number"),
    ("11 98765-4321", None, "no country code and no default region"),
    ("+999 1234567", None, "unknown country code"),
    ("+1 123 456 7890", None, "invalid number for its region"),
    ("12345", "DE", "invalid number for its region"),
    ("1" * 200, "DE", "not a phone number"),
])
def test_refuses_with_a_reason(raw: str, region: str | None, reason: str) -> None:
    with pytest.raises(InvalidPhone) as caught:
        normalize(raw, region)
    assert caught.value.reason == reason


def test_default_region_is_checked() -> None:
    assert check_region(" br ") == "BR"
    assert check_region(None) is None
    with pytest.raises(ValueError, match="unknown region"):
        check_region("XX")
    with pytest.raises(ValueError, match="unknown region"):
        CsvImport(default_region="Brazil", required=set())


_TYPES = (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE)
_EXAMPLES = [n for r in sorted(phonenumbers.SUPPORTED_REGIONS) for t in _TYPES
             if (n := phonenumbers.example_number_for_type(r, t)) is not None]


@given(st.sampled_from(_EXAMPLES), st.sampled_from(["e164", "international", "national", "00"]))
def test_every_way_of_writing_a_number_gives_one_e164(number: phonenumbers.PhoneNumber, form: str) -> None:
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    region = phonenumbers.region_code_for_number(number)
    formats = phonenumbers.PhoneNumberFormat
    written = {"e164": e164, "00": "00" + e164[1:],
               "international": phonenumbers.format_number(number, formats.INTERNATIONAL),
               "national": phonenumbers.format_number(number, formats.NATIONAL)}[form]
    assert normalize(written, region) == e164
    if form != "national":
        assert normalize(written, None) == e164
    assert normalize(e164, "US") == e164   # idempotent, whatever the default region


# --- dedupe ---------------------------------------------------------------------------------------

@given(st.lists(st.integers(min_value=1, max_value=10**15 - 1), max_size=3_000))
@settings(max_examples=50)
def test_deduper_agrees_with_a_set(numbers: list[int]) -> None:
    deduper, model = Deduper(), set()
    for n in numbers:
        assert deduper.seen(f"+{n}") == (n in model)
        model.add(n)
    assert len(deduper) == len(model)


def test_deduper_takes_a_fraction_of_the_memory_of_a_set_of_strings() -> None:
    phones = [f"+55119{n:08d}" for n in range(100_000)]
    tracemalloc.start()
    try:
        deduper = Deduper()
        for phone in phones:
            deduper.seen(phone)
        deduper_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        strings = {phone[1:] + "" for phone in phones}
        set_size = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert len(deduper) == len(strings) == 100_000
    assert deduper_peak < set_size / 3, (deduper_peak, set_size)


def test_deduper_holds_a_million_phones() -> None:
    deduper = Deduper()
    assert not any(deduper.seen(f"+55119{n:08d}") for n in range(1_000_000))
    assert len(deduper) == 1_000_000
    assert deduper.seen("+5511900000000") and deduper.seen("+5511900999999")
    assert not deduper.seen("+5511901000000")


def test_deduper_wants_e164() -> None:
    with pytest.raises(ValueError):
        Deduper().seen("5511987654321")


# --- CSV: shape of the file -----------------------------------------------------------------------

@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
async def test_reads_each_delimiter(delimiter: str) -> None:
    text = delimiter.join(["phone", "name", "city"]) + "\n" + delimiter.join(
        ["(11) 98765-4321", "Ana", "São Paulo, SP"]) + "\n"
    if delimiter == ",":
        text = text.replace("São Paulo, SP", '"São Paulo, SP"')
    contacts, upload = await import_csv(text)
    assert contacts == [Contact("+5511987654321", "Ana", {"city": "São Paulo, SP"})]
    assert upload.report.as_dict() == {"accepted": 1, "duplicates": 0, "rejected": [],
                                       "rejected_total": 0, "rows": 1}


async def test_accepts_a_bom_and_crlf() -> None:
    contacts, _ = await import_csv(b"\xef\xbb\xbfphone;nome\r\n030 1234567;J\xc3\xbcrgen\r\n", 2, region="DE")
    assert contacts == [Contact("+49301234567", "Jürgen", {})]


async def test_quoted_fields_may_span_lines() -> None:
    text = ('phone,name,address\n'
            '+4930123456,"Ana ""A"" Lima","Rua X, 10\nApto 3\r\nFundos"\n'
            'bad,Bob,\n')
    contacts, upload = await import_csv(text, 3)
    assert contacts == [Contact("+4930123456", 'Ana "A" Lima', {"address": "Rua X, 10\nApto 3\r\nFundos"})]
    assert upload.report.rejected == [Rejected(5, "not a phone number")]   # its line in the file


@pytest.mark.parametrize("phone_column",
                         ["phone", "Number", " PHONE_NUMBER ", "Phone Number", "telefone", "WhatsApp"])
@pytest.mark.parametrize("name_column", ["name", "Nome", "first_name", "First Name"])
async def test_column_aliases(phone_column: str, name_column: str) -> None:
    contacts, _ = await import_csv(f"{name_column},{phone_column}\nAna,+5511987654321\n")
    assert contacts == [Contact("+5511987654321", "Ana", {})]


async def test_other_columns_are_variables() -> None:
    text = ("Phone, Name ,Plan, Due Date ,\n"
            "+5511987654321,Ana,Gold, 2025-01-31 ,ignored\n"
            "+5511987654322,,,x\n"
            "+5511987654323\n")
    contacts, upload = await import_csv(text)
    assert contacts == [Contact("+5511987654321", "Ana", {"plan": "Gold", "due_date": "2025-01-31"}),
                        Contact("+5511987654322", None, {"due_date": "x"}),
                        Contact("+5511987654323", None, {})]
    assert upload.report.rejected_count == 0


async def test_duplicates_are_counted_not_rejected() -> None:
    text = "phone\n+55 11 98765-4321\n(11) 98765-4321\n0055 11 987654321\n+5511987654322\n"
    contacts, upload = await import_csv(text)
    assert [c.phone for c in contacts] == ["+5511987654321", "+5511987654322"]
    assert upload.report.as_dict() == {"accepted": 2, "duplicates": 2, "rejected": [],
                                       "rejected_total": 0, "rows": 4}


async def test_bad_rows_are_reported_by_line_and_good_rows_kept() -> None:
    text = ("phone;name;notes\n"          # 1
            "\n"                          # 2 blank: skipped, still counted as a line
            "+5511987654321;Ana;ok\n"     # 3
            "hello;Bob;\n"                # 4
            ";Carl;\n"                    # 5
            '"+5511987654322";"Di\n'      # 6 a quoted newline...
            'ana";x\n'                    # 7 ...so this is still row 6
            "11 98765-4329;Eve;\n"        # 8 no country code and no default region
            '+5511987654323;"Fay"x;\n'    # 9
            "+5511987654324;Gus;a;b\n"    # 10
            ";;\n"                        # 11 empty fields: blank
            "+1 123 456 7890;Hal;\n")     # 12, no final newline
    contacts, upload = await import_csv(text.rstrip("\n"), 5, region=None)
    assert [c.phone for c in contacts] == ["+5511987654321", "+5511987654322"]
    assert upload.report.rejected == [
        Rejected(4, "not a phone number"),
        Rejected(5, "missing phone number"),
        Rejected(8, "no country code and no default region"),
        Rejected(9, "malformed CSV (';' expected after '\"')"),
        Rejected(10, "4 fields but the header has 3 columns"),
        Rejected(12, "invalid number for its region"),
    ]
    assert upload.report.rows_seen == 8


async def test_an_unclosed_quote_costs_only_its_line() -> None:
    text = 'phone,name\n+5511987654321,"Ana\n+5511987654322,Bob\n+5511987654323,Cy\n'
    contacts, upload = await import_csv(text)
    assert [c.phone for c in contacts] == ["+5511987654322", "+5511987654323"]
    assert upload.report.rejected == [Rejected(2, "unclosed quote")]


@given(st.integers(min_value=1, max_value=80))
@settings(max_examples=40, deadline=None)
async def test_chunk_boundaries_do_not_matter(size: int) -> None:
    text = ('\ufeffphone;name;city\r\n+5511987654321;"Ana\nMaria";Ré\r\n\r\n'
            'x;Bob;\r\n+5511987654321;dup;\r\n+4930123456;"Ü ""q""";\r\n').encode()
    contacts, upload = await import_csv(text, size)
    assert contacts == [Contact("+5511987654321", "Ana\nMaria", {"city": "Ré"}),
                        Contact("+4930123456", 'Ü "q"', {})]
    assert upload.report.as_dict() == {"accepted": 2, "duplicates": 1, "rejected_total": 1, "rows": 4,
                                       "rejected": [{"line": 5, "reason": "not a phone number"}]}


# --- CSV: uploads that cannot be read -------------------------------------------------------------

@pytest.mark.parametrize(("data", "reason"), [
    (b"name,city\nAna,SP\n", "missing phone column; columns are: 'name', 'city'"),
    (b"", "the file is empty"),
    (b"\n\r\n", "the file has no header row"),
    (b"phone,name\n+4930123456,Ana\n+4930123457,Jos\xe9\n", "the file is not UTF-8 text (byte offset 42)"),
    ("phone,name\n+4930123456,Zoë\n".encode("utf-16"),
     "the file is UTF-16 text, not UTF-8 (save it as “CSV UTF-8”)"),
    (b"phone,Plan,plan\n", "duplicate column 'plan'"),
    (b'phone,"name\n', "the header row has an unclosed quote"),
])
async def test_unreadable_uploads(data: bytes, reason: str) -> None:
    with pytest.raises(BadUpload) as caught:
        await import_csv(data, 4)
    assert caught.value.reason == reason


async def test_a_bad_byte_far_into_the_file_fails_the_whole_upload() -> None:
    rows = "".join(f"+55119{i:08d},Ana\n" for i in range(5_000)).encode()
    data = b"phone,name\n" + rows + "+5511987654322,Jo\u00e3o\n".encode("latin-1")
    upload = CsvImport(default_region="BR", required=set())
    imported = 0
    with pytest.raises(BadUpload, match=r"not UTF-8 text \(byte offset %d\)" % (len(data) - 3)):
        async for batch in upload.batches(chunked(data, 4096)):
            imported += len(batch)
    assert imported >= 4_000   # batches came before the error: the caller discards the import


# --- CSV: limits ----------------------------------------------------------------------------------

async def test_a_5_mb_line_is_rejected_without_being_held() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"phone,notes\n+5511987654321,first\n+5511987654322,"
        for _ in range(80):                       # 80 × 64 KB = 5 MB of one field, no newline
            yield b"x" * 65_536
        yield b"\n+5511987654323,after\n"

    upload = CsvImport(default_region="BR", required=set())
    contacts = [c async for batch in upload.batches(chunks()) for c in batch]
    assert [c.phone for c in contacts] == ["+5511987654321", "+5511987654323"]
    assert upload.report.rejected == [Rejected(3, "line too long (over 262144 bytes)")]
    assert 0 < upload.max_buffered < upload.max_line_bytes


async def test_a_5_mb_last_line_and_a_5_mb_header() -> None:
    contacts, upload = await import_csv(b"phone\n+5511987654321\n" + b"9" * 5_000_000, 65_536)
    assert len(contacts) == 1 and upload.report.rejected == [Rejected(3, "line too long (over 262144 bytes)")]
    assert upload.max_buffered < upload.max_line_bytes
    with pytest.raises(BadUpload, match="header line is longer than 262144 bytes"):
        await import_csv(b"phone," + b"x" * 5_000_000 + b"\n+5511987654321\n", 65_536)


async def test_field_and_line_limits() -> None:
    big = "y" * 300
    text = (f"phone,notes\n+5511987654321,{big}\n+5511987654322,\"{big}\"\n"
            f"+5511987654323,{'é' * 150}\n+5511987654324,{'z' * 700}\n+5511987654325,ok\n")
    contacts, upload = await import_csv(text, 64, max_field_bytes=299, max_line_bytes=600)
    assert [c.phone for c in contacts] == ["+5511987654325"]
    assert upload.report.rejected == [Rejected(2, "field too long (300 bytes)"),
                                      Rejected(3, "field too long (300 bytes)"),
                                      Rejected(4, "field too long (300 bytes)"),   # UTF-8 bytes
                                      Rejected(5, "line too long (over 600 bytes)")]
    assert upload.max_buffered < 600


async def test_default_field_limit() -> None:
    text = f"phone,notes\n+5511987654321,{'a' * 100_000}\n+5511987654322,{'b' * 200_000}\n+5511987654323,ok\n"
    contacts, upload = await import_csv(text, 65_536)
    assert [c.phone for c in contacts] == ["+5511987654323"]
    assert upload.report.rejected == [Rejected(2, "field too long (100000 bytes)"),
                                      Rejected(3, "field too long (over 131072 characters)")]


async def test_a_quoted_field_may_not_run_past_the_line_limit() -> None:
    text = 'phone,notes\n+5511987654321,"' + "x\n" * 400 + '"\n+5511987654322,ok\n'
    contacts, upload = await import_csv(text, 64, max_line_bytes=500)
    assert contacts[-1] == Contact("+5511987654322", None, {"notes": "ok"})
    assert upload.report.rejected[0] == Rejected(2, "unclosed quote")
    assert upload.max_buffered < 500 + 64


# --- CSV: required variables, rejected list, progress ---------------------------------------------

async def test_a_missing_required_variable_rejects_the_row() -> None:
    text = ("phone,name,Plan,due\n"
            "+5511987654321,Ana,Gold,May\n"
            "+5511987654322,Bob,,May\n"
            "+5511987654323,,Gold,\n"
            "+5511987654324,Cy,Gold,June\n")
    contacts, upload = await import_csv(text, required=frozenset({"plan", "due", "name", "phone"}))
    assert [c.phone for c in contacts] == ["+5511987654321", "+5511987654324"]
    assert upload.report.rejected == [Rejected(3, "missing variable {{plan}}"),
                                      Rejected(4, "missing variables {{due}}, {{name}}")]
    # column names are lowercased, content keys are not: {{Plan}} cannot be filled from "Plan"
    contacts, upload = await import_csv(text, required=frozenset({"Plan"}))
    assert contacts == [] and upload.report.rejected[0] == Rejected(2, "missing variable {{Plan}}")


async def test_twenty_percent_invalid_rows() -> None:
    lines = ["phone,name"] + [f"+55119{i:08d},n{i}" if i % 5 else f"55-{i},n{i}" for i in range(10_000)]
    contacts, upload = await import_csv("\n".join(lines) + "\n", 65_536, region=None)
    report = upload.report.as_dict()
    assert len(contacts) == report["accepted"] == 8_000
    assert report["rejected_total"] == 2_000 and len(report["rejected"]) == REJECTED_KEPT
    assert report["rejected"][:2] == [{"line": 2, "reason": "no country code and no default region"},
                                      {"line": 7, "reason": "no country code and no default region"}]
    assert report["rejected"][-1]["line"] == 2 + 5 * (REJECTED_KEPT - 1)
    assert report["rows"] == 10_000


async def test_progress_grows_as_batches_come() -> None:
    data = ("phone\n" + "".join(f"+55119{i:08d}\n" for i in range(3_500))).encode()
    report = ImportReport()
    seen = []
    async for batch in read_csv(chunked(data, 4_096), report, default_region=None, required=set()):
        seen.append((len(batch), report.rows_seen, report.bytes_read))
    assert [n for n, _, _ in seen] == [1_000, 1_000, 1_000, 500]
    assert [rows for _, rows, _ in seen] == sorted(rows for _, rows, _ in seen)
    assert seen[0][1] < 3_500 and seen[0][2] < len(data)
    assert (report.rows_seen, report.bytes_read, report.accepted) == (3_500, len(data), 3_500)


# --- CSV: a large file, streamed ------------------------------------------------------------------

# A million rows stream fine (~28 s and ~18 MB more RSS on a 2-core machine; phonenumbers parses
# a number in ~16 µs), but tracemalloc multiplies that by five: the test streams 20,000 rows of
# ~550 bytes (11 MB: long notes, so the file is large and the rows fewer) and checks the import never
# holds more than a fraction of the file.
ROWS = 20_000
NOTE = "cliente desde 2019, prefere contato à tarde, " * 11


def generated_csv(rows: int, chunk: int = 65_536) -> Iterator[bytes]:
    """A CSV of `rows` distinct Brazilian mobiles and three variables, made on the fly."""
    pending, size = [b"phone;nome;cidade;plano;notas\n"], 0
    for i in range(rows):
        line = f"(11) 9{i // 10_000:04d}-{i % 10_000:04d};Cliente {i};São Paulo;ouro;{NOTE}{i}\n".encode()
        pending.append(line)
        size += len(line)
        if size >= chunk:
            yield b"".join(pending)
            pending, size = [], 0
    yield b"".join(pending)


@pytest.mark.timeout(120)
async def test_a_large_file_streams_in_bounded_memory() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for chunk in generated_csv(ROWS):
            yield chunk

    upload = CsvImport(default_region="BR", required={"cidade", "notas"})
    file_size = sum(map(len, generated_csv(ROWS)))
    accepted, last = 0, None
    tracemalloc.start()
    try:
        async for batch in upload.batches(chunks()):
            accepted += len(batch)
            last = batch[-1]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert accepted == upload.report.accepted == ROWS and upload.report.rejected_count == 0
    assert last == Contact(f"+55119{(ROWS - 1) // 10_000:04d}{(ROWS - 1) % 10_000:04d}", f"Cliente {ROWS - 1}",
                           {"cidade": "São Paulo", "plano": "ouro", "notas": f"{NOTE}{ROWS - 1}"})
    assert upload.report.bytes_read == file_size > 10 * 2**20
    assert peak < file_size / 3, (peak, file_size)   # a file held whole would take more than itself


# --- JSON -----------------------------------------------------------------------------------------

def test_json_contacts() -> None:
    contacts, report = read_json([
        {"phone": "+55 11 98765-4321", "name": " Ana ",
         "variables": {"Plan": "Gold", "due": 31, "x": 1.5, "e": ""}},
        {"phone": "(11) 98765-4321", "variables": {"plan": "Gold", "due": "1"}},
        {"phone": "nope"},
        "not a contact",
        {"name": "no phone"},
        {"phone": "+5511987654322", "variables": {"plan": ["a"]}},
        {"phone": "+5511987654323", "variables": {"plan": True}},
        {"phone": "+5511987654324", "variables": "plan"},
        {"phone": 5511987654325, "name": 7},
        {"phone": "+5511987654326", "variables": {"plan": "Basic", "due": "1"}},
        {"phone": "+5511987654327", "variables": {"plan": "Basic"}},
    ], default_region="BR", required={"plan", "due"})
    assert contacts == [Contact("+5511987654321", "Ana", {"plan": "Gold", "due": "31", "x": "1.5"}),
                        Contact("+5511987654326", None, {"plan": "Basic", "due": "1"})]
    assert report.as_dict() == {"accepted": 2, "duplicates": 1, "rejected_total": 8, "rows": 11, "rejected": [
        {"line": 3, "reason": "not a phone number"},
        {"line": 4, "reason": "not an object"},
        {"line": 5, "reason": "missing phone number"},
        {"line": 6, "reason": "variable plan must be text or a number"},
        {"line": 7, "reason": "variable plan must be text or a number"},
        {"line": 8, "reason": "variables must be an object"},
        {"line": 9, "reason": "name must be text"},
        {"line": 11, "reason": "missing variable {{due}}"},
    ]}


def test_json_phone_may_be_a_number_and_lists_are_capped() -> None:
    contacts, _ = read_json([{"phone": 301234567}], default_region="DE", required=set())
    assert contacts == [Contact("+49301234567", None, {})]   # digits read with the default region
    with pytest.raises(BadUpload, match="at most 10000 contacts"):
        read_json([{"phone": "+4930123456"}] * 10_001, default_region=None, required=set())
