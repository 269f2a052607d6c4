"""UTC timestamps in one format: ISO-8601 with milliseconds and a `Z`, sortable as strings."""

from __future__ import annotations

from datetime import UTC, datetime


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def bound_iso(text: str, *, end: bool) -> str:
    """A query bound in the stored format, so bounds and stored timestamps compare as strings.

    `2026-12-03` is the whole day (from its first millisecond, or to its last when `end`);
    `2026-12-03T11:24:50Z` (seconds or fractions optional, `Z` or no offset: UTC) is that instant.
    Raises ValueError for anything that is not a real date or time (`2026-02-31`, `T99:99`)."""
    date_only = "T" not in text
    moment = datetime.fromisoformat(text.removesuffix("Z"))
    if moment.tzinfo is not None:
        raise ValueError("give the time in UTC, with `Z` or no offset")
    if date_only and end:
        moment = moment.replace(hour=23, minute=59, second=59, microsecond=999_000)
    return moment.isoformat(timespec="milliseconds") + "Z"
