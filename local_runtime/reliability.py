"""`make reliability`: the saga under contention and under faults at every step, judged by
the store-wide invariants (ops/invariants.py), on the local runtime.

1. Contention: many orders placed at once for one product with little stock (some for
   several units, some with a second product), through the Api function. No oversell;
   every order ends CONFIRMED, or CANCELLED for want of stock; the stock is exactly what
   the confirmed orders left.
2. Faults: hundreds of orders, each step of each order (the forward steps and the
   compensations) drawn from a seeded random schedule: the function's process dies before
   its write or after it (Lambda's "timed out after doing the work"), the invocation is
   delivered twice, Lambda throttles it, or a compensation fails one to three times (three
   exhausts its retries: manual review). Afterwards the invariants hold and every order is
   CONFIRMED or CANCELLED or in manual review; the leftover faults are cleared (the outage
   is over), the manual-review queue is re-driven, and then every order is terminal.

The same functions run a bounded version inside `make test` (tests/e2e/test_reliability.py).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import uuid
from collections import Counter
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from local_runtime.lambda_service import Fault, ProcessExited
from local_runtime.runtime import LocalRuntime
from local_runtime.sample_catalog import ADDRESS
from ops.invariants import InvariantReport, check_store, gateway_ledger
from order_saga.errors import StorageError
from order_saga.service_layer.catalog import stock_product
from order_saga.service_layer.views import order_view, stock_level

if TYPE_CHECKING:
    from collections.abc import Sequence

    from order_saga.adapters.payment_gateway import SimulatedPaymentGateway
    from order_saga.service_layer.ports import Ports

FORWARD = ("ProcessPaymentFunction", "ReserveInventoryFunction", "ConfirmOrderFunction")
COMPENSATION = ("RefundPaymentFunction", "ReleaseInventoryFunction", "CancelOrderFunction")
STEP_FAULTS = ("crash_before_write", "crash_after_write", "delivered_twice", "throttled")
COMPENSATION_FAILS = "compensation_fails"
TIME_SCALE = 1.0
"""Retry waits and timeouts as deployed. Hundreds of sagas in one process queue each step
behind the others (one core at a time), and a shorter task timeout would time steps out
that AWS, with a CPU per invocation, would never time out; the waits cost no CPU."""


@dataclass(frozen=True)
class Order:
    order_id: str
    lines: tuple[tuple[str, int], ...]
    payment_method: str = "tok_visa"

    def body(self) -> dict[str, Any]:
        return {
            "order_id": self.order_id,
            "items": [{"product_id": p, "quantity": q} for p, q in self.lines],
            "shipping_address": ADDRESS,
            "payment_method": self.payment_method,
        }


@dataclass
class Outcome:
    order_id: str
    accepted: int
    """The API's status code for placing it."""
    status: str
    reason: str | None
    in_review: bool


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def stock(ports: Ports, price: str, quantity: int) -> str:
    product_id = new_id("sku")
    stock_product(ports, product_id, product_id, Decimal(price), quantity)
    return product_id


def place_at_once(runtime: LocalRuntime, orders: Sequence[Order], workers: int) -> list[int]:
    """POST every order from ``workers`` threads at once; returns each answer's status."""

    def place(order: Order) -> int:
        status, _, _ = runtime.api(
            "POST", "/orders", order.body(), {"X-Customer-Id": f"cust-{order.order_id[-8:]}"}
        )
        return status

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="customer") as pool:
        return list(pool.map(place, orders))


def place_in_flight(
    runtime: LocalRuntime, orders: Sequence[Order], window: int, workers: int
) -> list[int]:
    """Place the orders so that about ``window`` sagas run at any time: all of them at once
    would queue each step behind hundreds of others in this one process, past its timeout
    (on AWS each invocation has a CPU of its own)."""
    accepted: list[int] = []
    ours: set[str] = set()
    while len(accepted) < len(orders):
        room = window - len(ours & running(runtime))
        if room < window // 4:
            time.sleep(0.5)
            continue
        chunk = orders[len(accepted) : len(accepted) + room]
        accepted += place_at_once(runtime, chunk, workers)
        ours.update(order.order_id for order in chunk)
    return accepted


def running(runtime: LocalRuntime) -> set[str]:
    """Names (order ids) of the executions still running."""
    return runtime.running()


def wait_for_all(runtime: LocalRuntime, order_ids: Sequence[str], timeout: float = 540.0) -> None:
    """Until none of the orders' sagas runs. Polls twice a second: waiting on each
    execution in turn would take the interpreter's time from the sagas themselves."""
    deadline = time.monotonic() + timeout
    wanted = set(order_ids)
    while wanted & running(runtime):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(wanted & running(runtime))} sagas still run after {timeout}s")
        time.sleep(0.5)


def outcomes(
    runtime: LocalRuntime, orders: Sequence[Order], accepted: Sequence[int]
) -> list[Outcome]:
    """Once every accepted order's saga has ended, each order as its events tell it."""
    assert runtime.ports is not None
    wait_for_all(
        runtime, [o.order_id for o, status in zip(orders, accepted, strict=True) if status == 202]
    )
    found = []
    for order, status in zip(orders, accepted, strict=True):
        if status != 202:
            found.append(Outcome(order.order_id, status, "NOT_PLACED", None, False))
            continue
        view = order_view(runtime.ports.store, order.order_id)
        found.append(
            Outcome(
                order.order_id,
                status,
                view["status"],
                view["cancellation_reason"],
                view["manual_review"] is not None,
            )
        )
    return found


def invariants(runtime: LocalRuntime) -> InvariantReport:
    assert runtime.ports is not None
    gateway: SimulatedPaymentGateway = runtime.ports.gateway  # type: ignore[assignment]
    return check_store(runtime.ports.store, gateway_ledger(gateway))


# -- 1. contention ----------------------------------------------------------------------------


@dataclass
class ContentionResult:
    orders: int
    stock: int
    hot_product: str
    outcomes: list[Outcome]
    sold: int
    """Units of the hot product the CONFIRMED orders hold."""
    available: int
    smallest_refused: int | None
    """The fewest units of the hot product an order cancelled OutOfStock asked for."""
    seconds: float

    @property
    def statuses(self) -> Counter[str]:
        return Counter(o.status for o in self.outcomes)

    @property
    def reasons(self) -> Counter[str]:
        return Counter(o.reason for o in self.outcomes if o.reason)

    def lines(self) -> list[str]:
        return [
            f"{self.orders} orders at once for {self.stock} units of one product, "
            f"in {self.seconds:.1f} s",
            f"  ends        {_counts(self.statuses)}; cancelled for {_counts(self.reasons)}",
            f"  stock       sold {self.sold} + left {self.available} = {self.stock}; the "
            f"smallest order refused wanted {self.smallest_refused}",
        ]


def contention_orders(rng: random.Random, hot: str, plenty: str, count: int) -> list[Order]:
    """Mostly one unit; a quarter two or three; a third also ask for another product."""
    orders = []
    for _ in range(count):
        quantity = rng.choice((1, 1, 1, 1, 1, 1, 2, 3))
        lines: tuple[tuple[str, int], ...] = ((hot, quantity),)
        if rng.random() < 1 / 3:
            lines += ((plenty, rng.randint(1, 4)),)
        orders.append(Order(new_id("ord-rush"), lines))
    return orders


def contention_run(
    runtime: LocalRuntime, *, orders: int, units: int, seed: int, workers: int = 32
) -> ContentionResult:
    assert runtime.ports is not None
    ports = runtime.ports
    rng = random.Random(seed)
    hot, plenty = stock(ports, "12.50", units), stock(ports, "3.20", orders * 4)
    placed = contention_orders(rng, hot, plenty, orders)
    started = time.monotonic()
    accepted = place_at_once(runtime, placed, workers)
    ended = outcomes(runtime, placed, accepted)
    seconds = time.monotonic() - started
    wanted = {o.order_id: dict(o.lines)[hot] for o in placed}
    refused = [wanted[o.order_id] for o in ended if o.reason == "OutOfStock"]
    return ContentionResult(
        orders=orders,
        stock=units,
        hot_product=hot,
        outcomes=ended,
        sold=sum(wanted[o.order_id] for o in ended if o.status == "CONFIRMED"),
        available=stock_level(ports.store, hot),
        smallest_refused=min(refused, default=None),
        seconds=seconds,
    )


# -- 2. faults at every step --------------------------------------------------------------------


def step_fault(kind: str, order_id: str) -> Fault:
    crash = ProcessExited(f"the function's process died (injected, order {order_id})")
    made = {
        "crash_before_write": lambda: Fault.transient(crash, order_id=order_id),
        "crash_after_write": lambda: Fault.crash_after_write(crash, order_id=order_id),
        "delivered_twice": lambda: Fault.twice(order_id=order_id),
        "throttled": lambda: Fault.throttled(order_id=order_id),
    }[kind]()
    made.label = kind
    return made


def fault_schedule(
    rng: random.Random, order_id: str, step_rate: float, compensation_rate: float
) -> list[tuple[str, Fault]]:
    """(function, fault) for one order: each step may get one of STEP_FAULTS, and one
    compensation may fail one to three times in a row."""
    faults = [
        (function, step_fault(rng.choice(STEP_FAULTS), order_id))
        for function in FORWARD + COMPENSATION
        if rng.random() < step_rate
    ]
    if rng.random() < compensation_rate:
        failing = Fault.transient(
            StorageError("the compensation failed (injected)"),
            times=rng.choice((1, 2, 3)),
            order_id=order_id,
        )
        failing.label = COMPENSATION_FAILS
        faults.append((rng.choice(COMPENSATION), failing))
    return faults


@dataclass
class FaultResult:
    orders: int
    seed: int
    scheduled: Counter[str]
    """Faults queued, by kind."""
    fired: Counter[str]
    """Invocations a fault changed, by kind."""
    before: InvariantReport
    after: InvariantReport
    outcomes_before: list[Outcome]
    outcomes_after: list[Outcome]
    redriven: int
    redrive_done: int
    cleared: int
    seconds: float

    def lines(self) -> list[str]:
        statuses = Counter(o.status for o in self.outcomes_before)
        terminal_after = Counter(o.status for o in self.outcomes_after)
        return [
            f"{self.orders} orders under a random fault schedule (seed {self.seed}), "
            f"in {self.seconds:.1f} s",
            f"  faults      scheduled {_counts(self.scheduled)}",
            f"              fired on {sum(self.fired.values())} invocations: "
            f"{_counts(self.fired)}; {self.cleared} never reached (their step never ran)",
            f"  ends        {_counts(statuses)}",
            f"  manual review before re-drive {len(self.before.manual_review)}, re-driven "
            f"{self.redriven} ({self.redrive_done} compensated), after "
            f"{len(self.after.manual_review)}",
            *(
                f"    {r.order_id} {r.status}, {r.failed_step} gave up ({r.error}): held "
                f"{r.money_held} and stock {r.stock_held or 'none'}"
                for r in self.before.manual_review
            ),
            f"  after re-drive {_counts(terminal_after)}",
        ]


def fault_orders(rng: random.Random, products: Sequence[str], count: int) -> list[Order]:
    orders = []
    for _ in range(count):
        chosen = rng.sample(list(products), rng.choice((1, 1, 2)))
        lines = tuple((p, rng.randint(1, 3)) for p in chosen)
        token = "tok_chargeDeclined" if rng.random() < 0.1 else "tok_visa"
        orders.append(Order(new_id("ord-fault"), lines, token))
    return orders


def fault_run(
    runtime: LocalRuntime,
    *,
    orders: int,
    seed: int,
    step_rate: float = 0.1,
    compensation_rate: float = 0.15,
    window: int = 100,
    workers: int = 16,
) -> FaultResult:
    assert runtime.ports is not None
    rng = random.Random(seed)
    # Stock for about three orders in four: the rest run out and are compensated. Spread over
    # twenty products, as a shop's orders are: every reservation reads its products' whole
    # streams, and a few streams of hundreds of events would make the run slow, not harder.
    products = [stock(runtime.ports, "9.90", max(3, orders // 10)) for _ in range(20)]
    placed = fault_orders(rng, products, orders)
    scheduled: Counter[str] = Counter()
    fired_before = Counter(runtime.functions.fired)
    for order in placed:
        for function, fault in fault_schedule(rng, order.order_id, step_rate, compensation_rate):
            runtime.functions.inject(function, fault)
            scheduled[fault.label] += 1
    started = time.monotonic()
    accepted = place_in_flight(runtime, placed, window, workers)
    ended = outcomes(runtime, placed, accepted)
    fired = Counter(runtime.functions.fired)
    fired.subtract(fired_before)
    before = invariants(runtime)
    cleared = runtime.functions.clear_faults()
    redriven = runtime.redrive()
    after_outcomes = outcomes(runtime, placed, accepted)
    return FaultResult(
        orders=orders,
        seed=seed,
        scheduled=scheduled,
        fired=+fired,
        before=before,
        after=invariants(runtime),
        outcomes_before=ended,
        outcomes_after=after_outcomes,
        redriven=len(redriven),
        redrive_done=sum(o.done for o in redriven),
        cleared=cleared,
        seconds=time.monotonic() - started,
    )


def _counts(counter: Counter[str]) -> str:
    return ", ".join(f"{key} {n}" for key, n in sorted(counter.items())) or "none"


# -- make reliability --------------------------------------------------------------------------


@dataclass
class Check:
    name: str
    passed: bool


@dataclass
class Run:
    checks: list[Check] = field(default_factory=list)

    def expect(self, name: str, passed: bool) -> None:
        self.checks.append(Check(name, passed))


def judge_contention(result: ContentionResult, run: Run) -> None:
    run.expect("no oversell", result.sold <= result.stock and result.available >= 0)
    run.expect("stock exactly right", result.sold + result.available == result.stock)
    run.expect(
        "every order CONFIRMED, or CANCELLED OutOfStock",
        all(o.status == "CONFIRMED" or o.reason == "OutOfStock" for o in result.outcomes),
    )
    run.expect(
        "no stock left that a refused order could have had",
        result.smallest_refused is None or result.available < result.smallest_refused,
    )


def judge_faults(result: FaultResult, run: Run) -> None:
    run.expect("invariants hold under faults", result.before.ok)
    run.expect(
        "every order terminal or in manual review",
        all(o.status in {"CONFIRMED", "CANCELLED"} or o.in_review for o in result.outcomes_before),
    )
    run.expect("invariants hold after re-drive", result.after.ok)
    run.expect(
        "every order terminal after re-drive",
        all(o.status in {"CONFIRMED", "CANCELLED"} for o in result.outcomes_after)
        and not result.after.manual_review,
    )


@dataclass
class Section:
    """What one part of the run found, as printable lines and pass/fail checks."""

    lines: list[str]
    checks: list[Check]
    violations: list[str]
    final: str


def rush_section(orders: int, units: int, seed: int, time_scale: float) -> Section:
    run = Run()
    with LocalRuntime(time_scale=time_scale) as runtime:
        result = contention_run(runtime, orders=orders, units=units, seed=seed)
        judge_contention(result, run)
        report = invariants(runtime)
    run.expect("invariants hold after the rush", report.ok)
    return Section(result.lines(), run.checks, report.violations, report.summary())


def fault_section(orders: int, seed: int, time_scale: float) -> Section:
    run = Run()
    with LocalRuntime(time_scale=time_scale) as runtime:
        result = fault_run(runtime, orders=orders, seed=seed)
        judge_faults(result, run)
    violations = result.before.violations + result.after.violations
    return Section(result.lines(), run.checks, violations, result.after.summary())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=500, help="orders under faults")
    parser.add_argument("--rush", type=int, default=200, help="orders at once for one product")
    parser.add_argument("--units", type=int, default=50, help="units of that product")
    parser.add_argument("--seed", type=int, default=20261128)
    parser.add_argument("--time-scale", type=float, default=TIME_SCALE)
    args = parser.parse_args(argv)

    started = time.monotonic()
    # Two runtimes in two processes: each is one Python process (one core at a time), and
    # the two parts share nothing, so on two cores they run side by side.
    with ProcessPoolExecutor(max_workers=2) as pool:
        rush = pool.submit(rush_section, args.rush, args.units, args.seed, args.time_scale)
        faults = pool.submit(fault_section, args.orders, args.seed, args.time_scale)
        sections = [rush.result(), faults.result()]

    print("Reliability run (make reliability)")
    for section, title in zip(sections, ("Contention", "Faults at every step"), strict=True):
        print(f"{title}: " + "\n".join(section.lines))
        print("  invariants over the whole store afterwards (ops/invariants.py):")
        for line in section.final.splitlines():
            print(f"    {line}")
    violations = [v for section in sections for v in section.violations]
    for violation in violations:
        print(f"  violation: {violation}")
    checks = [check for section in sections for check in section.checks]
    for check in checks:
        print(f"  [{'ok' if check.passed else 'FAILED'}] {check.name}")
    failed = sum(not check.passed for check in checks)
    print(
        f"invariant violations: {len(violations)}; {len(checks)} checks, {failed} failed; "
        f"{time.monotonic() - started:.0f} s"
    )
    return 0 if not failed and not violations else 1


if __name__ == "__main__":
    sys.exit(main())
