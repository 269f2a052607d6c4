"""Property: with prefix-colliding tenant ids sharing one pooled table, random interleaved
operations never let a tenant read another's item, and each tenant sees exactly its own writes."""

from __future__ import annotations

import boto3
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, consumes, invariant, rule
from moto import mock_aws

from tenancy.application.store import kinds
from tenancy.application.store.engine import Actor, Change, TenantStore
from tenancy.common.errors import NotFoundError, StaleVersionError
from tenancy_infra.topology import APP_TABLE, create_table_request

TENANTS = ["a", "ab", "a-b"]  # `a` is a prefix of the others
TABLE = "tenancy-test-app"


def test_a_tenant_id_holding_the_key_separator_is_refused() -> None:
    with pytest.raises(ValueError, match="'#'"):
        TenantStore(object(), TABLE, "a#b", Actor("u", "t"))


class TenantIsolation(RuleBasedStateMachine):
    agents = Bundle("agents")

    def __init__(self) -> None:
        super().__init__()
        self.mock = mock_aws()
        self.mock.start()
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(**create_table_request(APP_TABLE, TABLE))
        self.stores = {t: TenantStore(client, TABLE, t, Actor(f"user-{t}", "trace")) for t in TENANTS}
        for store in self.stores.values():  # as the provisioner does
            store.open_partition()
        self.model: dict[str, dict[str, tuple[str, int]]] = {t: {} for t in TENANTS}  # id -> (name, version)
        self.counter = 0

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
