"""The composition root: the one place that picks adapters and wires them.

Handlers call ``ports()``; the first call builds the AWS adapters from the
environment (so importing a handler costs no client), later calls reuse them.
Tests and the local runtime hand in their own with ``use``.
"""

from __future__ import annotations

import os
import threading
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from order_saga.adapters.payment_gateway import PaymentGateway, SimulatedPaymentGateway

if TYPE_CHECKING:
    from collections.abc import Mapping

    from order_saga.service_layer.ports import Ports

_lock = threading.Lock()
_ports: Ports | None = None


def ports() -> Ports:
    global _ports
    if _ports is None:
        with _lock:
            if _ports is None:
                _ports = from_environment(os.environ)
    return _ports


def use(ports: Ports | None) -> None:
    """Replace the wired ports (None: build them again from the environment)."""
    global _ports
    with _lock:
        _ports = ports


def from_environment(env: Mapping[str, str]) -> Ports:
    import boto3

    from order_saga.adapters.catalog import DynamoDBCatalog
    from order_saga.adapters.dynamodb_event_store import DynamoDBEventStore
    from order_saga.adapters.saga_launcher import StepFunctionsSagaLauncher
    from order_saga.service_layer.ports import Ports

    dynamodb = boto3.client("dynamodb")
    state_machine = env.get("STATE_MACHINE_ARN")
    return Ports(
        store=DynamoDBEventStore(
            env["EVENT_STORE_TABLE"], dynamodb, snapshot_table=env.get("SNAPSHOT_TABLE")
        ),
        catalog=DynamoDBCatalog(env["CATALOG_TABLE"], dynamodb),
        gateway=payment_gateway(env.get("PAYMENT_GATEWAY", "simulated")),
        saga=(
            StepFunctionsSagaLauncher(state_machine, boto3.client("stepfunctions"))
            if state_machine
            else None
        ),
        saga_timeout=timedelta(seconds=int(env.get("SAGA_TIMEOUT_SECONDS", "900"))),
        **stream_consumer_ports(env, dynamodb),
    )


# Consumer name -> the variable holding its failure queue's URL (one variable per consumer:
# the local runtime runs every function in one process, with one environment).
FAILURE_QUEUE_VARIABLES = {
    "notifications": "NOTIFICATIONS_FAILURE_QUEUE_URL",
    "publisher": "PUBLISHER_FAILURE_QUEUE_URL",
    "views": "VIEWS_FAILURE_QUEUE_URL",
}


def stream_consumer_ports(env: Mapping[str, str], dynamodb: Any) -> dict[str, Any]:
    """Notifier, publisher, failure queues and idempotency stores, each built only when the
    function's environment names it, so a saga step creates no client it never uses."""
    import boto3

    from order_saga.adapters.event_publisher import EventBridgePublisher
    from order_saga.adapters.failure_queue import SqsFailureQueue
    from order_saga.adapters.idempotency import dynamodb_stores
    from order_saga.adapters.notifier import RecordingNotifier, SnsNotifier

    ports: dict[str, Any] = {}
    if env.get("NOTIFIER") == "recording":
        ports["notifier"] = RecordingNotifier()
    elif env.get("NOTIFICATIONS_TOPIC_ARN"):
        ports["notifier"] = SnsNotifier(env["NOTIFICATIONS_TOPIC_ARN"], boto3.client("sns"))
    if env.get("EVENT_BUS_NAME"):
        ports["publisher"] = EventBridgePublisher(env["EVENT_BUS_NAME"], boto3.client("events"))
    queues = {name: env[var] for name, var in FAILURE_QUEUE_VARIABLES.items() if env.get(var)}
    if queues:
        sqs = boto3.client("sqs")
        ports["failure_queues"] = {name: SqsFailureQueue(url, sqs) for name, url in queues.items()}
    table = env.get("IDEMPOTENCY_TABLE")
    if table:
        ports["idempotency"] = dynamodb_stores(table, dynamodb)
    if env.get("READ_MODEL_TABLE"):
        from order_saga.adapters.read_model import DynamoDBReadModel

        ports["read_model"] = DynamoDBReadModel(env["READ_MODEL_TABLE"], dynamodb)
    return ports


def payment_gateway(name: str) -> PaymentGateway:
    if name == "simulated":
        return SimulatedPaymentGateway()
    raise ValueError(f"unknown PAYMENT_GATEWAY {name!r}; known: simulated")
