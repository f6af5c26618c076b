"""What each function uses from the outside world: one frozen set of dependencies per
function, built by the composition root (bootstrap.py) and handed to its use cases.

Each set's ``from_adapters`` (``FromAdapters``) picks its own fields from a source of
adapters (the environment's, built lazily, or the one set the local runtime and the tests
hand in), so a function never holds, builds or is configured for what it does not use.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import timedelta
from typing import TYPE_CHECKING, Any, ClassVar, Self

from order_saga.adapters.clock import utc_now
from order_saga.service_layer.ids import new_id

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from datetime import datetime

    from order_saga.adapters.catalog import Catalog
    from order_saga.adapters.event_publisher import EventPublisher
    from order_saga.adapters.event_store import EventStore
    from order_saga.adapters.failure_queue import FailureQueue
    from order_saga.adapters.idempotency import IdempotencyStores
    from order_saga.adapters.notifier import Notifier
    from order_saga.adapters.payment_gateway import PaymentGateway
    from order_saga.adapters.read_model import ReadModel
    from order_saga.adapters.recent_orders import RecentOrders
    from order_saga.adapters.saga_launcher import SagaLauncher

SAGA_TIMEOUT = timedelta(minutes=15)


class FromAdapters:
    """Built from a source of adapters: each field from the adapter of the same name, or of
    the name ``SOURCES`` gives it."""

    SOURCES: ClassVar[Mapping[str, str]] = {}
    """Field -> the adapter it comes from, where the two names differ."""

    @classmethod
    def from_adapters(cls, source: Any) -> Self:
        return cls(**{f.name: cls._adapter(source, f.name) for f in fields(cls)})  # type: ignore[arg-type]

    @classmethod
    def _adapter(cls, source: Any, name: str) -> Any:
        return getattr(source, cls.SOURCES.get(name, name))


@dataclass(frozen=True, kw_only=True)
class StepDependencies(FromAdapters):
    """A saga step of the Order function: confirm, cancel, record a compensation failure."""

    store: EventStore
    clock: Callable[[], datetime] = utc_now
    saga_timeout: timedelta = SAGA_TIMEOUT
    """An order not confirmed this long after its saga started is compensated."""


@dataclass(frozen=True, kw_only=True)
class PaymentDependencies(StepDependencies):
    """The Payment function's steps: charge, refund."""

    gateway: PaymentGateway


@dataclass(frozen=True, kw_only=True)
class InventoryDependencies(StepDependencies):
    """The Inventory function's steps: reserve, release."""

    new_id: Callable[[], str] = new_id


@dataclass(frozen=True, kw_only=True)
class ApiDependencies(FromAdapters):
    """The order API: orders and their views, the catalog, the saga's fast start, and the
    Idempotency-Key records of POST /orders."""

    store: EventStore
    catalog: Catalog
    idempotency: IdempotencyStores
    read_model: ReadModel
    """GET /orders' order summaries."""
    saga: SagaLauncher | None = None
    """None: the saga starter on the event store's stream starts it (the outbox)."""
    new_id: Callable[[], str] = new_id
    clock: Callable[[], datetime] = utc_now


@dataclass(frozen=True, kw_only=True)
class ConsumerDependencies(FromAdapters):
    """What every consumer of the event store's stream needs: its idempotency records and
    its failure queue (for records it can never process)."""

    idempotency: IdempotencyStores
    failure_queue: FailureQueue

    CONSUMER = ""
    """Names the consumer's failure queue (bootstrap.FAILURE_QUEUE_VARIABLES)."""

    @classmethod
    def _adapter(cls, source: Any, name: str) -> Any:
        if name == "failure_queue":
            return source.failure_queues[cls.CONSUMER]
        return super()._adapter(source, name)


@dataclass(frozen=True, kw_only=True)
class NotificationsDependencies(ConsumerDependencies):
    store: EventStore
    notifier: Notifier

    CONSUMER = "notifications"


@dataclass(frozen=True, kw_only=True)
class PublisherDependencies(ConsumerDependencies):
    publisher: EventPublisher

    CONSUMER = "publisher"


@dataclass(frozen=True, kw_only=True)
class ViewsDependencies(ConsumerDependencies):
    """The read model's consumer: the summaries, and the store to rebuild one past a gap."""

    store: EventStore
    read_model: ReadModel

    CONSUMER = "views"


@dataclass(frozen=True, kw_only=True)
class SagaStarterDependencies(ConsumerDependencies):
    """The relay: starts each new order's saga from the event store's stream."""

    saga: SagaLauncher

    CONSUMER = "saga_starter"
    SOURCES: ClassVar[Mapping[str, str]] = {"saga": "launcher"}
    """The launcher: the saga's, required here (the API's is optional)."""


@dataclass(frozen=True, kw_only=True)
class ReconcilerDependencies(FromAdapters):
    """The reconciler: the recent orders (an index), their streams, their executions."""

    store: EventStore
    orders: RecentOrders
    saga: SagaLauncher
    clock: Callable[[], datetime] = utc_now
    lookback: timedelta = timedelta(hours=48)
    express: bool = False

    SOURCES: ClassVar[Mapping[str, str]] = {
        "orders": "recent_orders",
        "saga": "launcher",
        "lookback": "reconcile_lookback",
    }
