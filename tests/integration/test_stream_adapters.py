"""The stream consumers' AWS adapters against moto: SNS notifier, EventBridge publisher,
SQS failure queue; and how each names a failure."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from jsonschema import Draft202012Validator
from moto import mock_aws

from order_saga.adapters.event_publisher import SOURCE, EventBridgePublisher
from order_saga.adapters.event_store import RecordedEvent
from order_saga.adapters.failure_queue import SqsFailureQueue
from order_saga.adapters.notifier import Notification, SnsNotifier
from order_saga.errors import NotificationFailed, PublishFailed
from schemas.build import PATH

REGION = "us-east-1"


def unique(prefix: str) -> str:
    # moto's state is shared with any local runtime of this test process
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


def queue() -> tuple[str, str]:
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.create_queue(QueueName=unique("q"))["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    return url, arn["QueueArn"]


def received(url: str) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs", region_name=REGION)
    messages = sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
    ).get("Messages", [])
    return [{"body": json.loads(m["Body"]), **m} for m in messages]


NOTIFICATION = Notification(
    customer_id="cust-7",
    order_id="ord-7",
    event_type="OrderConfirmed",
    version=6,
    subject="Order ord-7 confirmed",
    message="Thank you! Your order ord-7 is confirmed.",
    details={"total": "10.00"},
)
RECORD = RecordedEvent(
    stream_id="order#ord-7",
    version=6,
    event_type="OrderConfirmed",
    schema_version=1,
    occurred_at=datetime(2026, 11, 28, 12, 0, 0, 123000, tzinfo=UTC),
    correlation_id="ord-7",
    data={"order_id": "ord-7"},
)


def test_sns_carries_the_message_with_the_customer_as_an_attribute_to_filter_on(aws: None) -> None:
    sns = boto3.client("sns", region_name=REGION)
    topic = sns.create_topic(Name=unique("topic"))["TopicArn"]
    url, arn = queue()
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)

    message_id = SnsNotifier(topic, sns).send(NOTIFICATION)

    (message,) = received(url)
    body = message["body"]
    assert body["MessageId"] == message_id
    assert (body["Subject"], body["Message"]) == (NOTIFICATION.subject, NOTIFICATION.message)
    attributes = {k: v["Value"] for k, v in body["MessageAttributes"].items()}
    assert attributes == {
        "customer_id": "cust-7",
        "order_id": "ord-7",
        "event_type": "OrderConfirmed",
    }


def test_sns_refusing_a_message_is_a_named_transient_error(aws: None) -> None:
    sns = boto3.client("sns", region_name=REGION)
    missing = f"arn:aws:sns:{REGION}:123456789012:{unique('missing')}"

    with pytest.raises(NotificationFailed, match="NotFound"):
        SnsNotifier(missing, sns).send(NOTIFICATION)


def test_eventbridge_delivers_the_event_in_the_documented_schema(aws: None) -> None:
    events = boto3.client("events", region_name=REGION)
    bus = unique("bus")
    events.create_event_bus(Name=bus)
    url, arn = queue()
    events.put_rule(Name="all", EventBusName=bus, EventPattern=json.dumps({"source": [SOURCE]}))
    events.put_targets(Rule="all", EventBusName=bus, Targets=[{"Id": "q", "Arn": arn}])

    event_id = EventBridgePublisher(bus, events).publish(RECORD)

    (message,) = received(url)
    event = message["body"]
    assert event["id"] == event_id
    schema = json.loads(PATH.read_text(encoding="utf-8"))
    assert list(Draft202012Validator(schema).iter_errors(event)) == []
    assert (event["source"], event["detail-type"]) == (SOURCE, "OrderConfirmed")
    assert event["detail"] == {
        "stream_id": "order#ord-7",
        "version": 6,
        "schema_version": 1,
        "occurred_at": "2026-11-28T12:00:00.123+00:00",
        "correlation_id": "ord-7",
        "data": {"order_id": "ord-7"},
    }


def test_a_bus_that_does_not_exist_is_a_named_transient_error(aws: None) -> None:
    events = boto3.client("events", region_name=REGION)

    with pytest.raises(PublishFailed, match="ResourceNotFoundException"):
        EventBridgePublisher(unique("no-bus"), events).publish(RECORD)


def test_an_entry_the_bus_refuses_is_a_named_transient_error_with_its_code() -> None:
    events = boto3.client(
        "events", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x"
    )
    with Stubber(events) as stub:
        stub.add_response(
            "put_events",
            {
                "FailedEntryCount": 1,
                "Entries": [{"ErrorCode": "ThrottlingException", "ErrorMessage": "Rate exceeded"}],
            },
        )

        with pytest.raises(PublishFailed, match="ThrottlingException Rate exceeded"):
            EventBridgePublisher("bus", events).publish(RECORD)


def test_the_failure_queue_keeps_the_record_whole_with_the_error(aws: None) -> None:
    url, _ = queue()
    record = {"eventID": "e-1", "eventName": "INSERT", "dynamodb": {"SequenceNumber": "42"}}

    SqsFailureQueue(url, boto3.client("sqs", region_name=REGION)).send(
        "notifications", record, ValueError("bad image")
    )

    (message,) = received(url)
    assert message["body"]["record"] == record
    assert message["body"]["consumer"] == "notifications"
    assert message["body"]["error"] == {"type": "ValueError", "message": "bad image"}
    assert message["MessageAttributes"]["error_type"]["StringValue"] == "ValueError"
