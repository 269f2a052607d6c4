#!/usr/bin/env python3
"""The CDK app: `npx cdk synth` (cdk.json: `.venv/bin/python cdk/app.py`).

Context: `app_name` (default "tenancy") and `stage` (default "dev"), e.g. `-c stage=prod`.
One stack, `<app>-<stage>`, checked by cdk-nag's AwsSolutions pack on every synthesis.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
for path in (HERE.parent / "layers" / "shared" / "python", HERE):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from tenancy_infra.stacks.application import build_app  # noqa: E402


def main() -> None:
    build_app().synth()


if __name__ == "__main__":
    main()
