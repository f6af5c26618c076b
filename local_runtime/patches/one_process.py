"""What hosting every function in one process needs: Powertools' metric set made safe for
invocations that run at once.

On Lambda an execution environment runs one invocation at a time, so Powertools Metrics
keeps one metric set per process (a class attribute shared by every ``Metrics``). The
local runtime answers every invocation of every function on its own thread of one
process: one handler's ``flush_metrics`` could clear the set between another's check
that it is not empty and its serialisation, which then raised ``SchemaValidationError:
Must contain at least one metric`` out of that handler (an Api answer AWS would never
give), and a metric added while another flush iterates the set could break it. Adding to
the set and flushing it are made one at a time. Which flush carries a metric may still
differ from AWS (each metric is emitted once, in some function's document); the tap reads
metrics by name, which that does not change.
"""

from __future__ import annotations

import threading
from typing import Any

from local_runtime.patches.patching import patch

METRICS_LOCK = threading.RLock()
"""Held while a thread adds to the process's metric set or flushes it."""
GUARDED = ("add_metric", "add_dimension", "add_metadata", "flush_metrics", "clear_metrics")


def apply() -> None:
    from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import (
        AmazonCloudWatchEMFProvider,
    )

    for name in GUARDED:
        patch(AmazonCloudWatchEMFProvider, name, _one_at_a_time)


def _one_at_a_time(original: Any) -> Any:
    def guarded(self: Any, *args: Any, **kwargs: Any) -> Any:
        with METRICS_LOCK:
            return original(self, *args, **kwargs)

    return guarded
