"""Keys of the application table (partition `PK=TENANT#<tenantId>`): the only place they are spelled."""

from __future__ import annotations

from tenancy.common.keys import checked_id

# `SK=PARTITION`: the marker of an open partition. The provisioner writes it before anything else of
# the tenant's and offboarding deletes it first; every tenant write requires it, so a request that
# still holds a cached authorization cannot write into a partition that is being or was purged.
PARTITION = "PARTITION"
USER = "USER"
AGENT = "AGENT"
EXECUTION = "EXEC"
AUDIT = "AUDIT"
EMAIL = "EMAIL"
# `SK=SECRET#<name>`: a tenant secret's metadata (never its value, which lives in Secrets Manager).
SECRET = "SECRET"  # noqa: S105 (a key prefix, not a password)
# `SK=COUNT#<kind>`: how many items of a counted kind the tenant holds (`n`), kept in the same
# transaction as each create and delete of that kind, so a plan's count limit holds under races.
COUNT = "COUNT"

# --- the BI workspace (groups, sharing, dashboards, cards): every access pattern is a GetItem or a
# Query on a prefix of this partition, read consistently (no index: a revoked membership or share
# must stop granting at once, and an index is eventually consistent).
GROUP = "GROUP"  # `GROUP#<groupId>`
GROUP_NAME = "GROUPNAME"  # `GROUPNAME#<casefolded name>`: the uniqueness marker (`ownerId` = groupId)
MEMBER = "MEMBER"  # `MEMBER#<groupId>#<userId>`: members by group
MEMBER_OF = "MEMBEROF"  # `MEMBEROF#<userId>#<groupId>`: groups by user (same transaction as MEMBER#)
DASHBOARD = "DASHBOARD"  # `DASHBOARD#<dashboardId>`
DASHBOARD_BY_OWNER = "DASHOWNER"  # `DASHOWNER#<ownerId>#<createdAt>#<dashboardId>`: newest first
SHARE = "SHARE"  # `SHARE#<dashboardId>#<targetType>#<targetId>`: shares by dashboard
SHARED_WITH = "SHARED"  # `SHARED#<targetType>#<targetId>#<dashboardId>`: shares by target
FILTER_VIEW = "VIEW"  # `VIEW#<dashboardId>#<viewId>`: filter views by dashboard
CARD = "CARD"  # `CARD#<cardId>`
CARD_BY_OWNER = "CARDOWNER"  # `CARDOWNER#<ownerId>#<createdAt>#<cardId>`: newest first
CARD_BY_DATASET = "CARDDATASET"  # `CARDDATASET#<datasetId>#<cardId>`
CARD_USE = "CARDUSE"  # `CARDUSE#<cardId>#<dashboardId>`: the dashboards whose layout holds a card
# --- datasets and card results (issue 13)
DATASET = "DATASET"  # `DATASET#<datasetId>`: metadata, status and the current import's files
# `CARDRESULT#<cardId>#<fingerprint>`: a card's rendered HTML for one (card version, dataset data
# versions, filters, params), with `expiresAt` (the table's TTL attribute).
CARD_RESULT = "CARDRESULT"


def item_sk(kind: str, item_id: str) -> str:
    """`USER#<id>`, `AGENT#<id>`, `EXEC#<id>`: one entity of a tenant."""
    return f"{kind}#{checked_id(item_id, f'{kind.lower()}Id')}"


def unique_sk(marker: str, value: str) -> str:
    """The marker item holding a value unique within the tenant (`EMAIL#<email>`)."""
    return f"{marker}#{value}"


def count_sk(kind: str) -> str:
    """The counter item of a counted kind (`COUNT#USER`, `COUNT#AGENT`)."""
    return f"{COUNT}#{kind}"


def normalise_email(email: str) -> str:
    return email.strip().lower()


def audit_sk(timestamp: str, audit_id: str) -> str:
    return f"{AUDIT}#{timestamp}#{audit_id}"


def user_tenants_pk(user_id: str) -> str:
    """GSI2 partition: a user's memberships (`GSI2PK=USER#<userId>`, `GSI2SK=TENANT#<tenantId>`)."""
    return f"{USER}#{checked_id(user_id, 'userId')}"


def normalise_name(name: str) -> str:
    """A name as its uniqueness marker holds it: case-insensitive (casefolded), as typed otherwise."""
    return name.casefold()


def group_name_sk(name: str) -> str:
    return unique_sk(GROUP_NAME, normalise_name(name))


def member_sk(group_id: str, user_id: str) -> str:
    return f"{item_sk(MEMBER, group_id)}#{checked_id(user_id, 'userId')}"


def members_prefix(group_id: str) -> str:
    return f"{item_sk(MEMBER, group_id)}#"


def member_of_sk(user_id: str, group_id: str) -> str:
    return f"{item_sk(MEMBER_OF, user_id)}#{checked_id(group_id, 'groupId')}"


def member_of_prefix(user_id: str) -> str:
    return f"{item_sk(MEMBER_OF, user_id)}#"


def dashboard_by_owner_sk(owner_id: str, created_at: str, dashboard_id: str) -> str:
    return f"{item_sk(DASHBOARD_BY_OWNER, owner_id)}#{created_at}#{checked_id(dashboard_id, 'dashboardId')}"


def dashboards_by_owner_prefix(owner_id: str) -> str:
    return f"{item_sk(DASHBOARD_BY_OWNER, owner_id)}#"


def share_sk(dashboard_id: str, target_type: str, target_id: str) -> str:
    return f"{shares_prefix(dashboard_id)}{target_type}#{checked_id(target_id, 'targetId')}"


def shares_prefix(dashboard_id: str) -> str:
    return f"{item_sk(SHARE, dashboard_id)}#"


def shared_with_sk(target_type: str, target_id: str, dashboard_id: str) -> str:
    return f"{shared_with_prefix(target_type, target_id)}{checked_id(dashboard_id, 'dashboardId')}"


def shared_with_prefix(target_type: str, target_id: str) -> str:
    return f"{SHARED_WITH}#{target_type}#{checked_id(target_id, 'targetId')}#"


def filter_view_sk(dashboard_id: str, view_id: str) -> str:
    return f"{filter_views_prefix(dashboard_id)}{checked_id(view_id, 'viewId')}"


def filter_views_prefix(dashboard_id: str) -> str:
    return f"{item_sk(FILTER_VIEW, dashboard_id)}#"


def card_by_owner_sk(owner_id: str, created_at: str, card_id: str) -> str:
    return f"{item_sk(CARD_BY_OWNER, owner_id)}#{created_at}#{checked_id(card_id, 'cardId')}"


def cards_by_owner_prefix(owner_id: str) -> str:
    return f"{item_sk(CARD_BY_OWNER, owner_id)}#"


def card_by_dataset_sk(dataset_id: str, card_id: str) -> str:
    return f"{item_sk(CARD_BY_DATASET, dataset_id)}#{checked_id(card_id, 'cardId')}"


def cards_by_dataset_prefix(dataset_id: str) -> str:
    return f"{item_sk(CARD_BY_DATASET, dataset_id)}#"


def card_use_sk(card_id: str, dashboard_id: str) -> str:
    return f"{card_uses_prefix(card_id)}{checked_id(dashboard_id, 'dashboardId')}"


def card_uses_prefix(card_id: str) -> str:
    return f"{item_sk(CARD_USE, card_id)}#"


def card_result_sk(card_id: str, fingerprint: str) -> str:
    return f"{item_sk(CARD_RESULT, card_id)}#{checked_id(fingerprint, 'fingerprint')}"


def card_results_prefix(card_id: str) -> str:
    return f"{item_sk(CARD_RESULT, card_id)}#"
