"""`make invoke FN=<function> EVENT=events/<file>.json`: run one handler against the running local
cloud and print its result — the Docker-free counterpart of `sam local invoke`."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT / "layers" / "shared" / "python", ROOT / "cdk", ROOT):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))


def main(argv: list[str] | None = None) -> int:
    from localcloud.cloud import ACCESS_KEY, REGION, SECRET_KEY
    from localcloud.resources import local_settings, settings_environ
    from tenancy.common.names import METRICS_NAMESPACE
    from tenancy_infra.topology import FUNCTIONS

    names = [spec.name for spec in FUNCTIONS]
    parser = argparse.ArgumentParser(prog="make invoke", description=__doc__)
    parser.add_argument("function", choices=names)
    parser.add_argument("event", type=Path, help="a JSON event file, e.g. events/apigw-create-tenant.json")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("TENANCY_API_PORT", 3000)))
    parser.add_argument("--aws-port", type=int, default=int(os.environ.get("TENANCY_AWS_PORT", 4566)))
    parser.add_argument("--app-name", default=os.environ.get("APP_NAME", "tenancy"))
    parser.add_argument("--stage", default=os.environ.get("STAGE", "local"))
    args = parser.parse_args(argv)

    try:
        event = json.loads(args.event.read_text())
    except (OSError, ValueError) as error:
        print(f"make invoke: cannot read {args.event}: {error}", file=sys.stderr)
        return 2
    health = f"http://{args.host}:{args.port}/_localcloud/health"
    try:
        with urllib.request.urlopen(health, timeout=2):
            pass
    except (urllib.error.URLError, OSError):
        print(f"make invoke: no local cloud answers at {health}; start it with `make dev`", file=sys.stderr)
        return 2

    os.environ.update(
        AWS_ENDPOINT_URL=f"http://{args.host}:{args.aws_port}",
        AWS_ACCESS_KEY_ID=ACCESS_KEY,
        AWS_SECRET_ACCESS_KEY=SECRET_KEY,
        AWS_DEFAULT_REGION=REGION,
        AWS_ACCOUNT_ID_ENDPOINT_MODE="disabled",
        POWERTOOLS_TRACE_DISABLED="true",
        POWERTOOLS_SERVICE_NAME=args.function,
        POWERTOOLS_METRICS_NAMESPACE=METRICS_NAMESPACE,
        **settings_environ(local_settings(args.app_name, args.stage, REGION)),
    )
    from localcloud.runtime import FunctionRuntime

    spec = next(s for s in FUNCTIONS if s.name == args.function)
    with contextlib.redirect_stdout(sys.stderr):  # the function's logs to stderr, its result to stdout
        invocation = FunctionRuntime().invoke(spec.name, event, spec.timeout_seconds)
    if invocation.error is not None:
        print(
            json.dumps(
                {"errorType": type(invocation.error).__name__, "errorMessage": str(invocation.error)},
                indent=2,
            )
        )
        return 1
    print(json.dumps(invocation.result, indent=2, default=str))
    print(f"# {spec.name}: {invocation.duration_ms:.1f} ms", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
