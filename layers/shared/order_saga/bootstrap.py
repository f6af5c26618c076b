"""The composition root: the one place that picks adapters and wires them.

Handlers call ``ports()``; the first call builds the AWS adapters from the
environment (so importing a handler costs no client), later calls reuse them.
Tests and the local runtime hand in their own with ``use``.
"""

from __future__ import annotations

import os
import threading
from datetime import timedelta
from typing import TYPE_CHECKING

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
    idempotency_table = env.get("IDEMPOTENCY_TABLE")
    return Ports(
        store=DynamoDBEventStore(env["EVENT_STORE_TABLE"], dynamodb),
        catalog=DynamoDBCatalog(env["CATALOG_TABLE"], dynamodb),
        gateway=payment_gateway(env.get("PAYMENT_GATEWAY", "simulated")),
        saga=(
            StepFunctionsSagaLauncher(state_machine, boto3.client("stepfunctions"))
            if state_machine
            else None
        ),
        saga_timeout=timedelta(seconds=int(env.get("SAGA_TIMEOUT_SECONDS", "900"))),
        idempotency=idempotency_layer(idempotency_table, dynamodb) if idempotency_table else None,
    )


def idempotency_layer(table_name: str, client: object) -> object:
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    return DynamoDBPersistenceLayer(table_name=table_name, boto3_client=client)


def payment_gateway(name: str) -> PaymentGateway:
    if name == "simulated":
        return SimulatedPaymentGateway()
    raise ValueError(f"unknown PAYMENT_GATEWAY {name!r}; known: simulated")
