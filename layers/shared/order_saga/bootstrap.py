"""The composition root: the one place that picks adapters and wires them.

Each function declares its dependencies at init, in functions/<name>/app.py:
``DEPENDENCIES = bootstrap.wire(PaymentDependencies)``. ``wire`` checks there and then that
the environment holds every variable they need, and raises MissingConfiguration naming
the missing ones, so a function misconfigured fails its init, not its first request. The
adapters themselves (boto3 clients) are built at the first request (``get``): importing a
handler loads no boto3, which keeps the cold start's init short.

The source of adapters is the environment (``EnvironmentAdapters``, each adapter built at
first use and kept), or one set handed in with ``use``: the local runtime and the tests
run every function in one process, sharing one set (service_layer/ports.py).
"""

from __future__ import annotations

import os
import threading
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Generic, Protocol, Self, TypeVar

from order_saga.adapters.event_store import utc_now
from order_saga.adapters.payment_gateway import PaymentGateway, SimulatedPaymentGateway
from order_saga.errors import MissingConfiguration
from order_saga.service_layer.ids import new_id

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from order_saga.service_layer.ports import Ports


class Dependencies(Protocol):
    @classmethod
    def from_adapters(cls, source: Any) -> Self: ...


D = TypeVar("D", bound=Dependencies)

# Consumer name -> the variable holding its failure queue's URL (one variable per consumer:
# the local runtime runs every function in one process, with one environment).
FAILURE_QUEUE_VARIABLES = {
    "notifications": "NOTIFICATIONS_FAILURE_QUEUE_URL",
    "publisher": "PUBLISHER_FAILURE_QUEUE_URL",
}
PAYMENT_GATEWAYS = ("simulated",)


def _notifier_variables(env: Mapping[str, str]) -> tuple[str, ...]:
    return () if env.get("NOTIFIER") == "recording" else ("NOTIFICATIONS_TOPIC_ARN",)


VARIABLES: dict[str, Callable[[Mapping[str, str]], tuple[str, ...]]] = {
    "store": lambda env: ("EVENT_STORE_TABLE",),
    "catalog": lambda env: ("CATALOG_TABLE",),
    "idempotency": lambda env: ("IDEMPOTENCY_TABLE",),
    "notifier": _notifier_variables,
    "publisher": lambda env: ("EVENT_BUS_NAME",),
}
"""Adapter -> the variables it cannot be built without (the others have defaults)."""

_lock = threading.Lock()
_source: Ports | None = None
"""The adapters handed in with ``use``; None: the environment's."""
_environment: EnvironmentAdapters | None = None


class EnvironmentAdapters:
    """Every adapter, each built from the environment at its first use and kept, so a
    function builds only the ones its dependencies ask for."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env
        self._built: dict[str, Any] = {}
        self._lock = threading.RLock()
        self.new_id = new_id
        self.clock = utc_now
        self.saga_timeout = timedelta(seconds=int(env.get("SAGA_TIMEOUT_SECONDS", "900")))

    def _once(self, name: str, build: Callable[[], Any]) -> Any:
        with self._lock:
            if name not in self._built:
                self._built[name] = build()
            return self._built[name]

    def _require(self, name: str) -> None:
        missing = tuple(v for v in VARIABLES[name](self.env) if not self.env.get(v))
        if missing:
            raise MissingConfiguration(f"the {name} adapter", missing)

    @property
    def dynamodb(self) -> Any:
        import boto3

        return self._once("dynamodb", lambda: boto3.client("dynamodb"))

    @property
    def store(self) -> Any:
        from order_saga.adapters.dynamodb_event_store import DynamoDBEventStore

        self._require("store")
        return self._once(
            "store",
            lambda: DynamoDBEventStore(
                self.env["EVENT_STORE_TABLE"],
                self.dynamodb,
                snapshot_table=self.env.get("SNAPSHOT_TABLE"),
            ),
        )

    @property
    def catalog(self) -> Any:
        from order_saga.adapters.catalog import DynamoDBCatalog

        self._require("catalog")
        return self._once(
            "catalog", lambda: DynamoDBCatalog(self.env["CATALOG_TABLE"], self.dynamodb)
        )

    @property
    def gateway(self) -> PaymentGateway:
        return self._once(  # type: ignore[no-any-return]
            "gateway", lambda: payment_gateway(self.env.get("PAYMENT_GATEWAY", "simulated"))
        )

    @property
    def saga(self) -> Any:
        arn = self.env.get("STATE_MACHINE_ARN")
        if not arn:
            return None

        def build() -> Any:
            import boto3

            from order_saga.adapters.saga_launcher import StepFunctionsSagaLauncher

            return StepFunctionsSagaLauncher(arn, boto3.client("stepfunctions"))

        return self._once("saga", build)

    @property
    def idempotency(self) -> Any:
        from order_saga.adapters.idempotency import dynamodb_stores

        self._require("idempotency")
        return self._once(
            "idempotency", lambda: dynamodb_stores(self.env["IDEMPOTENCY_TABLE"], self.dynamodb)
        )

    @property
    def notifier(self) -> Any:
        from order_saga.adapters.notifier import RecordingNotifier, SnsNotifier

        self._require("notifier")
        if self.env.get("NOTIFIER") == "recording":
            return self._once("notifier", RecordingNotifier)

        def build() -> Any:
            import boto3

            return SnsNotifier(self.env["NOTIFICATIONS_TOPIC_ARN"], boto3.client("sns"))

        return self._once("notifier", build)

    @property
    def publisher(self) -> Any:
        self._require("publisher")

        def build() -> Any:
            import boto3

            from order_saga.adapters.event_publisher import EventBridgePublisher

            return EventBridgePublisher(self.env["EVENT_BUS_NAME"], boto3.client("events"))

        return self._once("publisher", build)

    @property
    def failure_queues(self) -> _FailureQueues:
        return _FailureQueues(self)

    def configured(self) -> Ports:
        """Every adapter the environment configures, as one set (for the local runtime,
        which runs every function in one process)."""
        from order_saga.service_layer.ports import Ports

        optional = {
            name: getattr(self, name)
            for name in ("idempotency", "notifier", "publisher")
            if not [v for v in VARIABLES[name](self.env) if not self.env.get(v)]
        }
        queues = {
            name: self.failure_queues[name]
            for name, variable in FAILURE_QUEUE_VARIABLES.items()
            if self.env.get(variable)
        }
        return Ports(
            store=self.store,
            catalog=self.catalog,
            gateway=self.gateway,
            saga=self.saga,
            new_id=self.new_id,
            clock=self.clock,
            saga_timeout=self.saga_timeout,
            failure_queues=queues,
            **optional,
        )


class _FailureQueues:
    """Consumer name -> its failure queue, built at first use."""

    def __init__(self, adapters: EnvironmentAdapters) -> None:
        self.adapters = adapters

    def __getitem__(self, consumer: str) -> Any:
        variable = FAILURE_QUEUE_VARIABLES[consumer]
        url = self.adapters.env.get(variable)
        if not url:
            raise MissingConfiguration(f"the {consumer} failure queue", (variable,))

        def build() -> Any:
            import boto3

            from order_saga.adapters.failure_queue import SqsFailureQueue

            sqs = self.adapters._once("sqs", lambda: boto3.client("sqs"))
            return SqsFailureQueue(url, sqs)

        return self.adapters._once(f"failure_queue.{consumer}", build)


class _Check:
    """Stands in for the adapters at init: notes every variable a function's dependencies
    need and the environment lacks, and builds nothing."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env
        self.missing: list[str] = []
        self.failure_queues = self

    def __getattr__(self, name: str) -> None:
        if name in VARIABLES:
            self.missing += [v for v in VARIABLES[name](self.env) if not self.env.get(v)]
        return None

    def __getitem__(self, consumer: str) -> None:
        variable = FAILURE_QUEUE_VARIABLES[consumer]
        if not self.env.get(variable):
            self.missing.append(variable)


def check(kind: type[Dependencies], env: Mapping[str, str] | None = None) -> None:
    """Raise MissingConfiguration naming every variable ``kind`` needs and ``env`` lacks."""
    env = os.environ if env is None else env
    probe = _Check(env)
    kind.from_adapters(probe)
    gateway = env.get("PAYMENT_GATEWAY", "simulated")
    if "gateway" in kind.__dataclass_fields__ and gateway not in PAYMENT_GATEWAYS:  # type: ignore[attr-defined]
        raise ValueError(f"unknown PAYMENT_GATEWAY {gateway!r}; known: simulated")
    if probe.missing:
        raise MissingConfiguration(kind.__name__, tuple(dict.fromkeys(probe.missing)))


class Wired(Generic[D]):
    """A function's dependencies: checked at init (``wire``), built at first ``get`` from
    the current source, built again after ``use`` hands in another."""

    def __init__(self, kind: type[D]) -> None:
        self.kind = kind
        self._built: tuple[object, D] | None = None
        """(the source they were built from, the dependencies)"""

    def checked(self) -> Self:
        """Raise MissingConfiguration now when the environment lacks a variable they need
        (unless a source was handed in with ``use``)."""
        if _source is None:
            check(self.kind)
        return self

    def get(self) -> D:
        source = _current_source()
        built = self._built
        if built is not None and built[0] is source:
            return built[1]
        dependencies = self.kind.from_adapters(source)
        self._built = (source, dependencies)
        return dependencies


def wire(kind: type[D]) -> Wired[D]:
    """Declare a function's dependencies at init; raises MissingConfiguration there when
    the environment lacks a variable they need (unless a source was handed in)."""
    return Wired(kind).checked()


def _current_source() -> Any:
    global _environment
    source = _source
    if source is not None:
        return source
    with _lock:
        if _environment is None:
            _environment = EnvironmentAdapters(os.environ)
        return _environment


def ports() -> Ports:
    """Every adapter as one set: the one handed in, or the environment's (built now). For
    the local runtime and the tests, which run every function in one process."""
    from order_saga.service_layer.ports import Ports

    source = _current_source()
    return source if isinstance(source, Ports) else source.configured()


def use(ports: Ports | None) -> None:
    """Hand in the adapters every function takes its own from (None: the environment's,
    built again)."""
    global _source, _environment
    with _lock:
        _source = ports
        _environment = None


def from_environment(env: Mapping[str, str]) -> Ports:
    """Every adapter ``env`` configures, as one set."""
    return EnvironmentAdapters(env).configured()


def payment_gateway(name: str) -> PaymentGateway:
    if name == "simulated":
        return SimulatedPaymentGateway()
    raise ValueError(f"unknown PAYMENT_GATEWAY {name!r}; known: simulated")
