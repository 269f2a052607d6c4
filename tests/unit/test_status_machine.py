import itertools

import pytest

from tenancy.contracts.tiers import Isolation, Tier, isolation_for
from tenancy.control.models import TRANSITIONS, Status, can_transition, sources_of

LEGAL = {
    (Status.PENDING, Status.PROVISIONING),
    (Status.PROVISIONING, Status.PROVISIONED),
    (Status.PROVISIONING, Status.FAILED),
    (Status.FAILED, Status.PENDING),
    (Status.PROVISIONED, Status.OFFBOARDING),
    (Status.FAILED, Status.OFFBOARDING),
    (Status.OFFBOARDING, Status.DEPROVISIONING),
    (Status.DEPROVISIONING, Status.DEPROVISIONED),
    (Status.DEPROVISIONING, Status.FAILED),
}


@pytest.mark.parametrize(("current", "target"), list(itertools.product(Status, Status)))
def test_every_pair_of_statuses(current: Status, target: Status) -> None:
    assert can_transition(current, target) is ((current, target) in LEGAL)


def test_deprovisioned_is_final_and_every_status_is_described() -> None:
    assert set(TRANSITIONS) == set(Status)
    assert TRANSITIONS[Status.DEPROVISIONED] == frozenset()


def test_sources_of() -> None:
    assert sources_of(Status.OFFBOARDING) == {Status.PROVISIONED, Status.FAILED}
    assert sources_of(Status.PENDING) == {Status.FAILED}
    assert sources_of(Status.FAILED) == {Status.PROVISIONING, Status.DEPROVISIONING}


def test_isolation_by_tier() -> None:
    assert isolation_for(Tier.FREE) is Isolation.POOL
    assert isolation_for(Tier.PRO) is Isolation.POOL
    assert isolation_for(Tier.ENTERPRISE) is Isolation.SILO
