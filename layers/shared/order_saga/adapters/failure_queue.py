"""Where a stream consumer puts a record it can never process, with its content.

Lambda's on-failure destination for a stream source receives only where the batch was
(shard, sequence numbers), never the records, and the stream forgets them after 24 hours;
so the consumer itself sends what it cannot process, whole, with the reason.
"""

from __future__ import annotations

import json
import threading
from abc import ABC, abstractmethod
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping

    from mypy_boto3_sqs import SQSClient


def failure_message(consumer: str, record: Mapping[str, Any], error: Exception) -> dict[str, Any]:
    return {
        "consumer": consumer,
        "error": {"type": type(error).__name__, "message": str(error)},
        "record": record,
        "failed_at": datetime.now(UTC).isoformat(timespec="milliseconds"),
    }


class FailureQueue(ABC):
    @abstractmethod
    def send(self, consumer: str, record: Mapping[str, Any], error: Exception) -> None:
        """Keep the stream record as Lambda delivered it, and why it failed."""


class SqsFailureQueue(FailureQueue):
    def __init__(self, queue_url: str, client: SQSClient) -> None:
        self.queue_url = queue_url
        self._client = client

    def send(self, consumer: str, record: Mapping[str, Any], error: Exception) -> None:
        # A transient SQS error propagates: the record is reported failed and retried.
        self._client.send_message(
            QueueUrl=self.queue_url,
            MessageBody=json.dumps(failure_message(consumer, record, error)),
            MessageAttributes={
                "consumer": {"DataType": "String", "StringValue": consumer},
                "error_type": {"DataType": "String", "StringValue": type(error).__name__},
            },
        )


class RecordingFailureQueue(FailureQueue):
    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def send(self, consumer: str, record: Mapping[str, Any], error: Exception) -> None:
        with self._lock:
            self.messages.append(failure_message(consumer, record, error))
