"""A tenant's users: roles, request bodies, and the view the API answers with."""

from __future__ import annotations

from enum import StrEnum

from tenancy.common.fields import Email, Request, Version, Versioned
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


class Me(User):
    tier: Tier
