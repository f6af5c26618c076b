"""2. Faults at every step: a seeded random schedule of faults for each order (forward steps
and compensations), and the judgement: the invariants hold, every order ends terminal or in
manual review, and terminal after the re-drive."""

from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

from local_runtime.emulator.faults import Fault, ProcessExited
from local_runtime.runtime import LocalRuntime
from local_runtime.tools.reliability.checks import Run
from local_runtime.tools.reliability.orders import (
    Order,
    Outcome,
    counts,
    invariants,
    new_id,
    outcomes,
    place_in_flight,
    stock,
)
from ops.invariants.report import InvariantReport
from order_saga.errors import StorageError

if TYPE_CHECKING:
    from collections.abc import Sequence


FORWARD = ("ProcessPaymentFunction", "ReserveInventoryFunction", "ConfirmOrderFunction")
COMPENSATION = ("RefundPaymentFunction", "ReleaseInventoryFunction", "CancelOrderFunction")
STEP_FAULTS = ("crash_before_write", "crash_after_write", "delivered_twice", "throttled")
COMPENSATION_FAILS = "compensation_fails"


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
            f"  faults      scheduled {counts(self.scheduled)}",
            f"              fired on {sum(self.fired.values())} invocations: "
            f"{counts(self.fired)}; {self.cleared} never reached (their step never ran)",
            f"  ends        {counts(statuses)}",
            f"  manual review before re-drive {len(self.before.manual_review)}, re-driven "
            f"{self.redriven} ({self.redrive_done} compensated), after "
            f"{len(self.after.manual_review)}",
            *(
                f"    {r.order_id} {r.status}, {r.failed_step} gave up ({r.error}): held "
                f"{r.money_held} and stock {r.stock_held or 'none'}"
                for r in self.before.manual_review
            ),
            f"  after re-drive {counts(terminal_after)}",
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
