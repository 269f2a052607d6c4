"""The tables printed as the benchmarks run."""

from __future__ import annotations

from typing import Any


def table(title: str, rows: list[dict[str, Any]]) -> str:
    if not rows:
        return ""
    columns = list(rows[0])
    widths = {c: max(len(c), *(len(_cell(r.get(c))) for r in rows)) for c in columns}
    lines = [f"\n{title}", "  ".join(c.ljust(widths[c]) for c in columns)]
    lines += ["  ".join(_cell(r.get(c)).ljust(widths[c]) for c in columns) for r in rows]
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if isinstance(value, dict):
        return ",".join(f"{k.split(':')[1]}x{v}" for k, v in value.items())
    return "-" if value is None else str(value)
