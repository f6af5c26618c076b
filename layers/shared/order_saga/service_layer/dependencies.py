"""What each function uses from the outside world: one frozen set of dependencies per
function, built by the composition root (bootstrap.py) and handed to its use cases.

Each ``from_adapters`` picks its own from a source of adapters (the environment's, built
lazily, or the one set the local runtime and the tests hand in), so a function never
holds, builds or is configured for what it does not use.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Self

from order_saga.adapters.clock import utc_now
from order_saga.service_layer.ids import new_id

if TYPE_CHECKING:
    from collections.abc import Callable
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


@dataclass(frozen=True, kw_only=True)
class StepDependencies:
    """A saga step of the Order function: confirm, cancel, record a compensation failure."""

    store: EventStore
    clock: Callable[[], datetime] = utc_now
    saga_timeout: timedelta = SAGA_TIMEOUT
    """An order not confirmed this long after its saga started is compensated."""

    @classmethod
    def from_adapters(cls, source: Any) -> Self:
        return cls(store=source.store, clock=source.clock, saga_timeout=source.saga_timeout)


@dataclass(frozen=True, kw_only=True)
class PaymentDependencies(StepDependencies):
    """The Payment function's steps: charge, refund."""

    gateway: PaymentGateway

    @classmethod
    def from_adapters(cls, source: Any) -> Self:
        return cls(
            store=source.store,
            clock=source.clock,
            saga_timeout=source.saga_timeout,
            gateway=source.gateway,
        )


@dataclass(frozen=True, kw_only=True)
class InventoryDependencies(StepDependencies):
    """The Inventory function's steps: reserve, release."""

    new_id: Callable[[], str] = new_id

    @classmethod
    def from_adapters(cls, source: Any) -> Self:
        return cls(
            store=source.store,
            clock=source.clock,
            saga_timeout=source.saga_timeout,
            new_id=source.new_id,
        )


@dataclass(frozen=True, kw_only=True)
class ApiDependencies:
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

    @classmethod
    def from_adapters(cls, source: Any) -> Self:
        return cls(
            store=source.store,
            catalog=source.catalog,
            idempotency=source.idempotency,
            read_model=source.read_model,
            saga=source.saga,
            new_id=source.new_id,
            clock=source.clock,
        )


@dataclass(frozen=True, kw_only=True)
class ConsumerDependencies:
    """What every consumer of the event store's stream needs: its idempotency records and
    its failure queue (for records it can never process)."""

    idempotency: IdempotencyStores
    failure_queue: FailureQueue

    CONSUMER = ""
    """Names the consumer's failure queue (bootstrap.FAILURE_QUEUE_VARIABLES)."""


@dataclass(frozen=True, kw_only=True)
class NotificationsDependencies(ConsumerDependencies):
    store: EventStore
    notifier: Notifier

    CONSUMER = "notifications"

    @classmethod
    def from_adapters(cls, source: Any) -> Self:
        return cls(
            idempotency=source.idempotency,
            failure_queue=source.failure_queues[cls.CONSUMER],
            store=source.store,
            notifier=source.notifier,
        )


@dataclass(frozen=True, kw_only=True)
class PublisherDependencies(ConsumerDependencies):
    publisher: EventPublisher

    CONSUMER = "publisher"

    @classmethod
    def from_adapters(cls, source: Any) -> Self:
        return cls(
            idempotency=source.idempotency,
            failure_queue=source.failure_queues[cls.CONSUMER],
            publisher=source.publisher,
        )


@dataclass(frozen=True, kw_only=True)
class ViewsDependencies(ConsumerDependencies):
    """The read model's consumer: the summaries, and the store to rebuild one past a gap."""

    store: EventStore
    read_model: ReadModel

    CONSUMER = "views"

    @classmethod
    def from_adapters(cls, source: Any) -> Self:
        return cls(
            idempotency=source.idempotency,
            failure_queue=source.failure_queues[cls.CONSUMER],
            store=source.store,
            read_model=source.read_model,
        )


@dataclass(frozen=True, kw_only=True)
class SagaStarterDependencies(ConsumerDependencies):
    """The relay: starts each new order's saga from the event store's stream."""

    saga: SagaLauncher

    CONSUMER = "saga_starter"

    @classmethod
    def from_adapters(cls, source: Any) -> Self:
        return cls(
            idempotency=source.idempotency,
            failure_queue=source.failure_queues[cls.CONSUMER],
            saga=source.launcher,
        )


@dataclass(frozen=True, kw_only=True)
class ReconcilerDependencies:
    """The reconciler: the recent orders (an index), their streams, their executions."""

    store: EventStore
    orders: RecentOrders
    saga: SagaLauncher
    clock: Callable[[], datetime] = utc_now
    lookback: timedelta = timedelta(hours=48)
    express: bool = False

    @classmethod
    def from_adapters(cls, source: Any) -> Self:
        return cls(
            store=source.store,
            orders=source.recent_orders,
            saga=source.launcher,
            clock=source.clock,
            lookback=source.reconcile_lookback,
            express=source.express,
        )
