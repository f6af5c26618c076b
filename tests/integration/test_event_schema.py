"""The published event schema (schemas/domain-event.v1.json): generated from the event
classes, a valid JSON Schema that accepts every event the publisher builds, and refuses
what breaks the contract."""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from order_saga.adapters.event_publisher import RecordingEventPublisher
from order_saga.adapters.event_store import InMemoryEventStore
from order_saga.domain.events import EVENT_TYPES
from order_saga.service_layer.ports import Ports
from order_saga.service_layer.publishing import publish
from order_saga.service_layer.repository import load_stock, product_stream
from schemas.build import PATH, render
from tests.unit.sagas import (
    cancelled_by_customer,
    every_path,
    in_manual_review,
    in_memory_ports,
    legacy_product,
    released,
)

SCHEMA = json.loads(PATH.read_text(encoding="utf-8"))
VALIDATOR = Draft202012Validator(SCHEMA)


def delivered(entry: dict[str, Any]) -> dict[str, Any]:
    """A PutEvents entry as EventBridge hands it to a rule's target."""
    return {
        "version": "0",
        "id": "4a7e5c2f-0000-0000-0000-000000000000",
        "source": entry["Source"],
        "detail-type": entry["DetailType"],
        "account": "123456789012",
        "time": entry["Time"].strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": "us-east-1",
        "resources": [],
        "detail": json.loads(entry["Detail"]),
    }


@pytest.fixture(scope="module")
def events() -> list[dict[str, Any]]:
    """Every event of every saga path, stock movements included, as published."""
    publisher = RecordingEventPublisher()
    ports = replace(in_memory_ports(), publisher=publisher)
    every_path(ports)
    released(ports)
    in_manual_review(ports)
    cancelled_by_customer(ports)
    held_the_old_way(ports)
    assert isinstance(ports.store, InMemoryEventStore)
    for stream_id in ports.store.stream_ids():
        for record in ports.store.load(stream_id):
            publish(record, ports)
    return [delivered(entry) for entry in publisher.entries]


def held_the_old_way(ports: Ports) -> None:
    """A product's stream as stores before the stock counters hold it: a reservation and
    its release on the product's own stream."""
    product = legacy_product(ports, "1.00", 3)
    stock = load_stock(ports.store, product)
    stock.reserve("order-old", 1)
    stock.release("order-old")
    ports.store.append(
        product_stream(product), stock.version, tuple(stock.pending), correlation_id="order-old"
    )


def errors(event: dict[str, Any]) -> list[str]:
    return [error.message for error in VALIDATOR.iter_errors(event)]


def test_the_schema_file_is_what_the_event_classes_generate() -> None:
    assert PATH.read_text(encoding="utf-8") == render(), (
        "schemas/domain-event.v1.json is stale: run `PYTHONPATH=layers/shared "
        ".venv/bin/python -m schemas.build`, and if a subscriber could notice the change, "
        "publish it as v2 instead"
    )


def test_the_schema_is_valid_json_schema_2020_12() -> None:
    Draft202012Validator.check_schema(SCHEMA)


def test_the_schema_names_every_event_type() -> None:
    assert SCHEMA["properties"]["detail-type"]["enum"] == sorted(EVENT_TYPES)


def test_every_published_event_of_every_saga_path_matches_the_schema(
    events: list[dict[str, Any]],
) -> None:
    assert {event["detail-type"] for event in events} == set(EVENT_TYPES)
    for event in events:
        assert errors(event) == [], event["detail-type"]


def _first(events: list[dict[str, Any]], detail_type: str) -> dict[str, Any]:
    return copy.deepcopy(next(e for e in events if e["detail-type"] == detail_type))


@pytest.mark.parametrize(
    ("detail_type", "spoil", "complaint"),
    [
        ("OrderConfirmed", lambda e: e.update(source="orders"), "'order-saga.orders' was expected"),
        ("OrderConfirmed", lambda e: e.update({"detail-type": "OrderLost"}), "is not one of"),
        ("OrderConfirmed", lambda e: e["detail"].pop("version"), "'version' is a required"),
        ("OrderConfirmed", lambda e: e["detail"].update(extra=1), "Additional properties"),
        (
            "OrderCreated",
            lambda e: e["detail"]["data"].update(total=12.5),
            "is not of type 'string'",
        ),
        ("OrderCreated", lambda e: e["detail"]["data"].update(total="12.5"), "does not match"),
        ("OrderCancelled", lambda e: e["detail"]["data"].pop("reason"), "'reason' is a required"),
        ("StockAdded", lambda e: e["detail"].update(stream_id="stock-1"), "does not match"),
    ],
)
def test_the_schema_refuses_an_event_that_breaks_the_contract(
    events: list[dict[str, Any]], detail_type: str, spoil: Any, complaint: str
) -> None:
    event = _first(events, detail_type)
    spoil(event)

    assert any(complaint in message for message in errors(event)), errors(event)
