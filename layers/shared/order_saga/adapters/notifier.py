"""The notification port: a message to a customer. SNS on AWS, a list locally and in tests."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from order_saga.errors import NotificationFailed

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient


@dataclass(frozen=True)
class Notification:
    """One message to one customer about one event of their order."""

    customer_id: str
    order_id: str
    event_type: str
    version: int
    """The event's place in its order's stream: a customer's messages follow it."""
    subject: str
    message: str
    details: dict[str, str] = field(default_factory=dict)
    """What the message says, as data (total, amount, reason...)."""


class Notifier(ABC):
    @abstractmethod
    def send(self, notification: Notification) -> str:
        """Send it; returns the message id."""


class SnsNotifier(Notifier):
    """Publishes to one topic; subscribers filter on the ``customer_id`` attribute (an
    e-mail or SMS subscription per customer, or a service that looks up contact details)."""

    def __init__(self, topic_arn: str, client: SNSClient) -> None:
        self.topic_arn = topic_arn
        self._client = client

    def send(self, notification: Notification) -> str:
        try:
            published = self._client.publish(
                TopicArn=self.topic_arn,
                Subject=notification.subject,
                Message=notification.message,
                MessageAttributes={
                    name: {"DataType": "String", "StringValue": value}
                    for name, value in (
                        ("customer_id", notification.customer_id),
                        ("order_id", notification.order_id),
                        ("event_type", notification.event_type),
                    )
                },
            )
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "unknown")
            raise NotificationFailed(f"SNS refused the message: {code}") from exc
        return published["MessageId"]


class RecordingNotifier(Notifier):
    """Keeps what would have been sent: the local runtime's and the tests' notifier."""

    def __init__(self) -> None:
        self._sent: list[Notification] = []
        self._lock = threading.Lock()

    def send(self, notification: Notification) -> str:
        with self._lock:
            self._sent.append(notification)
            return f"local-{len(self._sent)}"

    def sent(self, order_id: str | None = None) -> list[Notification]:
        """In the order they were sent; only ``order_id``'s when given."""
        with self._lock:
            return [n for n in self._sent if order_id is None or n.order_id == order_id]
