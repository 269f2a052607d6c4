"""Property: with prefix-colliding tenant ids sharing one pooled table, random interleaved
operations never let a tenant read another's item, and each tenant sees exactly its own writes.

The BI workspace (issue 12) is in the same machine: dashboards, groups, memberships and shares,
made and removed through the access graph (`tenancy.application.sharing.graph`, committed on the
tenant's store as the routes do, with a group's delete as its service runs it: mark, sweep its
shares and members, delete) and read through `DashboardAccess.resolve`, the resolution behind every
dashboard route. Each tenant has the same user ids (an admin and two members), so a user id alone
never tells tenants apart. Any operation may name another tenant's dashboard or group; a read of a
dashboard is made as every user of a tenant, either the dashboard's or another, and must give
exactly the model's permission: none (404) across tenants, and within the tenant ownership, else the
highest of a direct share and the shares to the groups the user is a member of now, an admin at
least a viewer, and nobody else anything.

Size: 25 examples of at most 25 steps each, the workspace's rules taking turns with the agents' in
the same steps, each workspace rule resolving the dashboards it may have changed for every user of
both tenants: about 40 s of CPU (the agents-only machine before it took 50 s; one DynamoDB client for
every example instead of one per example pays for the workspace). A model that let a group's share
reach a user outside the group fails it within those examples.
"""

from __future__ import annotations

import functools
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, consumes, initialize, invariant, rule
from moto import mock_aws

from tenancy.application.sharing import graph
from tenancy.application.sharing.permissions import DashboardAccess, Permission, TargetType, highest
from tenancy.application.store import keys, kinds
from tenancy.application.store.engine import Actor, Change, TenantStore
from tenancy.application.store.transaction import Transaction
from tenancy.common.errors import (
    ConflictError,
    NotFoundError,
    StaleVersionError,
    ValidationFailedError,
)
from tenancy.contracts.context import TenantContext
from tenancy_infra.topology import APP_TABLE, create_table_request

TENANTS = ["a", "ab", "a-b"]  # `a` is a prefix of the others
TABLE = "tenancy-test-app"
# Every tenant's users, the same ids in each: `admin` is a tenant admin, the others members.
USERS = {"admin": "admin", "m1": "member", "m2": "member"}
NOW = "2026-12-03T10:00:00.000000Z"
# The workspace lives in two of the tenants (`a` a prefix of `ab`); an operation names its resource's
# own tenant three times in four, and the other tenant otherwise (the cross-tenant attempt).
WORKSPACE = ["a", "ab"]
ELSEWHERE = st.sampled_from([False, False, False, True])


def test_a_tenant_id_holding_the_key_separator_is_refused() -> None:
    with pytest.raises(ValueError, match="'#'"):
        TenantStore(object(), TABLE, "a#b", Actor("u", "t"))


@functools.cache
def dynamodb() -> Any:
    """One client for every example: each example's mock starts empty, and a client made under an
    earlier one talks to the current one (making a client is most of an example's setup time)."""
    return boto3.client("dynamodb", region_name="us-east-1")


class TenantIsolation(RuleBasedStateMachine):
    agents = Bundle("agents")
    dashboards = Bundle("dashboards")
    groups = Bundle("groups")

    def __init__(self) -> None:
        super().__init__()
        self.mock = mock_aws()
        self.mock.start()
        client = dynamodb()
        client.create_table(**create_table_request(APP_TABLE, TABLE))
        self.stores = {t: TenantStore(client, TABLE, t, Actor(f"user-{t}", "trace")) for t in TENANTS}
        for store in self.stores.values():  # as the provisioner does
            store.open_partition()
        self.model: dict[str, dict[str, tuple[str, int]]] = {t: {} for t in TENANTS}  # id -> (name, version)
        self.counter = 0
        # The workspace's model, each key led by its tenant: live dashboards (-> owner), live groups,
        # memberships (tenant, group, user) and shares (tenant, dashboard, type, target -> permission).
        self.owners: dict[tuple[str, str], str] = {}
        self.live_groups: set[tuple[str, str]] = set()
        self.members: set[tuple[str, str, str]] = set()
        self.shares: dict[tuple[str, str, str, str], Permission] = {}
        for tenant in WORKSPACE:
            for user_id, role in USERS.items():
                item = {"userId": user_id, "role": role, "email": f"{user_id}@{tenant}.example"}
                self.stores[tenant].commit(Transaction().put(keys.item_sk(keys.USER, user_id), item), None)

    def teardown(self) -> None:
        self.mock.stop()

    @rule(target=agents, tenant=st.sampled_from(TENANTS), name=st.text(min_size=1, max_size=8))
    def create(self, tenant: str, name: str) -> tuple[str, str]:
        self.counter += 1
        agent_id = f"agent-{self.counter}"
        self.stores[tenant].create(
            kinds.AGENT, agent_id, {"agentId": agent_id, "name": name}, Change("agent.create", agent_id)
        )
        self.model[tenant][agent_id] = (name, 1)
        return tenant, agent_id

    @rule(agent=agents, reader=st.sampled_from(TENANTS))
    def read(self, agent: tuple[str, str], reader: str) -> None:
        _owner, agent_id = agent
        if agent_id in self.model[reader]:
            item = self.stores[reader].get(kinds.AGENT, agent_id)
            assert (item["name"], item["version"]) == self.model[reader][agent_id]
        else:
            with pytest.raises(NotFoundError):
                self.stores[reader].get(kinds.AGENT, agent_id)

    @rule(agent=agents, writer=st.sampled_from(TENANTS), name=st.text(min_size=1, max_size=8))
    def update(self, agent: tuple[str, str], writer: str, name: str) -> None:
        _, agent_id = agent
        if agent_id in self.model[writer]:
            version = self.model[writer][agent_id][1]
            self.stores[writer].update(
                kinds.AGENT, agent_id, {"name": name}, version, Change("agent.update", agent_id)
            )
            self.model[writer][agent_id] = (name, version + 1)
            with pytest.raises(StaleVersionError):  # the same version again loses
                self.stores[writer].update(
                    kinds.AGENT, agent_id, {"name": "x"}, version, Change("agent.update", agent_id)
                )
        else:
            with pytest.raises(NotFoundError):
                self.stores[writer].update(
                    kinds.AGENT, agent_id, {"name": name}, 1, Change("agent.update", agent_id)
                )

    @rule(agent=consumes(agents), deleter=st.sampled_from(TENANTS))
    def delete(self, agent: tuple[str, str], deleter: str) -> None:
        _owner, agent_id = agent
        if agent_id in self.model[deleter]:
            self.stores[deleter].delete(kinds.AGENT, agent_id, Change("agent.delete", agent_id))
            del self.model[deleter][agent_id]
        else:
            with pytest.raises(NotFoundError):
                self.stores[deleter].delete(kinds.AGENT, agent_id, Change("agent.delete", agent_id))

    # --- the workspace -------------------------------------------------------------------------

    def _next(self, kind: str) -> str:
        self.counter += 1
        return f"{kind}-{self.counter}"

    @staticmethod
    def _where(resource: tuple[str, str], elsewhere: bool) -> str:
        """The tenant whose store an operation on `resource` uses: its own, or the other one."""
        own = resource[0]
        return next(t for t in WORKSPACE if t != own) if elsewhere else own

    # Each example starts with a dashboard and a group in the same tenant, so shares to groups and
    # memberships that grant are common from the first steps.
    @initialize(target=dashboards, owner=st.sampled_from(list(USERS)))
    def first_dashboard(self, owner: str) -> tuple[str, str]:
        return self._create_dashboard(WORKSPACE[0], owner)

    @initialize(target=groups)
    def first_group(self) -> tuple[str, str]:
        return self._create_group(WORKSPACE[0])

    @rule(target=dashboards, tenant=st.sampled_from(WORKSPACE), owner=st.sampled_from(list(USERS)))
    def create_dashboard(self, tenant: str, owner: str) -> tuple[str, str]:
        return self._create_dashboard(tenant, owner)

    @rule(target=groups, tenant=st.sampled_from(WORKSPACE))
    def create_group(self, tenant: str) -> tuple[str, str]:
        return self._create_group(tenant)

    def _create_dashboard(self, tenant: str, owner: str) -> tuple[str, str]:
        dashboard_id = self._next("dashboard")
        item = {"dashboardId": dashboard_id, "ownerId": owner, "name": dashboard_id, "version": 1}
        tx = Transaction().put(keys.item_sk(keys.DASHBOARD, dashboard_id), item)
        self.stores[tenant].commit(tx, Change("dashboard.create", keys.item_sk(keys.DASHBOARD, dashboard_id)))
        self.owners[(tenant, dashboard_id)] = owner
        return tenant, dashboard_id

    def _create_group(self, tenant: str) -> tuple[str, str]:
        group_id = self._next("group")
        item = {"groupId": group_id, "name": group_id, "memberCount": 0, "version": 1}
        tx = Transaction().put(keys.item_sk(keys.GROUP, group_id), item)
        self.stores[tenant].commit(tx, Change("group.create", keys.item_sk(keys.GROUP, group_id)))
        self.live_groups.add((tenant, group_id))
        return tenant, group_id

    @rule(group=groups, elsewhere=ELSEWHERE, user=st.sampled_from(list(USERS)))
    def add_member(self, group: tuple[str, str], elsewhere: bool, user: str) -> None:
        tenant = self._where(group, elsewhere)
        tx = graph.add_member_writes(Transaction(), group[1], user, NOW, "admin")
        change = Change("group.member.add", keys.member_sk(group[1], user))
        if (tenant, group[1]) not in self.live_groups:  # another tenant's group, or deleted
            with pytest.raises(NotFoundError):
                self.stores[tenant].commit(tx, change)
        elif (tenant, group[1], user) in self.members:
            with pytest.raises(ConflictError):
                self.stores[tenant].commit(tx, change)
        else:
            self.stores[tenant].commit(tx, change)
            self.members.add((tenant, group[1], user))
        self.check(self.shared_with(group[1]))

    @rule(group=groups, elsewhere=ELSEWHERE, user=st.sampled_from(list(USERS)))
    def remove_member(self, group: tuple[str, str], elsewhere: bool, user: str) -> None:
        tenant = self._where(group, elsewhere)
        tx = graph.remove_member_writes(Transaction(), group[1], user)
        change = Change("group.member.remove", keys.member_sk(group[1], user))
        if (tenant, group[1], user) in self.members:
            self.stores[tenant].commit(tx, change)
            self.members.discard((tenant, group[1], user))
        else:
            with pytest.raises(NotFoundError):
                self.stores[tenant].commit(tx, change)
        self.check(self.shared_with(group[1]))

    @rule(
        dashboard=dashboards,
        elsewhere=ELSEWHERE,
        user=st.sampled_from(list(USERS)),
        permission=st.sampled_from([Permission.VIEWER, Permission.EDITOR]),
    )
    def share_to_user(
        self, dashboard: tuple[str, str], elsewhere: bool, user: str, permission: Permission
    ) -> None:
        self._share(dashboard, self._where(dashboard, elsewhere), TargetType.USER, user, permission)

    @rule(
        dashboard=dashboards,
        group=groups,
        elsewhere=ELSEWHERE,
        permission=st.sampled_from([Permission.VIEWER, Permission.EDITOR]),
    )
    def share_to_group(
        self, dashboard: tuple[str, str], group: tuple[str, str], elsewhere: bool, permission: Permission
    ) -> None:
        tenant = self._where(dashboard, elsewhere)
        self._share(dashboard, tenant, TargetType.GROUP, group[1], permission)

    def _share(
        self,
        dashboard: tuple[str, str],
        tenant: str,
        target_type: TargetType,
        target: str,
        permission: Permission,
    ) -> None:
        """A share made on `tenant`'s store by the dashboard's owner as the model knows it (the
        strongest attempt: the right owner id, maybe the wrong tenant)."""
        dashboard_id = dashboard[1]
        owner = self.owners.get(dashboard, "admin")
        tx = Transaction()
        graph.add_share_writes(tx, dashboard_id, owner, target_type, target, permission, NOW)
        change = Change("share.create", keys.share_sk(dashboard_id, target_type, target))
        key = (tenant, dashboard_id, str(target_type), target)
        target_exists = target_type is TargetType.USER or (tenant, target) in self.live_groups
        if (tenant, dashboard_id) not in self.owners or not target_exists:
            with pytest.raises((NotFoundError, ValidationFailedError)):
                self.stores[tenant].commit(tx, change)
        elif key in self.shares:
            with pytest.raises(ConflictError):
                self.stores[tenant].commit(tx, change)
        else:
            self.stores[tenant].commit(tx, change)
            self.shares[key] = permission
        self.check([dashboard])

    @rule(dashboard=dashboards, elsewhere=ELSEWHERE, user=st.sampled_from(list(USERS)))
    def unshare_user(self, dashboard: tuple[str, str], elsewhere: bool, user: str) -> None:
        self._unshare(dashboard, self._where(dashboard, elsewhere), TargetType.USER, user)

    @rule(dashboard=dashboards, group=groups, elsewhere=ELSEWHERE)
    def unshare_group(self, dashboard: tuple[str, str], group: tuple[str, str], elsewhere: bool) -> None:
        self._unshare(dashboard, self._where(dashboard, elsewhere), TargetType.GROUP, group[1])

    def _unshare(
        self, dashboard: tuple[str, str], tenant: str, target_type: TargetType, target_id: str
    ) -> None:
        tx = Transaction()
        graph.remove_share_writes(tx, dashboard[1], target_type, target_id)
        change = Change("share.delete", keys.share_sk(dashboard[1], target_type, target_id))
        key = (tenant, dashboard[1], str(target_type), target_id)
        if key in self.shares:
            self.stores[tenant].commit(tx, change)
            del self.shares[key]
        else:
            with pytest.raises(NotFoundError):
                self.stores[tenant].commit(tx, change)
        self.check([dashboard])

    @rule(group=groups, elsewhere=ELSEWHERE)
    def delete_group(self, group: tuple[str, str], elsewhere: bool) -> None:
        """As the groups service deletes one: mark it deleting (404 if this tenant has no such
        group), sweep the shares made to it and its memberships, then delete it."""
        tenant = self._where(group, elsewhere)
        group_id = group[1]
        store = self.stores[tenant]
        mark = Transaction().update(
            keys.item_sk(keys.GROUP, group_id),
            "SET deletingAt = :now",
            values={":now": NOW},
            on_fail=lambda _: NotFoundError(f"group {group_id} not found"),
        )
        affected = self.shared_with(group_id)
        if (tenant, group_id) not in self.live_groups:
            with pytest.raises(NotFoundError):
                store.commit(mark, None)
        else:
            store.commit(mark, None)
            graph.remove_shares_to(store, TargetType.GROUP, group_id)
            graph.remove_group_members(store, group_id)
            gone = Transaction().delete(keys.item_sk(keys.GROUP, group_id))
            store.commit(gone, Change("group.delete", keys.item_sk(keys.GROUP, group_id)))
            self.live_groups.discard((tenant, group_id))
            self.members = {m for m in self.members if m[:2] != (tenant, group_id)}
            self.shares = {
                k: v for k, v in self.shares.items() if not (k[0] == tenant and k[2:] == ("group", group_id))
            }
        self.check(affected)

    @rule(dashboard=dashboards, elsewhere=ELSEWHERE)
    def delete_dashboard(self, dashboard: tuple[str, str], elsewhere: bool) -> None:
        """As the dashboards service deletes one: the item, then the sweep of its shares."""
        tenant = self._where(dashboard, elsewhere)
        dashboard_id = dashboard[1]
        store = self.stores[tenant]
        tx = Transaction().delete(
            keys.item_sk(keys.DASHBOARD, dashboard_id),
            on_fail=lambda _: NotFoundError(f"dashboard {dashboard_id} not found"),
        )
        change = Change("dashboard.delete", keys.item_sk(keys.DASHBOARD, dashboard_id))
        if (tenant, dashboard_id) not in self.owners:
            with pytest.raises(NotFoundError):
                store.commit(tx, change)
        else:
            store.commit(tx, change)
            graph.remove_shares_of(store, dashboard_id)
            del self.owners[(tenant, dashboard_id)]
            self.shares = {k: v for k, v in self.shares.items() if k[:2] != (tenant, dashboard_id)}
        self.check([dashboard])

    def expected(self, tenant: str, dashboard_id: str, user: str) -> Permission | None:
        """The model's permission of `user` of `tenant` on the dashboard (None: it is a 404)."""
        owner = self.owners.get((tenant, dashboard_id))
        if owner is None:  # not this tenant's dashboard, or deleted
            return None
        if owner == user:
            return Permission.OWNER
        via_groups = [
            permission
            for (t, d, kind, target), permission in self.shares.items()
            if (t, d, kind) == (tenant, dashboard_id, "group") and (tenant, target, user) in self.members
        ]
        found = highest([self.shares.get((tenant, dashboard_id, "user", user)), *via_groups])
        if USERS[user] == "admin":
            found = highest([found, Permission.VIEWER])
        return found

    def shared_with(self, group_id: str) -> list[tuple[str, str]]:
        """The dashboards (tenant, id) shared with a group: what its changes may change."""
        return sorted(
            {(t, d) for (t, d, kind, target) in self.shares if (kind, target) == ("group", group_id)}
        )

    def check(self, dashboards: list[tuple[str, str]]) -> None:
        """Every user of both tenants (a dashboard's and the other) resolves each of `dashboards`:
        exactly the model's permission, and never another tenant's dashboard nor one without
        ownership, a share (direct, or to a group the user is a member of now) or the admin role.
        Every workspace rule checks the dashboards it may have changed."""
        for tenant, dashboard_id in dashboards:
            for reader in WORKSPACE:
                access = DashboardAccess(self.stores[reader])
                for user, role in USERS.items():
                    caller = TenantContext(reader, user, role, "PRO")
                    wanted = self.expected(reader, dashboard_id, user)
                    if wanted is None:
                        with pytest.raises(NotFoundError):
                            access.resolve(dashboard_id, caller)
                    else:
                        assert reader == tenant  # the model itself never grants across tenants
                        found = access.resolve(dashboard_id, caller)
                        assert found.permission == wanted, (reader, dashboard_id, user)
                        assert found.dashboard["dashboardId"] == dashboard_id
                        assert found.dashboard["ownerId"] == self.owners[(reader, dashboard_id)]

    @rule(dashboard=dashboards)
    def read_dashboard(self, dashboard: tuple[str, str]) -> None:
        self.check([dashboard])

    @invariant()
    def each_tenant_sees_exactly_its_own_items(self) -> None:
        for tenant, store in self.stores.items():
            seen: dict[str, tuple[str, int]] = {}
            cursor = None
            while True:
                page = store.list_items(kinds.AGENT, limit=2, cursor=cursor)
                cursor = page.next_cursor
                seen.update({i["agentId"]: (i["name"], i["version"]) for i in page.items})
                if cursor is None:
                    break
            assert seen == self.model[tenant]


TenantIsolation.TestCase.settings = settings(
    max_examples=25, stateful_step_count=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
TestTenantIsolation = TenantIsolation.TestCase
