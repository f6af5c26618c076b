"""The clock adapter: what time it is, in UTC (tests and the local runtime hand in their own)."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    return datetime.now(UTC)
