"""Write the synthesized silo template to a file: `python -m tenancy_infra.silo_template OUT`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from tenancy.names import DEFAULT_APP_NAME, DEFAULT_STAGE


def write_silo_template(path: Path, app_name: str = DEFAULT_APP_NAME, stage: str = DEFAULT_STAGE) -> Path:
    from tenancy_infra.stacks.silo import synth_silo_template

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(synth_silo_template(app_name, stage), indent=1, sort_keys=True))
    return path


if __name__ == "__main__":
    write_silo_template(Path(sys.argv[1]))
