"""Typed repositories on the tenant-bound engine: pydantic models in and out, one per entity kind.

The engine (`TenantStore`) builds every key, pins the tenant's partition in every condition and
writes the audit item in the same transaction; a repository adds the kind (from the registry) and
the model, so services never pass kind strings or read dicts.
"""

from __future__ import annotations

from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel

from tenancy.application.store import keys
from tenancy.application.store.engine import Change, TenantStore
from tenancy.application.store.kinds import Kind
from tenancy.common.dynamo import Page
from tenancy.contracts.plans import EffectiveConfig

M = TypeVar("M", bound=BaseModel)


class Repository(Generic[M]):
    kind: ClassVar[Kind]
    model: type[M]

    def __init__(self, store: TenantStore) -> None:
        self.store = store

    @property
    def tenant_id(self) -> str:
        return self.store.tenant_id

    def get(self, item_id: str) -> M:
        return self._model(self.store.get(self.kind, item_id))

    def page(self, *, limit: int, cursor: str | None, where: dict[str, str] | None = None) -> Page[M]:
        found = self.store.list_items(self.kind, limit=limit, cursor=cursor, where=where)
        return Page([self._model(item) for item in found.items], found.next_cursor)

    def _create(
        self,
        item_id: str,
        attributes: dict[str, Any],
        verb: str = "create",
        *,
        unique_value: str | None = None,
        limits: EffectiveConfig | None = None,
    ) -> M:
        """`limits`: the caller's tenant's effective config; a counted kind is refused at its limit
        (`LIMIT_REACHED`). None: counted, never refused (the provisioner's first admin)."""
        item = self.store.create(
            self.kind,
            item_id,
            {self.kind.id_attribute: item_id, **attributes},
            self._change(verb, item_id),
            unique_value=unique_value,
            limit=self.limit(limits),
        )
        return self._model(item)

    def limit(self, limits: EffectiveConfig | None) -> int | None:
        """How many of this kind the tenant may hold under `limits` (None: not capped)."""
        if limits is None or self.kind.limit is None:
            return None
        return limits.limit(self.kind.limit)

    def _update(
        self,
        item_id: str,
        changes: dict[str, Any],
        expected_version: int | None,
        verb: str = "update",
        *,
        only_if: tuple[str, dict[str, str], dict[str, Any]] | None = None,
    ) -> M:
        item = self.store.update(
            self.kind, item_id, changes, expected_version, self._change(verb, item_id), only_if=only_if
        )
        return self._model(item)

    def _delete(self, item_id: str, verb: str = "delete", *, release_value: str | None = None) -> None:
        self.store.delete(self.kind, item_id, self._change(verb, item_id), release_value=release_value)

    def _change(self, verb: str, item_id: str) -> Change:
        return Change(f"{self.kind.audit_name}.{verb}", keys.item_sk(self.kind.prefix, item_id))

    def _model(self, item: dict[str, Any]) -> M:
        """The stored item as the model, not validated again: it was validated on the way in, and an
        item written before a field existed must still read (as the attributes it holds)."""
        return self.model.model_construct(**item)
