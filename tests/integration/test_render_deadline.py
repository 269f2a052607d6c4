"""A dashboard's render never runs past its function's timeout: it starts cards only while the Lambda
context has more than the executor's timeout + 2 s left (`service.RENDER_MARGIN_S`); a card not
started by then is answered in the render with status 503 and `RENDER_DEADLINE`, without running.
Through the analytics API's handler, its invocations given a short timeout (the context's remaining
time), with an executor that takes a while per card."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from tenancy.application.analytics import executor, service
from tests.helpers.cloud import Cloud

# The fixtures (registered under their own names: acme, fake, downloads) and helpers of the card
# execution tests: a pool tenant with a sales dataset, the executor in-process.
from tests.integration import test_card_execution as card_execution
from tests.integration.test_card_execution import _dashboard, execute, new_card

acme, fake, downloads = card_execution.acme, card_execution.fake, card_execution.downloads

CARD_SECONDS = 0.5  # each uncached card's execution


def short_timeout(cloud: Cloud, monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
    """The analytics API's invocations run with `seconds` of timeout (the context's remaining time)."""
    original = cloud.runtime.invoke

    def invoke(name: str, event: Any, timeout_seconds: float = 900.0, request_id: str | None = None) -> Any:
        return original(name, event, seconds if name == "analytics_api" else timeout_seconds, request_id)

    monkeypatch.setattr(cloud.runtime, "invoke", invoke)


def slow_executor(world: dict[str, Any]) -> list[str]:
    """The in-process executor, taking CARD_SECONDS per card; the codes it ran, in order."""
    ran: list[str] = []
    lock = threading.Lock()
    run: Callable[[bytes], bytes] = world["fake"]

    def slow(payload: bytes) -> bytes:
        with lock:
            ran.append(str(json.loads(payload)["code"]))
        time.sleep(CARD_SECONDS)
        return run(payload)

    executor.install(slow)
    return ran


def spied(monkeypatch: pytest.MonkeyPatch) -> tuple[list[float], dict[str, float]]:
    """The deadlines the route computed, and when each card's execution began (by card id)."""
    deadlines: list[float] = []
    began: dict[str, float] = {}
    compute, answer = service.render_deadline, service._answer

    def render_deadline(context: Any) -> float | None:
        found = compute(context)
        assert found is not None
        deadlines.append(found)
        return found

    def timed(store: Any, run: service.Run, objects: Any, use_cache: bool) -> Any:
        began[str(run.card_id)] = time.monotonic()
        return answer(store, run, objects, use_cache)

    monkeypatch.setattr(service, "render_deadline", render_deadline)
    monkeypatch.setattr(service, "_answer", timed)
    return deadlines, began


def test_the_render_starts_no_card_past_its_deadline_and_answers_those_503(
    cloud: Cloud, acme: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    cached = new_card(acme, code="html = 'cached'")["cardId"]
    assert execute(acme, cached).status == 200  # its result is cached
    cards = [new_card(acme, code=f"html = '{n}'")["cardId"] for n in range(24)]
    board = _dashboard(acme, [cached, *cards])
    window = 2.5  # cards may start during the first 2.5 s; 24 of them need at least 3 s
    timeout = service.RENDER_MARGIN_S + window
    short_timeout(cloud, monkeypatch, timeout)
    ran = slow_executor(acme)
    deadlines, began = spied(monkeypatch)
    started = time.monotonic()
    answer = acme["run"]["alice"].post(f"/dashboards/{board['dashboardId']}/render", {})
    elapsed = time.monotonic() - started
    assert answer.status == 200, answer.body
    assert elapsed < timeout  # the function answered within its time
    (deadline,) = deadlines
    entries = {entry["cardId"]: entry for entry in answer.data["cards"]}
    assert [entry["cardId"] for entry in answer.data["cards"]] == [cached, *cards]
    assert entries[cached]["status"] == 200
    assert entries[cached]["result"]["cached"] is True
    done = [card for card in cards if entries[card]["status"] == 200]
    late = [card for card in cards if entries[card]["status"] == 503]
    assert len(done) + len(late) == len(cards)
    assert late  # the deadline came before every card could run
    for card in done:
        assert entries[card]["result"]["html"] == str(cards.index(card))
        assert began[card] < deadline  # started before the deadline
    for card in late:
        assert entries[card]["error"]["code"] == "RENDER_DEADLINE"
        assert "render again" in entries[card]["error"]["message"]
        assert "result" not in entries[card]
        assert card not in began  # never started: neither its rows read nor the executor called
    assert sorted(ran) == sorted(f"html = '{cards.index(card)}'" for card in done)
    # the cards run in layout order, four at a time: those answered 503 are the last ones
    assert done == cards[: len(done)]


def test_a_render_with_less_time_left_than_the_margin_runs_no_card_and_a_new_one_runs_them(
    cloud: Cloud, acme: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    cached = new_card(acme, code="html = 'cached'")["cardId"]
    assert execute(acme, cached).status == 200
    cards = [new_card(acme, code=f"html = '{n}'")["cardId"] for n in range(3)]
    board = _dashboard(acme, [*cards, cached])
    path = f"/dashboards/{board['dashboardId']}/render"
    calls = acme["fake"].calls
    with monkeypatch.context() as patched:
        short_timeout(cloud, patched, service.RENDER_MARGIN_S - 1)
        answer = acme["run"]["alice"].post(path, {})
    assert answer.status == 200, answer.body
    assert [entry["status"] for entry in answer.data["cards"]] == [503, 503, 503, 200]
    assert {entry["error"]["code"] for entry in answer.data["cards"][:3]} == {"RENDER_DEADLINE"}
    assert answer.data["cards"][3]["result"]["html"] == "cached"
    assert acme["fake"].calls == calls  # the executor was never called
    again = acme["run"]["alice"].post(path, {})  # the function's whole time: they run
    assert [entry["status"] for entry in again.data["cards"]] == [200, 200, 200, 200]
    assert [entry["result"]["html"] for entry in again.data["cards"]] == ["0", "1", "2", "cached"]
    assert acme["fake"].calls == calls + 3


class Context:
    def __init__(self, remaining_ms: int) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def test_the_deadline_is_the_remaining_time_less_the_executors_timeout_and_2_s() -> None:
    assert service.RENDER_MARGIN_S == 7.0  # contract.TIMEOUT_MS (5 s) + 2 s
    before = time.monotonic()
    deadline = service.render_deadline(Context(29_000))
    after = time.monotonic()
    assert deadline is not None
    assert before + 22 <= deadline <= after + 22
    assert service.render_deadline(None) is None  # no context: no deadline
    assert service.render_deadline(object()) is None
