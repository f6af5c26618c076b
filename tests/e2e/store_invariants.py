"""The store-wide invariants (ops/invariants/), checked over the session's whole store
after every end-to-end test, once the sagas it started have ended."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from local_runtime.emulator.store_watch import StoreWatch
from ops.invariants import InvariantChecker, InvariantReport, gateway_ledger

if TYPE_CHECKING:
    from local_runtime.runtime import LocalRuntime

IDLE_BOUND_SECONDS = 90.0
"""Longer than any held step (its function's timeout) plus the compensation after it."""


class StoreInvariants:
    def __init__(self, runtime: LocalRuntime) -> None:
        assert runtime.ports is not None
        self.runtime = runtime
        self.store = runtime.ports.store
        self.checker = InvariantChecker()
        self.watch = StoreWatch(runtime.template.ref("EventStoreTable"))
        self.exempt: dict[str, str] = {}
        self.reported: set[str] = set()
        """Violations a failed test already showed: later tests fail only on new ones."""

    def exempt_stream(self, stream_id: str, reason: str) -> None:
        """Leave a stream out of every check from now on: only for one a test wrote on
        purpose past the domain (a poison record), never to hide an order."""
        self.exempt[stream_id] = reason

    def running(self) -> list[str]:
        return sorted(self.runtime.running())

    def wait_until_idle(self) -> list[str]:
        """Wait, at most IDLE_BOUND_SECONDS, until no saga runs; returns those still running."""
        deadline = time.monotonic() + IDLE_BOUND_SECONDS
        while (running := self.running()) and time.monotonic() < deadline:
            time.sleep(0.05)
        return running

    def check(self) -> InvariantReport:
        still_running = self.wait_until_idle()
        changes = self.watch.changes()
        self.checker.refresh(self.store, sorted(changes.streams - set(self.exempt)))
        for stream_id in self.exempt:
            for known in (self.checker.orders, self.checker.products, self.checker.unknown):
                known.pop(stream_id, None)
        gateway = self.runtime.ports.gateway if self.runtime.ports else None
        report = self.checker.report(
            gateway_ledger(gateway),  # type: ignore[arg-type]
            self.checker.counters(self.store),
        )
        report.violations += [f"the store only appends, but {r}" for r in changes.rewritten]
        if still_running:
            report.violations.append(
                f"sagas still running after {IDLE_BOUND_SECONDS:.0f}s: {sorted(still_running)}"
            )
        report.violations = [v for v in report.violations if v not in self.reported]
        self.reported.update(report.violations)
        return report
