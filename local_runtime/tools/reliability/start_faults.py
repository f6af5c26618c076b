"""3. Faults at the saga's start: StartExecution throttled in a burst, the API dying
between its write and its start, the relay record delivered twice, the relay failing for
a while, the reconciler racing a slow start. The stream relay runs as its event source
mapping would (polling), the reconciler as its schedule would; afterwards every order is
terminal, no order has two outcomes, and the invariants hold. Also the time from each
order's OrderCreated to its saga's start, by what started it."""

from __future__ import annotations

import statistics
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from local_runtime.emulator.faults import FOREVER, Fault
from local_runtime.patches import start_rate
from local_runtime.tools.reliability.orders import (
    Order,
    counts,
    invariants,
    new_id,
    stock,
    wait_for_all,
)
from order_saga.errors import StorageError
from order_saga.service_layer.views import order_events, order_view

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from local_runtime.runtime import LocalRuntime
    from local_runtime.tools.reliability.checks import Run
    from ops.invariants.report import InvariantReport

RELAY = "SagaStarterFunction"
FAULTS = (
    "throttled_burst",
    "api_died_before_start",
    "relay_delivered_twice",
    "relay_down_for_a_while",
    "reconciler_races_slow_start",
)
RECONCILE_AFTER = 10.0
"""Locally, the reconciler acts on orders 10 s without a saga (120 s deployed), well past
the relay's slowest start here, so that it starts only what the relay never will."""
RECONCILE_EVERY = 2.0
POLL_SECONDS = 0.25
"""How often the local relay's mapping polls the stream (Lambda polls a shard about four
times a second)."""


@dataclass
class Group:
    fault: str
    orders: list[Order]
    answers: Counter[str] = field(default_factory=Counter)
    """What the API answered: 202, or the Lambda error the client saw."""


@dataclass
class StartResult:
    groups: list[Group]
    ends: dict[str, Counter[str]]
    """Fault -> the orders' final statuses."""
    double_outcomes: list[str]
    """Orders with more than one OrderConfirmed/OrderCancelled or charge (must be none)."""
    latency: dict[tuple[str, str], list[float]]
    """(fault, what started the saga: api, relay, reconciler) -> seconds from OrderCreated."""
    throttled: int
    reconciled: Counter[str]
    report: InvariantReport
    seconds: float

    def lines(self) -> list[str]:
        lines = [f"{sum(len(g.orders) for g in self.groups)} orders, in {self.seconds:.1f} s"]
        for group in self.groups:
            lines.append(
                f"  {group.fault:<28} {len(group.orders)} orders: API answered "
                f"{counts(group.answers)}; ended {counts(self.ends[group.fault])}"
            )
        lines.append(
            f"  StartExecution throttled {self.throttled} times; the reconciler "
            f"{counts(self.reconciled)}; orders with two outcomes {len(self.double_outcomes)}"
        )
        lines.append("  OrderCreated -> saga start, by fault and by what started it:")
        for (fault, path), seconds in sorted(self.latency.items()):
            lines.append(f"    {fault:<28} {path:<10} {_percentiles(seconds)}")
        by_path: dict[str, list[float]] = {}
        for (_, path), seconds in self.latency.items():
            by_path.setdefault(path, []).extend(seconds)
        for path, seconds in sorted(by_path.items()):
            lines.append(f"    {'all':<28} {path:<10} {_percentiles(seconds)}")
        return lines


def _percentiles(seconds: list[float]) -> str:
    if not seconds:
        return "none"
    ordered = sorted(seconds)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return (
        f"{len(ordered)} orders: p50 {statistics.median(ordered) * 1000:.0f} ms, "
        f"p99 {p99 * 1000:.0f} ms, max {ordered[-1] * 1000:.0f} ms"
    )


def _place(runtime: LocalRuntime, order: Order) -> str:
    try:
        status, _, _ = runtime.api("POST", "/orders", order.body(), order.headers())
    except RuntimeError as died:  # the Api function's own error (Runtime.ExitError)
        return "ExitError" if "Runtime.ExitError" in str(died) else "error"
    return str(status)


def _place_all(runtime: LocalRuntime, orders: Sequence[Order], workers: int) -> list[str]:
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="customer") as pool:
        return list(pool.map(lambda o: _place(runtime, o), orders))


def start_fault_run(runtime: LocalRuntime, *, per_fault: int = 40) -> StartResult:
    assert runtime.ports is not None and runtime.streams is not None
    ports, streams = runtime.ports, runtime.streams
    products = [stock(ports, "4.50", per_fault * 5) for _ in range(5)]
    groups = [
        Group(fault, [Order(new_id(f"start-{n}"), ((products[n], 1),)) for _ in range(per_fault)])
        for n, fault in enumerate(FAULTS)
    ]
    started = time.monotonic()
    streams.start_polling(POLL_SECONDS)
    reconciled: Counter[str] = Counter()
    refused: Counter[str] = Counter()

    def reconcile(after: float) -> None:
        done = runtime.reconcile(after_seconds=after)
        reconciled["started"] += len(done["started"])
        reconciled["redriven"] += len(done["redriven"])
        reconciled["left running"] += int(done["running"])

    def reconcile_until(done: Callable[[], bool], timeout: float) -> None:
        """The reconciler every RECONCILE_EVERY seconds, as its schedule would run it,
        until ``done`` (or ``timeout``)."""
        deadline = time.monotonic() + timeout
        while not done() and time.monotonic() < deadline:
            time.sleep(RECONCILE_EVERY)
            reconcile(after=RECONCILE_AFTER)

    def throttled_burst(group: Group) -> None:
        # A burst far above the start rate: an eighth of the orders' starts in the bucket
        # (5 of 40), one more every two seconds.
        start_rate.configure(burst=max(1, per_fault // 8), refill_per_second=0.5)
        group.answers.update(_place_all(runtime, group.orders, workers=20))
        refused["StartExecution"] += start_rate.throttled()
        start_rate.configure()

    def api_died(group: Group) -> None:
        runtime.functions.inject("ApiFunction", Fault.exit_before_start(times=len(group.orders)))
        group.answers.update(_place(runtime, o) for o in group.orders)
        # Half the clients retry with their key: the same order, 202.
        group.answers.update(f"retry {_place(runtime, o)}" for o in group.orders[::2])

    def delivered_twice(group: Group) -> None:
        runtime.functions.inject(RELAY, Fault.twice(times=len(group.orders)))
        runtime.functions.inject("ApiFunction", Fault.exit_before_start(times=len(group.orders)))
        group.answers.update(_place(runtime, o) for o in group.orders)

    def relay_down(group: Group) -> None:
        # The earlier groups' orders started first (by the relay, for most; the reconciler
        # runs on, as its schedule would, for a batch the relay gave up on), so that the
        # relay's down time delays only this group's starts.
        earlier = {o.order_id for g in groups[: groups.index(group)] for o in g.orders}
        reconcile_until(lambda: earlier <= {str(e["name"]) for e in runtime.executions()}, 120)
        gave_up_before = len(streams.discarded)
        streams.enabled[RELAY] = False  # the relay's mapping down for a while
        runtime.functions.inject("ApiFunction", Fault.exit_before_start(times=len(group.orders)))
        group.answers.update(_place(runtime, o) for o in group.orders)
        time.sleep(1.0)
        # Back, but failing: every retry of its first batches fails, then their
        # coordinates go to its failure queue; the reconciler starts those orders.
        runtime.functions.clear_faults()  # what the earlier groups left queued
        failing = Fault(error=StorageError("relay failing"), times=FOREVER)
        failing.label = "relay_failing"
        runtime.functions.inject(RELAY, failing)
        streams.enabled[RELAY] = True
        deadline = time.monotonic() + 30
        while len(streams.discarded) <= gave_up_before and time.monotonic() < deadline:
            time.sleep(0.25)
        runtime.functions.clear_faults()

    def racing(group: Group) -> None:
        holds = [
            runtime.functions.hold(
                "ProcessPaymentFunction", when=lambda p, i=o.order_id: p.get("order_id") == i
            )
            for o in group.orders
        ]
        group.answers.update(_place_all(runtime, group.orders, workers=10))
        time.sleep(0.5)
        reconcile(after=0.0)  # every one of them RUNNING, no step written: left alone
        for release in holds:
            release.set()

    by: dict[str, Callable[[Group], None]] = {
        "throttled_burst": throttled_burst,
        "api_died_before_start": api_died,
        "relay_delivered_twice": delivered_twice,
        "relay_down_for_a_while": relay_down,
        "reconciler_races_slow_start": racing,
    }
    for group in groups:
        by[group.fault](group)
    throttled = refused["StartExecution"] + start_rate.throttled()
    everyone = [o.order_id for g in groups for o in g.orders]
    # Until every order has its saga (the relay polls on, the reconciler starts what the
    # relay gave up on).
    reconcile_until(
        lambda: not any(order_view(ports.store, o)["waiting_for_saga"] for o in everyone), 120
    )
    wait_for_all(runtime, everyone)
    streams.stop()
    runtime.drain_streams()
    runtime.functions.clear_faults()
    ends = {
        g.fault: Counter(order_view(ports.store, o.order_id)["status"] for o in g.orders)
        for g in groups
    }
    return StartResult(
        groups=groups,
        ends=ends,
        double_outcomes=[o for o in everyone if not _one_outcome(runtime, o)],
        latency=_latency(runtime, groups),
        throttled=throttled,
        reconciled=reconciled,
        report=invariants(runtime),
        seconds=time.monotonic() - started,
    )


def _one_outcome(runtime: LocalRuntime, order_id: str) -> bool:
    assert runtime.ports is not None
    types = Counter(e["type"] for e in order_events(runtime.ports.store, order_id))
    return types["OrderConfirmed"] + types["OrderCancelled"] == 1 and types["PaymentCompleted"] <= 1


def _latency(runtime: LocalRuntime, groups: Sequence[Group]) -> dict[tuple[str, str], list[float]]:
    """Per order, its first execution's start after its OrderCreated, by fault and by what
    started it: the Api function (fast path), the relay or the reconciler
    (patches/start_rate.py notes the function that made each StartExecution)."""
    assert runtime.ports is not None
    starts: dict[str, datetime] = {}
    for execution in runtime.executions():
        name = str(execution["name"]).split("-r", 1)[0]
        when: datetime = execution["startDate"]
        if name not in starts or when < starts[name]:
            starts[name] = when
    found: dict[tuple[str, str], list[float]] = {}
    for group in groups:
        for order in group.orders:
            if order.order_id not in starts:
                continue
            created = order_events(runtime.ports.store, order.order_id)[0]["occurred_at"]
            delay = (starts[order.order_id] - datetime.fromisoformat(created)).total_seconds()
            key = (group.fault, _starter(order.order_id))
            found.setdefault(key, []).append(max(delay, 0.0))
    return found


STARTERS = {"ApiFunction": "api", RELAY: "relay", "ReconcilerFunction": "reconciler"}


def _starter(order_id: str) -> str:
    return STARTERS.get(start_rate.starters().get(order_id, ""), "other")


def judge_start_faults(result: StartResult, run: Run) -> None:
    everyone = [o for g in result.groups for o in g.orders]
    run.expect(
        "every order whose OrderCreated was written is accepted or retried to 202",
        all(set(g.answers) <= {"202", "ExitError", "retry 202"} for g in result.groups),
    )
    run.expect(
        "no order stuck after the start faults and the reconciler",
        all(set(ends) <= {"CONFIRMED", "CANCELLED"} for ends in result.ends.values())
        and sum(sum(e.values()) for e in result.ends.values()) == len(everyone),
    )
    run.expect("each order exactly one outcome", not result.double_outcomes)
    run.expect("invariants hold after the start faults", result.report.ok)
