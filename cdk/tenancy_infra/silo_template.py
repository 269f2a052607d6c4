"""Write the synthesized silo template to a file: `python -m tenancy_infra.silo_template OUT`.

The local cloud ships this file (`make build` writes .build/silo-template.json); the CDK app ships
the same template as an S3 asset. aws_cdk is imported lazily, on use.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from tenancy.common.names import DEFAULT_APP_NAME, DEFAULT_STAGE


def write_silo_template(path: Path, app_name: str = DEFAULT_APP_NAME, stage: str = DEFAULT_STAGE) -> Path:
    """Synthesize SiloTenantStack (cdk-nag checked) and write its template to `path`, atomically."""
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    from .stacks.silo import synth_silo_template, write_template

    return write_template(synth_silo_template(app_name, stage), Path(path))


if __name__ == "__main__":
    write_silo_template(Path(sys.argv[1]))
