"""`make dev`: run the whole of Tenancy on this machine. Ctrl-C stops it."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT / "layers" / "shared" / "python", ROOT / "cdk", ROOT):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="localcloud", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument(
        "--port", type=int, default=int(os.environ.get("TENANCY_API_PORT", 3000)), help="API Gateway port"
    )
    parser.add_argument(
        "--aws-port",
        type=int,
        default=int(os.environ.get("TENANCY_AWS_PORT", 4566)),
        help="AWS endpoint port",
    )
    parser.add_argument("--app-name", default=os.environ.get("APP_NAME", "tenancy"))
    parser.add_argument("--stage", default=os.environ.get("STAGE", "local"))
    parser.add_argument(
        "--verbose", action="store_true", help="show each invocation's event and the functions' logs"
    )
    parser.add_argument(
        "--plans",
        default=os.environ.get("PLANS", ""),
        help="the stage's changes to the shipped plans (JSON, as the CDK context `plans`; env PLANS)",
    )
    args = parser.parse_args(argv)
    from tenancy.contracts.plans import stage_plans

    try:
        stage_plans(args.plans)  # refused here, at start, rather than at a tenant's first request
    except ValueError as error:
        print(f"localcloud: {error}", file=sys.stderr)
        return 2

    from localcloud.cloud import ACCESS_KEY, REGION, SECRET_KEY, LocalCloud, Options, PortInUseError

    cloud = LocalCloud(
        Options(args.host, args.port, args.aws_port, args.app_name, args.stage, args.verbose, args.plans)
    )
    signal.signal(signal.SIGTERM, lambda *_: cloud.request_stop())
    try:
        cloud.start()
    except PortInUseError as error:
        print(f"localcloud: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nstopping the local cloud…", flush=True)
        cloud.stop()
        return 0
    try:
        settings = cloud.resources.settings if cloud.resources else None
        assert settings is not None
        # `make token` reaches moto on AWS_PORT (4566 unless told): say it when it is another port.
        token_port = "" if args.aws_port == 4566 else f" AWS_PORT={args.aws_port}"
        print(
            f"""Tenancy local cloud is up.
  API Gateway                         {cloud.api_url}
    control plane  /tenants…  (IAM: SigV4-signed)
    app API        /me /users /agents /executions /audit /config /usage /secrets
                   /groups /dashboards /shared-with-me /cards
                   (Bearer ID token, REQUEST authorizer)
  AWS endpoint (moto server)          {cloud.endpoint}
  credentials                         {ACCESS_KEY} / {SECRET_KEY}   region {REGION}
  control table  {settings.control_table_name}    app table  {settings.app_table_name}
  bus            {settings.event_bus_name}        bucket     {settings.tenant_bucket_name}
  user pool      {settings.user_pool_id}   app client {settings.user_pool_client_id}

Try:
  curl -s --aws-sigv4 "aws:amz:{REGION}:execute-api" --user "{ACCESS_KEY}:{SECRET_KEY}" \\
       -H 'Content-Type: application/json' \\
       -d '{{"name":"Acme","slug":"acme","tier":"PRO","adminEmail":"admin@acme.example"}}' {cloud.api_url}/tenants
  curl -s --aws-sigv4 "aws:amz:{REGION}:execute-api" --user "{ACCESS_KEY}:{SECRET_KEY}" {cloud.api_url}/tenants
  TOKEN=$(make -s token TENANT=acme USER=admin@acme.example{token_port})      # once acme is PROVISIONED
  curl -s -H "Authorization: Bearer $TOKEN" {cloud.api_url}/me
  aws --endpoint-url {cloud.endpoint} dynamodb scan --table-name {settings.control_table_name}

Ctrl-C to stop.
time          function                 trigger                            tenant                                  duration  outcome""",
            flush=True,
        )
        cloud.wait()
    except KeyboardInterrupt:
        pass
    finally:
        print("\nstopping the local cloud…", flush=True)
        cloud.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
