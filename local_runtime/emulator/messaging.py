"""The template's queues, topics and event buses on moto, and what reached them.

Every AWS::SQS::Queue, AWS::SNS::Topic and AWS::Events::EventBus is created under the
name the template resolves to locally (local_runtime.emulator.template). Each bus also gets a
local-only tap, a rule matching every event of the account with an SQS queue as its
target, so what the publisher put on the bus can be read back, as a subscriber gets it.

A tap is read as records arrive (``collect_taps``, which the stream driver calls after
each delivery), into an index by correlation id: the tap queue never grows, so neither
moto's cost of each publish (it counts the queue's messages on every send) nor a page's
cost of reading what was published grows with the history. Each queue is read under its
own lock, held only while reading it, so one page never waits on another's queue.
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from typing import Any

import boto3

from local_runtime.emulator.template import ACCOUNT, Template

TAP_RULE = "local-runtime-tap"
QUEUE_ATTRIBUTES = {
    "MessageRetentionPeriod",
    "VisibilityTimeout",
    "RedrivePolicy",
    "SqsManagedSseEnabled",
    "DelaySeconds",
}


class Messaging:
    def __init__(self, template: Template) -> None:
        self.template = template
        self._sqs = boto3.client("sqs")
        self._seen: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self._by_correlation: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(
            lambda: defaultdict(list)
        )
        self._readers: dict[str, threading.Lock] = defaultdict(threading.Lock)
        """Queue URL -> the lock of whoever is reading it off moto."""
        self._index = threading.Lock()
        """Held only to add to or copy from the in-memory index, never across a call."""
        self.taps: dict[str, str] = {}
        """Bus logical id -> the URL of its tap queue."""

    def create(self) -> Messaging:
        events, sns = boto3.client("events"), boto3.client("sns")
        create_queues(self.template, self._sqs)
        for logical_id in self.template.of_type("AWS::SNS::Topic"):
            sns.create_topic(Name=logical_id)
        for logical_id in self.template.of_type("AWS::Events::EventBus"):
            bus = self.template.bus_name(logical_id)
            events.create_event_bus(Name=bus)
            tap = self._sqs.create_queue(QueueName=f"local-tap-{logical_id}")["QueueUrl"]
            arn = self._sqs.get_queue_attributes(QueueUrl=tap, AttributeNames=["QueueArn"])
            events.put_rule(
                Name=TAP_RULE,
                EventBusName=bus,
                EventPattern=json.dumps({"account": [ACCOUNT]}),
            )
            events.put_targets(
                Rule=TAP_RULE,
                EventBusName=bus,
                Targets=[{"Id": "tap", "Arn": arn["Attributes"]["QueueArn"]}],
            )
            self.taps[logical_id] = tap
        return self

    def messages(self, queue_url: str) -> list[dict[str, Any]]:
        """Every message the queue ever received, parsed, in the order they were read.
        Reading takes them off the queue: locally nothing else consumes these queues."""
        self._collect(queue_url, wait=True)
        with self._index:
            return list(self._seen[queue_url])

    def _collect(self, queue_url: str, *, wait: bool) -> None:
        """Moves what the queue holds into the index; with ``wait`` False, leaves it to
        whoever is reading the queue already."""
        reader = self._readers[queue_url]
        if not reader.acquire(blocking=wait):
            return
        try:
            while True:
                page = self._sqs.receive_message(
                    QueueUrl=queue_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
                )
                received = page.get("Messages", [])
                if not received:
                    return
                parsed = [json.loads(message["Body"]) for message in received]
                with self._index:
                    self._seen[queue_url].extend(parsed)
                    for message in parsed:
                        correlation = _correlation_id(message)
                        if correlation is not None:
                            self._by_correlation[queue_url][correlation].append(message)
                self._sqs.delete_message_batch(
                    QueueUrl=queue_url,
                    Entries=[
                        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                        for i, m in enumerate(received)
                    ],
                )
        finally:
            reader.release()

    def collect_taps(self) -> None:
        """Reads every bus's tap into the index (after each stream delivery), so that the
        taps stay empty as the history grows."""
        for tap in self.taps.values():
            self._collect(tap, wait=False)

    def queue(self, logical_id: str) -> list[dict[str, Any]]:
        """What reached one of the template's queues (a failure queue, say)."""
        return self.messages(self.template.ref(logical_id))

    def published(
        self, bus_logical_id: str, order_id: str | None = None, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """The events put on the bus as its subscribers receive them, oldest first; only
        those correlated with ``order_id`` when given (its own and its stock movements);
        only the newest ``limit`` when given."""
        tap = self.taps[bus_logical_id]
        self._collect(tap, wait=False)  # what a collection running now has not read yet waits
        with self._index:
            chosen = self._seen[tap] if order_id is None else self._by_correlation[tap][order_id]
            return list(chosen[-limit:] if limit else chosen)


def _correlation_id(message: Any) -> str | None:
    detail = message.get("detail") if isinstance(message, dict) else None
    correlation = detail.get("correlation_id") if isinstance(detail, dict) else None
    return correlation if isinstance(correlation, str) else None


def create_queues(template: Template, sqs: Any) -> dict[str, str]:
    """Every AWS::SQS::Queue of the template (dead-letter queues first); returns their
    URLs by logical id."""
    queues = template.of_type("AWS::SQS::Queue")
    ordered = sorted(queues, key=lambda name: "RedrivePolicy" in queues[name]["Properties"])
    urls = {}
    for logical_id in ordered:
        props = template.resolve(queues[logical_id].get("Properties", {}))
        attributes = {
            key: json.dumps(value)
            if isinstance(value, dict)
            else str(value).lower()
            if isinstance(value, bool)
            else str(value)
            for key, value in props.items()
            if key in QUEUE_ATTRIBUTES
        }
        created = sqs.create_queue(QueueName=logical_id, Attributes=attributes)
        urls[logical_id] = created["QueueUrl"]
    return urls
