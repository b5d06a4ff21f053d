"""Date values: ISO-8601 precision periods and Elasticsearch-style date math."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from vigil.kql.dates import DatePeriod, parse_date

NOW = datetime(2024, 3, 31, 15, 30, 45, 123456, tzinfo=UTC)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, micro: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, micro, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("2024", utc(2024, 1, 1), utc(2025, 1, 1)),
        ("2024-02", utc(2024, 2, 1), utc(2024, 3, 1)),
        ("2024-12", utc(2024, 12, 1), utc(2025, 1, 1)),
        ("2024-01-02", utc(2024, 1, 2), utc(2024, 1, 3)),
        ("2024-01-02T10", utc(2024, 1, 2, 10), utc(2024, 1, 2, 11)),
        ("2024-01-02T10:30", utc(2024, 1, 2, 10, 30), utc(2024, 1, 2, 10, 31)),
        ("2024-01-02 10:30:05", utc(2024, 1, 2, 10, 30, 5), utc(2024, 1, 2, 10, 30, 6)),
        ("2024-01-02T10:30:05Z", utc(2024, 1, 2, 10, 30, 5), utc(2024, 1, 2, 10, 30, 6)),
        ("2024-01-02T10:30:05.5Z", utc(2024, 1, 2, 10, 30, 5, 500000), None),
        ("2024-01-02T10:30:05,123456789Z", utc(2024, 1, 2, 10, 30, 5, 123456), None),
        ("2024-01-02T10:30+02:00", utc(2024, 1, 2, 8, 30), utc(2024, 1, 2, 8, 31)),
        ("2024-01-02T00:30:00-0530", utc(2024, 1, 2, 6, 0), utc(2024, 1, 2, 6, 0, 1)),
        (" 2024-01-02 ", utc(2024, 1, 2), utc(2024, 1, 3)),
        ("1700000000000", utc(2023, 11, 14, 22, 13, 20), None),  # epoch milliseconds
        ("now", NOW, None),
        ("now-7d", utc(2024, 3, 24, 15, 30, 45, 123456), None),
        ("now-1h", utc(2024, 3, 31, 14, 30, 45, 123456), None),
        ("now+90m", utc(2024, 3, 31, 17, 0, 45, 123456), None),
        ("now-30s", utc(2024, 3, 31, 15, 30, 15, 123456), None),
        ("now-1w", utc(2024, 3, 24, 15, 30, 45, 123456), None),
        ("now-1M", utc(2024, 2, 29, 15, 30, 45, 123456), None),  # clamped to the month's last day
        ("now-1y", utc(2023, 3, 31, 15, 30, 45, 123456), None),
        ("now/d", utc(2024, 3, 31), utc(2024, 4, 1)),
        ("now-1d/d", utc(2024, 3, 30), utc(2024, 3, 31)),
        ("now/w", utc(2024, 3, 25), utc(2024, 4, 1)),  # weeks start on Monday
        ("now/M", utc(2024, 3, 1), utc(2024, 4, 1)),
        ("now/y", utc(2024, 1, 1), utc(2025, 1, 1)),
        ("now/h", utc(2024, 3, 31, 15), utc(2024, 3, 31, 16)),
        ("now/H", utc(2024, 3, 31, 15), utc(2024, 3, 31, 16)),
        ("now/m", utc(2024, 3, 31, 15, 30), utc(2024, 3, 31, 15, 31)),
        ("now/s", utc(2024, 3, 31, 15, 30, 45), utc(2024, 3, 31, 15, 30, 46)),
        ("now-1d/d+2h", utc(2024, 3, 30, 2), utc(2024, 3, 31, 2)),
        ("2024-01-31||+1M", utc(2024, 2, 29), utc(2024, 3, 1)),
        ("2024-01-31||/M", utc(2024, 1, 1), utc(2024, 2, 1)),
        ("2024-01-02T10:30Z||-1h", utc(2024, 1, 2, 9, 30), utc(2024, 1, 2, 9, 31)),
    ],
)
def test_parses_dates(text: str, start: datetime, end: datetime | None) -> None:
    assert parse_date(text, NOW) == DatePeriod(start, end)


def test_now_may_be_in_any_timezone() -> None:
    local_now = NOW.astimezone(timezone(timedelta(hours=-8)))
    assert parse_date("now/d", local_now) == DatePeriod(utc(2024, 3, 31), utc(2024, 4, 1))


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("yesterday", "expected an ISO-8601 date"),
        ("2024-1-2", "expected an ISO-8601 date"),
        ("2024-01-02T10:30:05Zjunk", "expected an ISO-8601 date"),
        ("2024-13", "month must be in 1..12"),
        ("2024-02-30", "day is out of range"),
        ("2024-01-02T25", "hour must be in 0..23"),
        ("2024-01-02T10:00+25:00", "invalid UTC offset"),
        ("now-", "invalid date math at '-'"),
        ("now-1x", "invalid date math at '-1x'"),
        ("now/q", "invalid date math"),
        ("nowhere", "invalid date math at 'here'"),
        ("2024||", "expected date math after '||'"),
        ("now-99999999999d", "date out of range"),
        ("now+99999y", "date out of range"),
        ("9999-12-31||+1d", "date out of range"),
        ("99999999999999999999", "date out of range"),
    ],
)
def test_rejects_invalid_dates(text: str, reason: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_date(text, NOW)
    assert reason in str(caught.value)
