"""A tenant's users as stored: `USER#<id>` with the `EMAIL#<email>` marker that keeps emails unique."""

from __future__ import annotations

from tenancy.application.store import keys, kinds
from tenancy.application.store.repository import Repository
from tenancy.application.users.models import User
from tenancy.common.keys import tenant_pk
from tenancy.contracts.plans import EffectiveConfig


class Users(Repository[User]):
    kind = kinds.USER
    model = User

    def add(self, user_id: str, email: str, role: str, limits: EffectiveConfig | None = None) -> User:
        """The user item and its email marker, in one transaction (`EMAIL_TAKEN` when held;
        `LIMIT_REACHED` when the tenant holds as many users as `limits` allow)."""
        email = keys.normalise_email(email)
        return self._create(
            user_id,
            {
                "email": email,
                "role": role,
                "GSI2PK": keys.user_tenants_pk(user_id),
                "GSI2SK": tenant_pk(self.tenant_id),
            },
            unique_value=email,
            limits=limits,
        )

    def set_role(self, user_id: str, role: str, expected_version: int) -> User:
        return self._update(user_id, {"role": role}, expected_version)

    def remove(self, user: User, verb: str = "delete") -> None:
        self._delete(user.userId, verb, release_value=keys.normalise_email(user.email))
