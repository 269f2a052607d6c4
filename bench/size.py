"""5. Package size: what each asset ships, as the CDK app zips it."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

from bench.common import ROOT

LAMBDA_LIMIT_BYTES = 250 * 1024 * 1024


def package_sizes() -> list[dict[str, Any]]:
    """What each asset ships, as the CDK app zips it: the layer with its bytecode, the functions
    without __pycache__."""

    def measure(name: str, folder: Path, bytecode: bool = False) -> dict[str, Any]:
        unzipped = 0
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(folder.rglob("*")):
                if path.is_file() and path.name != ".built" and (bytecode or "__pycache__" not in path.parts):
                    unzipped += path.stat().st_size
                    archive.write(path, path.relative_to(folder))
        return {
            "package": name,
            "zipped_kb": round(len(buffer.getvalue()) / 1024, 1),
            "unzipped_kb": round(unzipped / 1024, 1),
            "share_of_250mb_limit": round(unzipped / LAMBDA_LIMIT_BYTES, 3),
        }

    layer = ROOT / ".build" / "layer"
    if not layer.exists():
        raise RuntimeError("no .build/layer: run `make build` first")
    rows = [measure("layer (shared)", layer, bytecode=True)]
    bundled = sorted(
        p.name for p in (layer / "python").iterdir() if p.name.lower().startswith(("boto3", "botocore"))
    )
    rows[0]["runtime_provided_packages_bundled"] = bundled
    from tenancy_infra.topology import FUNCTIONS

    rows += [measure(f"function {spec.name}", ROOT / "functions" / spec.name) for spec in FUNCTIONS]
    return rows
