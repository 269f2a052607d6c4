"""A small SigV4-signing client for the control-plane API (local or deployed).

    from localcloud.client import ControlPlaneClient
    api = ControlPlaneClient("http://127.0.0.1:3000")            # local credentials test/test
    api.post("/tenants", {"name": "Acme", "slug": "acme", "tier": "PRO", "adminEmail": "a@acme.example"})

Against a deployed stack pass the API URL and leave credentials to boto3's usual chain.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials, ReadOnlyCredentials


@dataclass
class Response:
    status: int
    body: Any
    headers: dict[str, str]


class ControlPlaneClient:
    def __init__(
        self,
        base_url: str,
        credentials: Credentials | None = None,
        region: str = "us-east-1",
        timeout: float = 30.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        # boto3's chain gives frozen (ReadOnlyCredentials) credentials; SigV4Auth takes either kind.
        self.credentials: Credentials | ReadOnlyCredentials
        if credentials is None:
            import boto3

            found = boto3.session.Session().get_credentials()
            self.credentials = found.get_frozen_credentials() if found else Credentials("test", "test")
        else:
            self.credentials = credentials
        self.region = region
        self.timeout = timeout

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        raw: bytes | None = None,
        signed: bool = True,
        token: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        """Signed with SigV4 (the control plane), or with `token` as a Bearer token (the app API);
        `headers` are sent too (an `Idempotency-Key`, say) and signed with the request."""
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        headers = {**({"Content-Type": "application/json"} if data is not None else {}), **(headers or {})}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
            signed = False
        request = AWSRequest(method=method, url=self.base_url + path, data=data, headers=headers)
        if signed:
            SigV4Auth(self.credentials, "execute-api", self.region).add_auth(request)
        prepared = urllib.request.Request(  # noqa: S310 (the caller's API URL)
            self.base_url + path, data=data, method=method, headers=dict(request.headers.items())
        )
        try:
            with urllib.request.urlopen(prepared, timeout=self.timeout) as reply:  # noqa: S310
                status, payload, reply_headers = reply.status, reply.read(), dict(reply.headers.items())
        except urllib.error.HTTPError as error:
            status, payload, reply_headers = error.code, error.read(), dict(error.headers.items())
        try:
            parsed = json.loads(payload) if payload else None
        except ValueError:
            parsed = payload.decode(errors="replace")
        return Response(status, parsed, reply_headers)

    def get(self, path: str, **kw: Any) -> Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> Response:
        return self.request("POST", path, body, **kw)

    def patch(self, path: str, body: Any = None, **kw: Any) -> Response:
        return self.request("PATCH", path, body, **kw)

    def delete(self, path: str, **kw: Any) -> Response:
        return self.request("DELETE", path, **kw)
