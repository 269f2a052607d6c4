"""A tenant's users: roles, request bodies, and the view the API answers with."""

from __future__ import annotations

from enum import StrEnum

from tenancy.common.fields import Email, Request, Version, Versioned, View
from tenancy.contracts.tiers import Tier


class Role(StrEnum):
    ADMIN = "admin"
    MEMBER = "member"


class CreateUserRequest(Request):
    email: Email
    role: Role = Role.MEMBER


class UpdateUserRequest(Request):
    role: Role
    version: Version


class User(Versioned):
    userId: str
    email: str
    role: Role


class UserGroup(View):
    """A group the user belongs to."""

    groupId: str
    name: str


class UserDetail(User):
    """One user as an admin reads it: with their groups."""

    groups: list[UserGroup]


class Me(UserDetail):
    tier: Tier
