"""`envelope.rfc3339` keeps the text of the last time it wrote: the same instant at the same offset reads
the same, and an equal instant at another offset, a naive time or another instant reads as its own."""

from datetime import UTC, datetime, timedelta, timezone

from switchboard_contracts.envelope import rfc3339


def test_the_kept_text_is_only_for_the_same_instant_at_the_same_offset():
    noon = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
    assert rfc3339(noon) == "2026-12-04T12:00:00Z"
    assert rfc3339(datetime(2026, 12, 4, 12, 0, tzinfo=UTC)) == "2026-12-04T12:00:00Z"  # equal, not the same
    assert rfc3339(noon.astimezone(timezone(timedelta(hours=1)))) == "2026-12-04T13:00:00+01:00"
    assert rfc3339(noon) == "2026-12-04T12:00:00Z"
    assert rfc3339(datetime(2026, 12, 4, 12, 0)) == "2026-12-04T12:00:00"  # naive: never equal to an aware one
    assert rfc3339(noon + timedelta(microseconds=5)) == "2026-12-04T12:00:00.000005Z"
