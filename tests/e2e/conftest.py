"""One local runtime per test process: the real ASL and handlers on moto.

Tests share it, so each one works on its own random products and orders.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest
import requests

from local_runtime.emulator.api_gateway import LocalApiServer
from local_runtime.emulator.store_watch import StoreWatch
from local_runtime.emulator.template import Template
from local_runtime.runtime import Execution, LocalRuntime
from local_runtime.sample_catalog import ADDRESS, seed
from local_runtime.tools.serve import mount_pages
from order_saga.service_layer.catalog import stock_product
from order_saga.service_layer.views import order_view, stock_level
from tests.e2e.effects import Effects
from tests.e2e.store_invariants import StoreInvariants

if TYPE_CHECKING:
    from collections.abc import Iterator

    from order_saga.adapters.payment_gateway import SimulatedPaymentGateway
    from order_saga.service_layer.ports import Ports


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every test on the runtime runs on a STANDARD workflow, as the template deploys it;
    a module that sets ``WORKFLOW_TYPES = ("STANDARD", "EXPRESS")`` runs each of its tests
    on both. One runtime per type and process: pytest orders the tests by type."""
    if "workflow_type" in metafunc.fixturenames:
        types = getattr(metafunc.module, "WORKFLOW_TYPES", ("STANDARD",))
        metafunc.parametrize("workflow_type", types, indirect=True, scope="session")


@pytest.fixture(scope="session")
def workflow_type(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def runtime(workflow_type: str) -> Iterator[LocalRuntime]:
    # Retry waits and timeouts a tenth as long as deployed (local_runtime.emulator.clock).
    # An EXPRESS stack deploys only with a saga deadline of at most 60 s (template rule).
    parameters = {"WorkflowType": workflow_type}
    if workflow_type == "EXPRESS":
        parameters["SagaTimeoutSeconds"] = "60"
    with LocalRuntime(Template(parameters=parameters), time_scale=0.1) as local:
        yield local


@pytest.fixture(scope="session")
def store_invariants(runtime: LocalRuntime) -> StoreInvariants:
    return StoreInvariants(runtime)


@pytest.fixture(autouse=True)
def invariants_hold_after_each_test(request: pytest.FixtureRequest) -> Iterator[None]:
    """After a test that used the runtime, once its sagas have ended: no money and no
    stock lost or created over the whole session store, no order stuck, no stream broken
    (ops/invariants/). Orders in manual review are allowed; the report lists them."""
    checked = (
        request.getfixturevalue("store_invariants") if "runtime" in request.fixturenames else None
    )
    yield
    if checked is not None:
        report = checked.check()
        assert report.ok, "the store's invariants broke:\n" + report.summary()


@pytest.fixture(scope="session")
def api_server(runtime: LocalRuntime) -> Iterator[LocalApiServer]:
    """The local API over HTTP on an ephemeral port, with the sample catalog, as `make serve`."""
    assert runtime.ports is not None
    seed(runtime.ports)
    server = LocalApiServer(runtime, port=0)
    mount_pages(server, runtime)
    server.start()
    yield server
    server.stop()


@dataclass
class Client:
    """One caller of the local API over HTTP; ``customer`` None sends no identity."""

    base_url: str
    customer: str | None
    operator: bool = False
    session: requests.Session = field(default_factory=requests.Session)

    def call(
        self,
        method: str,
        path: str,
        json: Any = None,
        *,
        data: str | bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> requests.Response:
        sent = dict(headers or {})
        if self.customer is not None:
            sent.setdefault("X-Customer-Id", self.customer)
        if self.operator:
            sent.setdefault("X-Role", "operator")
        return self.session.request(
            method, self.base_url + path, json=json, data=data, headers=sent, timeout=30
        )

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.call("GET", path, **kwargs)

    def post(self, path: str, json: Any = None, **kwargs: Any) -> requests.Response:
        return self.call("POST", path, json, **kwargs)

    def as_operator(self) -> Client:
        return Client(self.base_url, f"ops-{uuid.uuid4().hex[:8]}", operator=True)

    def anonymous(self) -> Client:
        return Client(self.base_url, None)

    def someone_else(self) -> Client:
        return Client(self.base_url, f"cust-{uuid.uuid4().hex[:8]}")


@pytest.fixture
def client(api_server: LocalApiServer) -> Client:
    """A new customer of the local API."""
    return Client(api_server.url, f"cust-{uuid.uuid4().hex[:8]}")


@dataclass
class Shop:
    """Drives the saga through the Api function, as a customer would."""

    runtime: LocalRuntime
    customer: str

    @property
    def ports(self) -> Ports:
        assert self.runtime.ports is not None
        return self.runtime.ports

    @property
    def gateway(self) -> SimulatedPaymentGateway:
        return self.ports.gateway  # type: ignore[return-value]

    def product(self, price: str, stock: int) -> str:
        product_id = f"sku-{uuid.uuid4().hex[:10]}"
        stock_product(self.ports, product_id, product_id, Decimal(price), stock)
        return product_id

    def order(self, items: list[tuple[str, int]], payment_method: str = "tok_visa") -> str:
        status, body, _ = self.runtime.api(
            "POST",
            "/orders",
            {
                "items": [{"product_id": p, "quantity": q} for p, q in items],
                "shipping_address": ADDRESS,
                "payment_method": payment_method,
            },
            {"X-Customer-Id": self.customer},
        )
        assert status == 202, body
        return str(body["order_id"])

    def run(
        self, items: list[tuple[str, int]], payment_method: str = "tok_visa"
    ) -> tuple[Execution, dict[str, Any]]:
        order_id = self.order(items, payment_method)
        execution = self.runtime.wait(order_id)
        return execution, order_view(self.ports.store, order_id)

    def stock(self, product_id: str) -> int:
        return stock_level(self.ports.store, product_id)


@pytest.fixture
def shop(runtime: LocalRuntime) -> Shop:
    return Shop(runtime, customer=f"cust-{uuid.uuid4().hex[:8]}")


@pytest.fixture(scope="module")
def effects(runtime: LocalRuntime) -> Effects:
    return Effects(runtime, StoreWatch(runtime.template.ref("EventStoreTable")))


@pytest.fixture
def nothing_written(effects: Effects) -> Iterator[None]:
    """Fails the test when it wrote anything (tests/e2e/effects.py)."""
    before = effects.snapshot()
    yield
    after = effects.snapshot()
    assert after["streams written"] == [], after
    assert after | {"streams written": []} == before | {"streams written": []}
