"""A tenant's secrets' metadata as stored in its partition: `SECRET#<name>` (name, description,
versionId, length; never the value). Listing reads it (Secrets Manager's ListSecrets cannot be
limited to one tenant by IAM, so the tenant-scoped role is not given it), and every change writes
the audit trail in the same transaction."""

from __future__ import annotations

from typing import Any

from tenancy.application.secrets.models import Secret
from tenancy.application.store import kinds
from tenancy.application.store.repository import Repository
from tenancy.common.errors import ConflictError, NotFoundError


class SecretIndex(Repository[Secret]):
    kind = kinds.SECRET
    model = Secret

    def record(self, name: str, attributes: dict[str, Any]) -> Secret:
        """Create the metadata, or change it when the name is already recorded (a replace)."""
        try:
            return self._update(name, attributes, None, "put")
        except NotFoundError:
            pass
        try:
            return self._create(name, attributes, "put")
        except ConflictError:  # created by a racing put since: change it instead
            return self._update(name, attributes, None, "put")

    def remove(self, name: str) -> None:
        self._delete(name)

    def _model(self, item: dict[str, Any]) -> Secret:
        if "length" in item:  # the engine hands numbers other than `version` on as text
            item = {**item, "length": int(item["length"])}
        return super()._model(item)
