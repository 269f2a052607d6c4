"""The local API Gateway's SigV4 check, against requests signed by botocore itself."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from localcloud.sigv4 import SignatureError, verify

SECRETS = {"test": "test-secret"}
URL = "http://127.0.0.1:3000/tenants?limit=2&tier=PRO"


def signed(
    method: str = "POST",
    url: str = URL,
    body: bytes = b'{"a":1}',
    key: str = "test",
    secret: str = "test-secret",
    service: str = "execute-api",
) -> dict[str, str]:
    request = AWSRequest(method=method, url=url, data=body, headers={"Content-Type": "application/json"})
    SigV4Auth(Credentials(key, secret), service, "us-east-1").add_auth(request)
    return dict(request.headers.items())


def check(
    headers: dict[str, str], method: str = "POST", url: str = URL, body: bytes = b'{"a":1}', **kw: object
) -> object:
    return verify(method=method, url=url, headers=headers, body=body, secrets=SECRETS, **kw)  # type: ignore[arg-type]


def test_a_correct_signature_names_the_caller() -> None:
    caller = check(signed())
    assert caller.access_key == "test"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        (lambda h: {k: v for k, v in h.items() if k != "Authorization"}, "Missing Authentication Token"),
        (lambda h: {**h, "Authorization": "Bearer abc"}, "requires 'Credential'"),
        (lambda h: {**h, "Authorization": h["Authorization"][:-4] + "0000"}, "does not match"),
    ],
)
def test_missing_or_forged_signatures_are_refused(tamper: object, message: str) -> None:
    with pytest.raises(SignatureError, match=message):
        check(tamper(signed()))  # type: ignore[operator]


def test_a_changed_body_path_or_method_breaks_the_signature() -> None:
    headers = signed()
    with pytest.raises(SignatureError, match="does not match"):
        check(headers, body=b'{"a":2}')
    with pytest.raises(SignatureError, match="does not match"):
        check(headers, url="http://127.0.0.1:3000/tenants?limit=3&tier=PRO")
    with pytest.raises(SignatureError, match="does not match"):
        check(headers, method="DELETE")


def test_wrong_secret_unknown_key_and_other_service_are_refused() -> None:
    with pytest.raises(SignatureError, match="does not match"):
        check(signed(secret="wrong"))
    with pytest.raises(SignatureError, match="security token"):
        check(signed(key="nobody"))
    with pytest.raises(SignatureError, match="execute-api"):
        check(signed(service="s3"))


def test_an_old_signature_is_expired() -> None:
    with pytest.raises(SignatureError, match="expired"):
        check(signed(), now=datetime.now(UTC) + timedelta(minutes=20))
