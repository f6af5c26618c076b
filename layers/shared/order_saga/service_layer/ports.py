"""Every adapter at once, for a process that runs every function: the local runtime and
the tests hand one to the composition root (``bootstrap.use``), and each function takes
its own dependencies from it (service_layer/dependencies.py). A deployed function never
builds one: it is configured for, and builds, only what it uses."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

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


@dataclass(frozen=True)
class Ports:
    store: EventStore
    catalog: Catalog
    gateway: PaymentGateway
    saga: SagaLauncher | None = None
    new_id: Callable[[], str] = field(default=new_id)
    clock: Callable[[], datetime] = field(default=utc_now)
    saga_timeout: timedelta = timedelta(minutes=15)
    """An order not confirmed this long after its saga started is compensated."""
    idempotency: IdempotencyStores | None = None
    """Powertools idempotency persistence, one layer per key prefix (the API's
    Idempotency-Key, the stream consumers)."""
    # The event store stream's consumers: each function wires only what it uses.
    notifier: Notifier | None = None
    publisher: EventPublisher | None = None
    failure_queues: Mapping[str, FailureQueue] = field(default_factory=dict)
    """Consumer name -> its queue for records it can never process."""
    read_model: ReadModel | None = None
    """The order summaries of GET /orders, kept by the views consumer."""
    # The saga's start: the relay and the reconciler.
    recent_orders: RecentOrders | None = None
    express: bool = False
    """Whether the saga is an EXPRESS workflow (Step Functions keeps no record of those)."""
    reconcile_lookback: timedelta = timedelta(hours=48)

    @property
    def launcher(self) -> SagaLauncher | None:
        return self.saga
