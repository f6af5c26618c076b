"""What the use cases need from the outside world, injected by the composition root."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from order_saga.adapters.event_store import utc_now

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from order_saga.adapters.catalog import Catalog
    from order_saga.adapters.event_store import EventStore
    from order_saga.adapters.payment_gateway import PaymentGateway
    from order_saga.adapters.saga_launcher import SagaLauncher


def new_id() -> str:
    return uuid.uuid4().hex


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
    idempotency: Any = None
    """A Powertools idempotency persistence layer; None runs every step as delivered
    (unit tests), and the aggregates still refuse double effects."""
