"""Schemathesis hooks for the e2e fuzzing run (loaded through SCHEMATHESIS_HOOKS).

With TENANCY_FUZZ_SIGV4 set, every request is SigV4-signed for execute-api with the local
credentials, as the control plane requires: signed last, as the request goes out, so the signature
covers the exact URL and body sent. (The app API gets its ID token as a plain header instead.)
"""

from __future__ import annotations

import os

import requests
import schemathesis
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


class SigV4(requests.auth.AuthBase):
    def __init__(self, access_key: str = "test", secret_key: str = "test", region: str = "us-east-1") -> None:
        self.credentials = Credentials(access_key, secret_key)
        self.region = region

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode()
            request.body = body
            request.headers["Content-Length"] = str(len(body))
        signed = AWSRequest(
            method=request.method,
            url=request.url,
            data=body,
            headers={k: v for k, v in request.headers.items() if k.lower() == "content-type"},
        )
        SigV4Auth(self.credentials, "execute-api", self.region).add_auth(signed)
        for name in ("Authorization", "X-Amz-Date"):
            request.headers[name] = signed.headers[name]
        return request


if os.environ.get("TENANCY_FUZZ_SIGV4"):
    schemathesis.auth.set_from_requests(SigV4())
