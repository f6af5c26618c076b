"""Everything a hostile call could have written, counted before and after it: the streams
of the event store, executions started, notifications sent, messages queued (the
fixtures ``effects`` and ``nothing_written`` of conftest.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import boto3

from local_runtime.emulator.store_watch import StoreWatch

if TYPE_CHECKING:
    from local_runtime.runtime import LocalRuntime

QUEUES = ["NotificationsFailureQueue", "PublisherFailureQueue", "ManualReviewQueue"]


@dataclass
class Effects:
    """Everything a call could have written, counted before and after it."""

    runtime: LocalRuntime
    watch: StoreWatch

    def snapshot(self) -> dict[str, Any]:
        assert self.runtime.ports is not None
        sqs = boto3.client("sqs")
        queued = {
            queue: sqs.get_queue_attributes(
                QueueUrl=self.runtime.queue_url(queue),
                AttributeNames=["ApproximateNumberOfMessages"],
            )["Attributes"]["ApproximateNumberOfMessages"]
            for queue in QUEUES
        }
        executions = self.runtime.executions()
        return {
            "streams written": sorted(self.watch.changes().streams),
            "executions": len(executions),
            "notifications": len(self.runtime.ports.notifier.sent()),  # type: ignore[union-attr]
            "queued": queued,
        }
