"""The adapters a deployed function builds from its environment: which variables each
needs, and each built at its first use and kept (so a function builds only what its
dependencies ask for, at its first request rather than at init)."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from order_saga.adapters.clock import utc_now
from order_saga.adapters.payment_gateway import PaymentGateway, SimulatedPaymentGateway
from order_saga.errors import MissingConfiguration
from order_saga.service_layer.ids import new_id
from order_saga.service_layer.ports import Ports

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

# Consumer name -> the variable holding its failure queue's URL (one variable per consumer:
# the local runtime runs every function in one process, with one environment).
FAILURE_QUEUE_VARIABLES = {
    "notifications": "NOTIFICATIONS_FAILURE_QUEUE_URL",
    "publisher": "PUBLISHER_FAILURE_QUEUE_URL",
    "saga_starter": "SAGA_STARTER_FAILURE_QUEUE_URL",
    "views": "VIEWS_FAILURE_QUEUE_URL",
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
    "recent_orders": lambda env: ("EVENT_STORE_TABLE",),
    "launcher": lambda env: ("STATE_MACHINE_ARN",),
    "read_model": lambda env: ("READ_MODEL_TABLE",),
}
"""Adapter -> the variables it cannot be built without (the others have defaults)."""


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
        self.reconcile_lookback = timedelta(hours=int(env.get("RECONCILE_LOOKBACK_HOURS", "48")))

    @property
    def express(self) -> bool:
        """Whether the saga is an EXPRESS workflow (the template's WorkflowType)."""
        return self.env.get("WORKFLOW_TYPE", "STANDARD") == "EXPRESS"

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
                stock_table=self.env.get("STOCK_TABLE"),
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
            from botocore.config import Config

            from order_saga.adapters.saga_launcher import StepFunctionsSagaLauncher

            # Standard retries (3 attempts, jittered backoff) on ThrottlingException: a
            # start past the account's rate fails fast, and the stream relay retries it.
            client = boto3.client(
                "stepfunctions", config=Config(retries={"mode": "standard", "max_attempts": 3})
            )
            return StepFunctionsSagaLauncher(arn, client)

        return self._once("saga", build)

    @property
    def launcher(self) -> Any:
        """The saga launcher, for the functions that cannot do without one (the relay, the
        reconciler); ``saga`` is the API's optional fast path."""
        self._require("launcher")
        return self.saga

    @property
    def recent_orders(self) -> Any:
        from order_saga.adapters.recent_orders import DynamoDBRecentOrders

        self._require("recent_orders")
        return self._once(
            "recent_orders",
            lambda: DynamoDBRecentOrders(self.env["EVENT_STORE_TABLE"], self.dynamodb),
        )

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
    def read_model(self) -> Any:
        from order_saga.adapters.read_model import DynamoDBReadModel

        self._require("read_model")
        return self._once(
            "read_model",
            lambda: DynamoDBReadModel(self.env["READ_MODEL_TABLE"], self.dynamodb),
        )

    @property
    def failure_queues(self) -> _FailureQueues:
        return _FailureQueues(self)

    def configured(self) -> Ports:
        """Every adapter the environment configures, as one set (for the local runtime,
        which runs every function in one process)."""
        optional = {
            name: getattr(self, name)
            for name in ("idempotency", "notifier", "publisher", "read_model")
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
            recent_orders=self.recent_orders,
            express=self.express,
            reconcile_lookback=self.reconcile_lookback,
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


def payment_gateway(name: str) -> PaymentGateway:
    if name == "simulated":
        return SimulatedPaymentGateway()
    raise ValueError(f"unknown PAYMENT_GATEWAY {name!r}; known: simulated")
