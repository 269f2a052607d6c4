"""What every benchmark shares: the repository root, the run's counts, medians and percentiles."""

from __future__ import annotations

import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def use_source_paths() -> None:
    """The layer's sources, the CDK app (its topology) and the repository on sys.path, for the
    benchmark's own process (the measured processes set their paths themselves)."""
    for path in (ROOT / "layers" / "shared" / "python", ROOT / "cdk", ROOT):
        if str(path) not in sys.path:
            sys.path.insert(0, str(path))


@dataclass
class Counts:
    cold_runs: int = 15
    warm_requests: int = 500
    onboarding_tenants: int = 100
    throughput_tenants: int = 100
    scale_small: int = 10
    scale_large: int = 1000
    scale_requests: int = 200
    plans_requests: int = 500
    noisy_seconds: float = 10.0
    dataset_rows: int = 100_000
    dataset_imports: int = 5

    @classmethod
    def smoke(cls) -> Counts:
        return cls(
            1, 5, 2, 4, 2, 5, 5, plans_requests=5, noisy_seconds=0.5, dataset_rows=2000, dataset_imports=1
        )


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]
