"""`make token TENANT=<slug> USER=<email>`: print an ID token of a tenant user of the running local
cloud, for `curl -H "Authorization: Bearer $(make -s token ...)"`."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Literal

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT / "layers" / "shared" / "python", ROOT / "cdk", ROOT):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make token", description=__doc__)
    parser.add_argument("tenant", help="the tenant's slug")
    parser.add_argument("user", help="the user's email")
    parser.add_argument("--aws-port", type=int, default=int(os.environ.get("TENANCY_AWS_PORT", 4566)))
    parser.add_argument("--app-name", default=os.environ.get("APP_NAME", "tenancy"))
    parser.add_argument("--stage", default=os.environ.get("STAGE", "local"))
    args = parser.parse_args(argv)

    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    from localcloud.cloud import ACCESS_KEY, REGION, SECRET_KEY
    from localcloud.tokens import UnknownUserError, issue_token
    from tenancy.common.names import CONTROL_TABLE_SUFFIX, resource_name
    from tenancy.control import keys

    def aws(service: Literal["cognito-idp", "dynamodb"]) -> object:
        return boto3.client(
            service,
            endpoint_url=f"http://127.0.0.1:{args.aws_port}",
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
        )

    try:
        cognito = aws("cognito-idp")
        pools = cognito.list_user_pools(MaxResults=60)["UserPools"]  # type: ignore[attr-defined]
        pool_name = resource_name(args.app_name, args.stage, "users")
        pool_id = next(p["Id"] for p in pools if p["Name"] == pool_name)
        client_id = cognito.list_user_pool_clients(UserPoolId=pool_id)["UserPoolClients"][0]["ClientId"]  # type: ignore[attr-defined]
        marker = aws("dynamodb").get_item(  # type: ignore[attr-defined]
            TableName=resource_name(args.app_name, args.stage, CONTROL_TABLE_SUFFIX),
            Key={"PK": {"S": keys.slug_pk(args.tenant)}, "SK": {"S": keys.SLUG_SK}},
        )
        if "Item" not in marker:
            print(f"make token: no tenant with slug {args.tenant!r}", file=sys.stderr)
            return 2
        tenant_id = marker["Item"]["tenantId"]["S"]
        try:  # the user with this email *in this tenant*: the same email may be in several
            token = issue_token(cognito, pool_id, client_id, args.user, tenant_id)
        except UnknownUserError:
            print(f"make token: {args.user} is not a user of {args.tenant}", file=sys.stderr)
            return 2
        print(token)
    except StopIteration:
        print("make token: no local user pool; is `make dev` running?", file=sys.stderr)
        return 2
    except (BotoCoreError, ClientError) as error:
        print(
            f"make token: the local cloud did not answer ({error}); start it with `make dev`", file=sys.stderr
        )
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
