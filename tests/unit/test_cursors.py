import pytest

from tenancy.common.cursors import decode_cursor, encode_cursor
from tenancy.common.errors import InvalidRequestError

KEY = {"PK": "TENANT#a", "SK": "METADATA", "GSI1PK": "TENANT", "GSI1SK": "2026#a"}
NAMES = frozenset(KEY)


def test_round_trip_is_opaque() -> None:
    token = encode_cursor(KEY, "scope-1")
    assert "TENANT" not in token
    assert decode_cursor(token, "scope-1", NAMES) == KEY


def test_cursor_of_another_scope_is_refused() -> None:
    token = encode_cursor(KEY, "tenants?status=PENDING&tier=")
    with pytest.raises(InvalidRequestError, match="another query") as refused:
        decode_cursor(token, "tenants?status=&tier=", NAMES)
    assert refused.value.details[0]["field"] == "cursor"


@pytest.mark.parametrize(
    "token",
    ["", "!!!", "bm90IGpzb24", encode_cursor({"PK": "x"}, "s"), encode_cursor({**KEY, "PK": 1}, "s")],
)
def test_malformed_cursors_are_refused(token: str) -> None:
    with pytest.raises(InvalidRequestError, match="cursor is invalid"):
        decode_cursor(token, "s", NAMES)


def test_a_cursor_whose_key_leaves_the_partition_is_refused() -> None:
    """A hand-made cursor with the right scope but another tenant's key: refused here, before
    DynamoDB would answer a ValidationException (a start key outside the key condition)."""
    forged = encode_cursor({**KEY, "PK": "TENANT#b"}, "s")
    with pytest.raises(InvalidRequestError, match="cursor is invalid"):
        decode_cursor(forged, "s", NAMES, pinned={"PK": "TENANT#a"})
    assert decode_cursor(encode_cursor(KEY, "s"), "s", NAMES, pinned={"PK": "TENANT#a"}) == KEY
