"""A tenant's objects, reached as that tenant: its bucket and prefix (`tenants/<tenantId>/`, pool and
silo alike) from its route, and an S3 client with credentials scoped to it (the tenant-access role's
`tenants/${aws:PrincipalTag/TenantId}/*` object policy). Callers name objects relative to the prefix;
no call can leave it, and IAM refuses one that would.

The role has object actions only (Get, Put, Delete): no ListBucket, so whoever writes objects keeps
their keys (a dataset's item lists its files).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

# A relative key: path segments of safe characters, no empty segment, no `.` or `..`. `%` and `~`
# are for percent-encoded partition values (datasets.layout.partition_value_segment, Hive style):
# in an S3 key they are literal characters, so `%2F` is never a separator.
_SEGMENT = re.compile(r"^[A-Za-z0-9_.:@+=%~-]+$")
MAX_KEY_LENGTH = 900  # S3 allows 1024 bytes; the prefix and the bucket's own prefixes need the rest
PRESIGNED_SECONDS = 900
_CHUNK_BYTES = 1024 * 1024


class ObjectNotFoundError(LookupError):
    pass


def checked_relative_key(relative: str) -> str:
    if not relative or len(relative) > MAX_KEY_LENGTH:
        raise ValueError("an object key must be 1..900 characters")
    for segment in relative.split("/"):
        if segment in ("", ".", "..") or not _SEGMENT.fullmatch(segment):
            raise ValueError(f"not a safe object key: {relative!r}")
    return relative


@dataclass(frozen=True)
class TenantObjects:
    """One tenant's objects: `key(relative)` is the full key under the tenant's prefix."""

    s3: Any  # a client with the tenant's credentials
    bucket: str
    prefix: str  # `tenants/<tenantId>/`

    def key(self, relative: str) -> str:
        return self.prefix + checked_relative_key(relative)

    def relative(self, key: str) -> str:
        """The relative key of a full key under this tenant's prefix (ValueError otherwise)."""
        if not key.startswith(self.prefix):
            raise ValueError(f"{key!r} is not under {self.prefix!r}")
        return checked_relative_key(key[len(self.prefix) :])

    def get_bytes(self, relative: str, max_bytes: int | None = None) -> bytes:
        try:
            answer = self.s3.get_object(Bucket=self.bucket, Key=self.key(relative))
        except self.s3.exceptions.NoSuchKey as error:
            raise ObjectNotFoundError(relative) from error
        body = answer["Body"]
        if max_bytes is not None and answer.get("ContentLength", 0) > max_bytes:
            body.close()
            raise ValueError(f"{relative} is larger than {max_bytes} bytes")
        return bytes(body.read())

    def size(self, relative: str) -> int:
        try:
            return int(self.s3.head_object(Bucket=self.bucket, Key=self.key(relative))["ContentLength"])
        except self.s3.exceptions.ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                raise ObjectNotFoundError(relative) from error
            raise

    def download(self, relative: str, path: str) -> None:
        """The object into the file at `path`, streamed (GetObject: the functions' clients are
        botocore's, which have no download_file)."""
        try:
            answer = self.s3.get_object(Bucket=self.bucket, Key=self.key(relative))
        except self.s3.exceptions.NoSuchKey as error:
            raise ObjectNotFoundError(relative) from error
        body = answer["Body"]
        try:
            with open(path, "wb") as file:
                for chunk in body.iter_chunks(_CHUNK_BYTES):
                    file.write(chunk)
        finally:
            body.close()

    def put_bytes(self, relative: str, body: bytes, content_type: str = "application/octet-stream") -> None:
        self.s3.put_object(Bucket=self.bucket, Key=self.key(relative), Body=body, ContentType=content_type)

    def upload(self, path: str, relative: str) -> None:
        """The file at `path` as one PutObject (up to S3's 5 GB; botocore's clients have no
        upload_file)."""
        with open(path, "rb") as file:
            self.s3.put_object(Bucket=self.bucket, Key=self.key(relative), Body=file)

    def delete(self, relatives: list[str]) -> None:
        """Delete objects one by one (DeleteObjects needs no more rights, but is a POST moto and S3
        authorize per key the same way; kept simple); a missing object is not an error."""
        for relative in relatives:
            self.s3.delete_object(Bucket=self.bucket, Key=self.key(relative))

    def presigned_post(
        self, relative: str, max_bytes: int, expires_in: int = PRESIGNED_SECONDS
    ) -> dict[str, Any]:
        """A browser/curl upload of one object (HTTP POST, multipart form): S3 itself refuses a
        body over `max_bytes` (the policy's `content-length-range`), and the signature is the
        tenant's own, so it reaches nothing outside the tenant's prefix."""
        key = self.key(relative)
        return dict(
            self.s3.generate_presigned_post(
                Bucket=self.bucket,
                Key=key,
                Fields={"key": key},
                Conditions=[{"key": key}, ["content-length-range", 1, max_bytes]],
                ExpiresIn=expires_in,
            )
        )
