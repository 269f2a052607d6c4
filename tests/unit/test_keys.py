import pytest

from tenancy.common import keys as common_keys
from tenancy.control import keys as control_keys


@pytest.mark.parametrize("bad", ["", "a#b", "#", "a b", "tenant/1", "x" * 129, "ü"])
def test_ids_that_could_break_key_isolation_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="tenantId"):
        common_keys.tenant_pk(bad)


def test_tenant_keys_are_exact_and_reversible() -> None:
    assert control_keys.tenant_key("a-1") == {"PK": "TENANT#a-1", "SK": "METADATA"}
    assert common_keys.tenant_id_from_pk("TENANT#a-1") == "a-1"
    with pytest.raises(ValueError, match="not a tenant key"):
        common_keys.tenant_id_from_pk("SLUG#a-1")


def test_prefix_colliding_ids_get_distinct_partitions() -> None:
    assert common_keys.tenant_pk("a") != common_keys.tenant_pk("ab")
    assert not common_keys.tenant_pk("ab").startswith(common_keys.tenant_pk("a") + "#")


def test_slug_and_index_keys() -> None:
    assert control_keys.slug_key("acme") == {"PK": "SLUG#acme", "SK": "SLUG"}
    assert control_keys.status_index_pk("PENDING") == "STATUS#PENDING"
    assert control_keys.created_sort_key("2026-01-01T00:00:00.000Z", "t1") == "2026-01-01T00:00:00.000Z#t1"
    with pytest.raises(ValueError, match="slug"):
        control_keys.slug_key("a#b")
