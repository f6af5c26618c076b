"""The stream consumers in template.yaml: each has its own mapping with partial batch
responses, bisect, bounded retries and age, an encrypted on-failure queue of its own, and
IAM that matches what its code uses (its idempotency key prefix, its failure queue)."""

from __future__ import annotations

import importlib.util
import json
import sys
from typing import Any

import pytest

from local_runtime.emulator.stream_mappings import stream_mappings
from local_runtime.emulator.template import ROOT, Template
from order_saga.bootstrap import FAILURE_QUEUE_VARIABLES

TEMPLATE = Template()
CONSUMERS = ("NotificationsFunction", "PublisherFunction", "ViewsFunction", "SagaStarterFunction")


def props(logical_id: str) -> dict[str, Any]:
    return TEMPLATE.resources[logical_id]["Properties"]


def stream_event(function: str) -> dict[str, Any]:
    (event,) = [e for e in props(function)["Events"].values() if e["Type"] == "DynamoDB"]
    return dict(event["Properties"])


def consumer_of(function: str) -> Any:
    """The StreamConsumer its app.py declares (imported as its own module, with the
    function's variables, which its init checks)."""
    path = ROOT / props(function)["CodeUri"] / "app.py"
    name = f"_template_consumer_{function}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    with pytest.MonkeyPatch.context() as patch:
        for variable, value in TEMPLATE.functions()[function].environment.items():
            patch.setenv(variable, value)
        spec.loader.exec_module(module)
    return module.CONSUMER


def test_only_the_three_consumers_read_the_event_store_stream() -> None:
    assert sorted(m.function for m in stream_mappings(TEMPLATE)) == sorted(CONSUMERS)
    assert {m.table for m in stream_mappings(TEMPLATE)} == {"EventStoreTable"}


@pytest.mark.parametrize("function", CONSUMERS)
def test_a_consumer_reports_item_failures_bisects_and_gives_up_in_bounded_time(
    function: str,
) -> None:
    event = stream_event(function)

    assert event["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert event["BisectBatchOnFunctionError"] is True
    assert event["StartingPosition"] == "TRIM_HORIZON"
    assert 1 <= event["BatchSize"] <= 100
    assert 0 <= event["MaximumRetryAttempts"] <= 5


@pytest.mark.parametrize("function", CONSUMERS)
def test_a_consumer_outage_of_hours_loses_no_record_the_stream_still_holds(function: str) -> None:
    """A DynamoDB stream keeps records 24 hours. A mapping that discards them sooner (it
    was 3600 s) leaves customers unnotified and the bus without events after a consumer
    outage of more than that; one that never discards them (-1) lets the stream's trim drop
    them silently. So records are kept 23 hours at least, and handed to the failure queue
    before the 24 hours are up, while they can still be re-read."""
    age = stream_event(function)["MaximumRecordAgeInSeconds"]

    assert 23 * 3600 <= age < 24 * 3600, age


@pytest.mark.parametrize("function", CONSUMERS)
def test_a_consumer_has_its_own_encrypted_failure_queue_its_code_writes_to(function: str) -> None:
    destination = stream_event(function)["DestinationConfig"]["OnFailure"]["Destination"]
    queue = destination["Fn::GetAtt"][0]
    consumer = consumer_of(function)

    assert TEMPLATE.resources[queue]["Type"] == "AWS::SQS::Queue"
    assert props(queue)["SqsManagedSseEnabled"] is True
    variable = FAILURE_QUEUE_VARIABLES[consumer.name]
    assert props(function)["Environment"]["Variables"][variable] == {"Ref": queue}
    assert {"SQSSendMessagePolicy": {"QueueName": {"Fn::GetAtt": [queue, "QueueName"]}}} in props(
        function
    )["Policies"]


@pytest.mark.parametrize("function", CONSUMERS)
def test_a_consumer_may_write_only_idempotency_keys_under_its_own_prefix(function: str) -> None:
    consumer = consumer_of(function)
    statements = [
        s
        for policy in props(function)["Policies"]
        for s in policy.get("Statement", [])
        if s["Resource"] == {"Fn::GetAtt": ["IdempotencyTable", "Arn"]}
    ]

    (statement,) = statements
    leading = statement["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]
    assert leading == [f"{consumer.key_prefix}#*"]
    assert sorted(statement["Action"]) == [
        "dynamodb:DeleteItem",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
    ]


def test_consumers_never_share_an_idempotency_prefix_or_a_failure_queue() -> None:
    consumers = [consumer_of(function) for function in CONSUMERS]

    assert len({c.key_prefix for c in consumers}) == len(consumers)
    assert len({c.name for c in consumers}) == len(consumers)


def test_the_notifications_topic_is_encrypted_and_the_bus_is_named_per_stack() -> None:
    assert props("NotificationsTopic")["KmsMasterKeyId"] == "alias/aws/sns"
    assert props("OrderEventBus")["Name"] == {"Fn::Sub": "${AWS::StackName}-orders"}
    outputs = TEMPLATE.raw["Outputs"]
    assert outputs["OrderEventBusName"]["Value"] == {"Ref": "OrderEventBus"}
    assert outputs["NotificationsTopicArn"]["Value"] == {"Ref": "NotificationsTopic"}


def test_only_an_orders_creation_invokes_the_saga_starter() -> None:
    (pattern,) = [
        json.loads(f["Pattern"])
        for f in stream_event("SagaStarterFunction")["FilterCriteria"]["Filters"]
    ]
    mapping = next(m for m in stream_mappings(TEMPLATE) if m.function == "SagaStarterFunction")

    assert pattern == {
        "eventName": ["INSERT"],
        "dynamodb": {"NewImage": {"event_type": {"S": ["OrderCreated"]}}},
    }
    created = {
        "eventName": "INSERT",
        "dynamodb": {"NewImage": {"event_type": {"S": "OrderCreated"}}},
    }
    confirmed = {
        "eventName": "INSERT",
        "dynamodb": {"NewImage": {"event_type": {"S": "OrderConfirmed"}}},
    }
    assert mapping.accepts(created) and not mapping.accepts(confirmed)
