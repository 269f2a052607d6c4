"""Verify AWS Signature Version 4 on incoming requests, as API Gateway does for IAM-authorized routes."""

from __future__ import annotations

import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

_AUTHORIZATION = re.compile(
    r"^AWS4-HMAC-SHA256\s+Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/(?P<service>[^/]+)/aws4_request,\s*"
    r"SignedHeaders=(?P<signed>[^,]+),\s*Signature=(?P<signature>[0-9a-f]{64})$"
)
MAX_SKEW = timedelta(minutes=15)


@dataclass(frozen=True)
class Caller:
    access_key: str
    account_id: str
    user_arn: str


class SignatureError(Exception):
    """Refused as API Gateway refuses it: 403 with this message."""


def verify(
    *,
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    secrets: Mapping[str, str],
    account_id: str = "123456789012",
    now: datetime | None = None,
    service: str = "execute-api",
) -> Caller:
    """The caller of a correctly signed request, or SignatureError.

    `url` is the full URL the client signed (scheme, host[:port], path, query); `secrets` maps
    access key ids to secret keys; `service` the signing name the credential must be scoped to
    (API Gateway's execute-api, or lambda for the Invoke API the local cloud serves).
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    authorization = lowered.get("authorization")
    if not authorization:
        raise SignatureError("Missing Authentication Token")
    match = _AUTHORIZATION.match(authorization.strip())
    if not match:
        raise SignatureError("Authorization header requires 'Credential', 'SignedHeaders' and 'Signature'.")
    if match["service"] != service:
        raise SignatureError(
            f"Credential should be scoped to correct service: '{service}'. not '{match['service']}'"
        )
    secret = secrets.get(match["key"])
    if secret is None:
        raise SignatureError("The security token included in the request is invalid.")
    stamp = lowered.get("x-amz-date", "")
    try:
        signed_at = datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        raise SignatureError(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
        ) from None
    if not stamp.startswith(match["date"]):
        raise SignatureError("Credential should be scoped to a valid date.")
    if abs((now or datetime.now(UTC)) - signed_at) > MAX_SKEW:
        raise SignatureError(
            "Signature expired: the request time is more than 15 minutes from the server time."
        )

    signed_names = match["signed"].split(";")
    if "host" not in signed_names:
        raise SignatureError("'Host' must be a signed header.")
    lowered.setdefault("host", urlsplit(url).netloc)
    request = AWSRequest(
        method=method, url=url, data=body, headers={n: lowered.get(n, "") for n in signed_names}
    )
    request.context["timestamp"] = stamp
    auth = SigV4Auth(
        Credentials(match["key"], secret, lowered.get("x-amz-security-token")), service, match["region"]
    )
    expected = auth.signature(auth.string_to_sign(request, auth.canonical_request(request)), request)
    if not hmac.compare_digest(expected, match["signature"]):
        raise SignatureError(
            "The request signature we calculated does not match the signature you provided. "
            "Check your AWS Secret Access Key and signing method."
        )
    return Caller(match["key"], account_id, f"arn:aws:iam::{account_id}:user/local")
