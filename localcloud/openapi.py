"""`make openapi`: the OpenAPI document of each API function, generated from its handler.

python -m localcloud.openapi .build/openapi     # writes tenant_api.json and app_api.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from localcloud.runtime import FunctionRuntime
from tenancy.application.views import VIEWS as APPLICATION_VIEWS
from tenancy.common.openapi import document
from tenancy.control.models import VIEWS as CONTROL_VIEWS
from tenancy_infra.topology import APP_API, FUNCTIONS, ApiTrigger

# Every view either API answers with; each document keeps only those its operations refer to.
VIEWS = {**CONTROL_VIEWS, **APPLICATION_VIEWS}


def documents(runtime: FunctionRuntime | None = None) -> dict[str, dict[str, Any]]:
    """Each API function's complete OpenAPI document, by function name."""
    runtime = runtime or FunctionRuntime()
    return {
        spec.name: document(
            runtime.module(spec.name).app,
            title=spec.name,
            authorization=spec.trigger.authorization,
            views=VIEWS,
            # every app API request passes the request limiter first (functions/app_api/handler.py)
            rate_limited=spec.trigger.api == APP_API,
        )
        for spec in FUNCTIONS
        if isinstance(spec.trigger, ApiTrigger)
    }


def main(out: str) -> None:
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    for name, doc in documents().items():
        path = folder / f"{name}.json"
        path.write_text(json.dumps(doc, indent=2) + "\n")
        print(path)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".build/openapi")
