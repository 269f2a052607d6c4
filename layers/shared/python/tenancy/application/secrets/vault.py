"""A tenant's secret values in Secrets Manager: `/<app>/<stage>/tenants/<tenantId>/<name>`, encrypted
with our KMS key, tagged `TenantId` (and `Application`, `Stage`).

The app API's vault holds a client with the tenant's scoped credentials: IAM lets it touch only
secrets under that tenant's path and tagged with that tenant (cdk/tenancy_infra/stacks/tenant_access.py).
Nothing here logs or returns a value, except `value()`.

Deleting: a tenant's DELETE schedules deletion with the shortest recovery window (7 days), so an
operator can still restore a secret deleted by mistake; the secret is gone from the API at once. A
PUT of a name still in its recovery window restores it and puts the new value (Secrets Manager
refuses to create a secret whose name is scheduled for deletion). Offboarding deletes without
recovery (`purge_tenant_secrets`): nothing of an offboarded tenant may linger.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from tenancy.common.names import route_path

RECOVERY_WINDOW_DAYS = 7  # Secrets Manager's shortest
TENANT_TAG = "TenantId"
# Every tag a tenant's secret carries (the tenant-access role allows creating secrets with these only).
TAG_KEYS = (TENANT_TAG, "Application", "Stage")
_GONE = ("ResourceNotFoundException",)


def tenant_secrets_prefix(app_name: str, stage: str, tenant_id: str) -> str:
    """`/<app>/<stage>/tenants/<tenantId>/`: every secret of the tenant is named under it."""
    return route_path(app_name, stage, tenant_id)


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _marked_for_deletion(error: ClientError) -> bool:
    message = str(error.response.get("Error", {}).get("Message", "")).lower()
    return _code(error) == "InvalidRequestException" and ("deleted" in message or "deletion" in message)


@dataclass(frozen=True)
class Stored:
    """What Secrets Manager answered to a put: the secret's ARN and the new value's version id."""

    arn: str
    version_id: str


@dataclass
class SecretVault:
    """One tenant's secrets. `client`: a Secrets Manager client (tenant-scoped in the app API)."""

    client: Any
    app_name: str
    stage: str
    tenant_id: str
    kms_key_id: str = ""  # empty: Secrets Manager's default key (aws/secretsmanager)

    def secret_id(self, name: str) -> str:
        return tenant_secrets_prefix(self.app_name, self.stage, self.tenant_id) + name

    def put(self, name: str, value: str, description: str) -> Stored:
        """Create the secret, or put a new value (and description) on the existing one; a name in its
        recovery window is restored first. Idempotent in effect: a retry puts the same value again."""
        secret_id = self.secret_id(name)
        request: dict[str, Any] = {"Name": secret_id, "SecretString": value, "Description": description}
        if self.kms_key_id:
            request["KmsKeyId"] = self.kms_key_id
        try:
            created = self.client.create_secret(
                **request,
                Tags=[
                    {"Key": TENANT_TAG, "Value": self.tenant_id},
                    {"Key": "Application", "Value": self.app_name},
                    {"Key": "Stage", "Value": self.stage},
                ],
            )
            return Stored(created["ARN"], created["VersionId"])
        except ClientError as error:
            # AWS says InvalidRequestException for a name scheduled for deletion; moto says it exists.
            if _code(error) != "ResourceExistsException" and not _marked_for_deletion(error):
                raise
        update = {"SecretId": secret_id, "SecretString": value, "Description": description}
        if self.kms_key_id:
            update["KmsKeyId"] = self.kms_key_id
        try:
            updated = self.client.update_secret(**update)
        except ClientError as error:
            if not _marked_for_deletion(error):
                raise
            self.client.restore_secret(SecretId=secret_id)
            updated = self.client.update_secret(**update)
        return Stored(updated["ARN"], updated["VersionId"])

    def value(self, name: str) -> str:
        return str(self.client.get_secret_value(SecretId=self.secret_id(name))["SecretString"])

    def delete(self, name: str) -> bool:
        """Schedule the secret's deletion (RECOVERY_WINDOW_DAYS); False when there was none to delete
        (never created, or already scheduled)."""
        try:
            self.client.delete_secret(
                SecretId=self.secret_id(name), RecoveryWindowInDays=RECOVERY_WINDOW_DAYS
            )
        except ClientError as error:
            if _code(error) in _GONE or _marked_for_deletion(error):
                return False
            raise
        return True


def purge_tenant_secrets(client: Any, app_name: str, stage: str, tenant_id: str) -> int:
    """Delete, without recovery, every secret under the tenant's path (those scheduled for deletion
    too); returns how many. Idempotent: a redelivery finds none left (or deletes them again).

    ListSecrets' name filter is a case-insensitive prefix match, so each name is checked exactly
    (and its TenantId tag, when it has one) before it is deleted: another tenant's is never touched."""
    prefix = tenant_secrets_prefix(app_name, stage, tenant_id)
    deleted = 0
    paginator = client.get_paginator("list_secrets")
    pages = paginator.paginate(Filters=[{"Key": "name", "Values": [prefix]}], IncludePlannedDeletion=True)
    for page in pages:
        for secret in page.get("SecretList", []):
            name = str(secret.get("Name", ""))
            tags = {tag["Key"]: tag["Value"] for tag in secret.get("Tags", [])}
            if not name.startswith(prefix) or tags.get(TENANT_TAG, tenant_id) != tenant_id:
                continue
            try:
                client.delete_secret(SecretId=secret["ARN"], ForceDeleteWithoutRecovery=True)
            except ClientError as error:
                if _code(error) not in _GONE:
                    raise
            deleted += 1
    return deleted
