"""Reading the metrics the handlers emit, as CloudWatch would from their logs.

Powertools Metrics writes each flush as one line of Embedded Metric Format JSON on
stdout. The tap sits in front of stdout: EMF lines are kept (and not printed), every
other line goes through unchanged.
"""

from __future__ import annotations

import json
import statistics
import sys
import threading
from collections import Counter
from typing import Any, TextIO

EMF_PREFIX = '{"_aws"'


class MetricsTap:
    def __init__(self, downstream: TextIO) -> None:
        self.downstream = downstream
        self.documents: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._pending = threading.local()  # threads print at once; keep their lines apart

    def install(self) -> None:
        """Stand in front of whatever stdout is now. Called before every invocation,
        since a test runner swaps stdout per test."""
        with self._lock:
            if sys.stdout is not self:
                self.downstream = sys.stdout
                sys.stdout = self

    def uninstall(self) -> None:
        with self._lock:
            if sys.stdout is self:
                sys.stdout = self.downstream

    def write(self, text: str) -> int:
        buffered = getattr(self._pending, "text", "") + text
        *lines, self._pending.text = buffered.split("\n")
        for line in lines:
            if line.startswith(EMF_PREFIX):
                with self._lock:
                    self.documents.append(json.loads(line))
            else:
                self.downstream.write(line + "\n")
        return len(text)

    def flush(self) -> None:
        self.downstream.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.downstream, name)

    # -- what was emitted ---------------------------------------------------------------

    def values(self, name: str) -> list[float]:
        """Every value emitted for metric ``name``, in order."""
        with self._lock:
            documents = list(self.documents)
        found: list[float] = []
        for document in documents:
            declared = {
                metric["Name"]
                for directive in document["_aws"]["CloudWatchMetrics"]
                for metric in directive["Metrics"]
            }
            if name in declared:
                value = document[name]
                found.extend(value if isinstance(value, list) else [value])
        return found

    def counts(self) -> Counter[str]:
        """Sum of every metric with unit Count, by name."""
        with self._lock:
            documents = list(self.documents)
        totals: Counter[str] = Counter()
        for document in documents:
            for directive in document["_aws"]["CloudWatchMetrics"]:
                for metric in directive["Metrics"]:
                    if metric.get("Unit") == "Count":
                        value = document[metric["Name"]]
                        totals[metric["Name"]] += int(
                            sum(value) if isinstance(value, list) else value
                        )
        return totals

    def summary(self) -> str:
        counts = self.counts()
        names = (
            "OrdersCreated",
            "OrdersConfirmed",
            "OrdersCancelled",
            "PaymentFailures",
            "InventoryFailures",
            "CompensationsFailed",
        )
        # How the sagas started, past the API's fast path: the stream relay's, and the
        # reconciler's (which alarm when not zero).
        starts = ("SagaStartsDeferred", "SagasStartedByReconciler", "SagasRedrivenByReconciler")
        line = ", ".join(f"{name} {counts.get(name, 0)}" for name in names)
        line += "\n" + " " * 16 + ", ".join(f"{name} {counts.get(name, 0)}" for name in starts)
        names += starts
        others = sorted(set(counts) - set(names))  # the stream consumers' counts, say
        if others:
            line += "\n" + " " * 16 + ", ".join(f"{name} {counts[name]}" for name in others)
        durations = self.values("OrderDuration")
        if durations:
            line += (
                f"\nOrderDuration   {len(durations)} orders: min {min(durations):.0f} ms, "
                f"median {statistics.median(durations):.0f} ms, max {max(durations):.0f} ms"
            )
        return line
