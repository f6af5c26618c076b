"""`make reliability`: the saga under contention and under faults at every step, judged by
the store-wide invariants (ops/invariants/), on the local runtime.

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

    orders.py      placing orders and reading how they ended
    contention.py  run 1, and its judgement
    faults.py      run 2: the fault schedule, the run, its judgement
    checks.py      the named expectations
    command.py     `python -m local_runtime reliability`: both runs, printed and judged
"""

from __future__ import annotations

from local_runtime.tools.reliability.checks import Check, Run
from local_runtime.tools.reliability.command import main
from local_runtime.tools.reliability.contention import (
    ContentionResult,
    contention_run,
    judge_contention,
)
from local_runtime.tools.reliability.faults import (
    FaultResult,
    fault_run,
    fault_schedule,
    judge_faults,
    step_fault,
)
from local_runtime.tools.reliability.orders import Order, Outcome

__all__ = [
    "Check",
    "ContentionResult",
    "FaultResult",
    "Order",
    "Outcome",
    "Run",
    "contention_run",
    "fault_run",
    "fault_schedule",
    "judge_contention",
    "judge_faults",
    "main",
    "step_fault",
]
