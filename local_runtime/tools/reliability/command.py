"""`python -m local_runtime reliability`: both runs side by side, each on its own runtime in
its own process, printed and judged (exit 1 on a failed check or a violation)."""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from local_runtime.runtime import LocalRuntime
from local_runtime.tools.reliability.checks import Check, Run
from local_runtime.tools.reliability.contention import contention_run, judge_contention
from local_runtime.tools.reliability.faults import fault_run, judge_faults
from local_runtime.tools.reliability.orders import invariants
from local_runtime.tools.reliability.start_faults import judge_start_faults, start_fault_run

TIME_SCALE = 1.0
"""Retry waits and timeouts as deployed. Hundreds of sagas in one process queue each step
behind the others (one core at a time), and a shorter task timeout would time steps out
that AWS, with a CPU per invocation, would never time out; the waits cost no CPU."""


@dataclass
class Section:
    """What one part of the run found, as printable lines and pass/fail checks."""

    lines: list[str]
    checks: list[Check]
    violations: list[str]
    final: str


def rush_section(
    orders: int, units: int, seed: int, time_scale: float, latency: float = 0.0
) -> Section:
    run = Run()
    with LocalRuntime(time_scale=time_scale, dynamodb_latency=latency) as runtime:
        result = contention_run(runtime, orders=orders, units=units, seed=seed)
        judge_contention(
            result, run, label=f" ({latency * 1000:.0f} ms latency)" if latency else ""
        )
        report = invariants(runtime)
    run.expect(f"invariants hold after the rush{' with latency' if latency else ''}", report.ok)
    return Section(result.lines(), run.checks, report.violations, report.summary())


def rushes(orders: int, units: int, seed: int, time_scale: float, latency: float) -> list[Section]:
    """The rush as moto answers (instantly, one request at a time), then with DynamoDB's
    latency modelled: requests overlap and transactions conflict as on AWS."""
    return [
        rush_section(orders, units, seed, time_scale),
        rush_section(orders, units, seed, time_scale, latency),
    ]


def fault_section(orders: int, seed: int, time_scale: float) -> Section:
    run = Run()
    with LocalRuntime(time_scale=time_scale) as runtime:
        result = fault_run(runtime, orders=orders, seed=seed)
        judge_faults(result, run)
    violations = result.before.violations + result.after.violations
    return Section(result.lines(), run.checks, violations, result.after.summary())


def start_section(per_fault: int, time_scale: float) -> Section:
    run = Run()
    with LocalRuntime(time_scale=time_scale) as runtime:
        result = start_fault_run(runtime, per_fault=per_fault)
        judge_start_faults(result, run)
    return Section(result.lines(), run.checks, result.report.violations, result.report.summary())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m local_runtime reliability",
        description="The saga under contention and under faults at every step, judged by the "
        "store-wide invariants (ops/invariants/), on the local runtime.",
    )
    parser.add_argument("--orders", type=int, default=500, help="orders under faults")
    parser.add_argument("--rush", type=int, default=200, help="orders at once for one product")
    parser.add_argument("--units", type=int, default=50, help="units of that product")
    parser.add_argument("--seed", type=int, default=20261128)
    parser.add_argument(
        "--start-orders", type=int, default=40, help="orders per fault at the saga's start"
    )
    parser.add_argument("--time-scale", type=float, default=TIME_SCALE)
    parser.add_argument(
        "--latency", type=float, default=0.1, help="DynamoDB latency of the second rush (s)"
    )
    args = parser.parse_args(argv)

    started = time.monotonic()
    # Two runtimes in two processes: each is one Python process (one core at a time), and
    # the two parts share nothing, so on two cores they run side by side.
    with ProcessPoolExecutor(max_workers=2) as pool:
        rush = pool.submit(rushes, args.rush, args.units, args.seed, args.time_scale, args.latency)
        faults = pool.submit(fault_section, args.orders, args.seed, args.time_scale)
        # The third once a core is free: it runs while the longer fault run goes on.
        starts = pool.submit(start_section, args.start_orders, args.time_scale)
        sections = [*rush.result(), faults.result(), starts.result()]

    titles = (
        "Contention",
        f"Contention, {args.latency * 1000:.0f} ms added to every DynamoDB request",
        "Faults at every step",
        "Faults at the saga's start",
    )
    print("Reliability run (make reliability)")
    for section, title in zip(sections, titles, strict=True):
        print(f"{title}: " + "\n".join(section.lines))
        print("  invariants over the whole store afterwards (ops/invariants/):")
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
