"""UTC timestamps in one format: ISO-8601 with milliseconds and a `Z`, sortable as strings."""

from __future__ import annotations

from datetime import UTC, datetime


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
