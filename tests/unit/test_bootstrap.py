"""The composition root: each function declares its dependencies at init, where missing
configuration fails with a named error; the adapters are built at the first request,
only the ones the function uses, and again after ``use`` hands in others."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from order_saga import bootstrap
from order_saga.adapters.catalog import InMemoryCatalog
from order_saga.adapters.event_store import InMemoryEventStore
from order_saga.adapters.payment_gateway import SimulatedPaymentGateway
from order_saga.configuration import EnvironmentAdapters
from order_saga.errors import MissingConfiguration
from order_saga.service_layer.dependencies import (
    ApiDependencies,
    InventoryDependencies,
    NotificationsDependencies,
    PaymentDependencies,
    PublisherDependencies,
    StepDependencies,
    ViewsDependencies,
)
from order_saga.service_layer.ports import Ports

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("kind", "variables"),
    [
        (StepDependencies, {"EVENT_STORE_TABLE"}),
        (PaymentDependencies, {"EVENT_STORE_TABLE"}),
        (InventoryDependencies, {"EVENT_STORE_TABLE"}),
        (
            ApiDependencies,
            {"EVENT_STORE_TABLE", "CATALOG_TABLE", "IDEMPOTENCY_TABLE", "READ_MODEL_TABLE"},
        ),
        (
            NotificationsDependencies,
            {
                "EVENT_STORE_TABLE",
                "NOTIFICATIONS_TOPIC_ARN",
                "IDEMPOTENCY_TABLE",
                "NOTIFICATIONS_FAILURE_QUEUE_URL",
            },
        ),
        (
            PublisherDependencies,
            {"EVENT_BUS_NAME", "IDEMPOTENCY_TABLE", "PUBLISHER_FAILURE_QUEUE_URL"},
        ),
        (
            ViewsDependencies,
            {
                "EVENT_STORE_TABLE",
                "READ_MODEL_TABLE",
                "IDEMPOTENCY_TABLE",
                "VIEWS_FAILURE_QUEUE_URL",
            },
        ),
    ],
)
def test_missing_configuration_names_every_variable_the_function_needs(
    kind: type[bootstrap.Dependencies], variables: set[str]
) -> None:
    with pytest.raises(MissingConfiguration) as refused:
        bootstrap.check(kind, {})

    assert set(refused.value.variables) == variables
    assert str(refused.value).startswith(f"{kind.__name__} cannot start: set ")


def test_a_function_needs_only_its_own_variables() -> None:
    bootstrap.check(PaymentDependencies, {"EVENT_STORE_TABLE": "events"})
    bootstrap.check(
        NotificationsDependencies,
        {
            "EVENT_STORE_TABLE": "events",
            "IDEMPOTENCY_TABLE": "idempotency",
            "NOTIFIER": "recording",  # the local runtime's: no topic needed
            "NOTIFICATIONS_FAILURE_QUEUE_URL": "https://queue",
        },
    )


def test_an_unknown_payment_gateway_is_refused_at_init() -> None:
    env = {"EVENT_STORE_TABLE": "events", "PAYMENT_GATEWAY": "stripe"}
    with pytest.raises(ValueError, match="unknown PAYMENT_GATEWAY 'stripe'"):
        bootstrap.check(PaymentDependencies, env)
    bootstrap.check(StepDependencies, env)  # a step that moves no money does not care


def test_a_function_missing_its_table_fails_its_init_not_its_first_request() -> None:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": os.pathsep.join(
            [str(ROOT / "functions" / "payment"), str(ROOT / "layers" / "shared")]
        ),
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
    failed = subprocess.run(
        [sys.executable, "-c", "import app"], env=env, capture_output=True, text=True
    )

    assert failed.returncode != 0
    assert "MissingConfiguration: PaymentDependencies cannot start: set EVENT_STORE_TABLE" in (
        failed.stderr
    )
    started = subprocess.run(
        [sys.executable, "-c", "import app, sys; print('boto3' in sys.modules)"],
        env={**env, "EVENT_STORE_TABLE": "events"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert started.stdout.strip() == "False"  # checked at init, built at the first request


def test_the_adapters_are_built_at_first_use_and_only_those_asked_for() -> None:
    adapters = EnvironmentAdapters({"EVENT_STORE_TABLE": "events"})

    with pytest.raises(MissingConfiguration, match="CATALOG_TABLE"):
        _ = adapters.catalog
    assert adapters.gateway is adapters.gateway  # built once, kept


def test_wired_dependencies_take_their_own_from_the_source_handed_in() -> None:
    wired = bootstrap.Wired(PaymentDependencies)
    first = Ports(
        store=InMemoryEventStore(), catalog=InMemoryCatalog(), gateway=SimulatedPaymentGateway()
    )
    second = Ports(
        store=InMemoryEventStore(), catalog=InMemoryCatalog(), gateway=SimulatedPaymentGateway()
    )
    try:
        bootstrap.use(first)
        built = wired.get()
        assert wired.get() is built
        assert (built.store, built.gateway) == (first.store, first.gateway)
        assert not hasattr(built, "catalog")

        bootstrap.use(second)
        assert wired.get().gateway is second.gateway
    finally:
        bootstrap.use(None)
