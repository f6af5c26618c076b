"""A product's stock counter opened from its stream: the lazy migration of stock kept the
way it was before the counters (reservations on the product's stream).

The first reservation, release or restock that finds a product with a stream and no
counter opens it: the stock is replayed from the stream (snapshot and all, as it always
was), StockCounterOpened appended at the next version, and the counter put with what the
stream said was available, in one write. Orders that held units by the stream keep them
(the counter opened without them) and give them back through the counter when released.
The appended event fences any writer still working the old way: its append at that
version fails, and it reloads a stream that takes no more reservations.
"""

from __future__ import annotations

from contextlib import suppress
from typing import TYPE_CHECKING

from order_saga.errors import ConcurrencyError
from order_saga.service_layer.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from collections.abc import Iterable

    from order_saga.adapters.event_store import EventStore


def open_counters(store: EventStore, product_ids: Iterable[str]) -> list[str]:
    """Open the counter of each product that has a stream and none yet; the products
    whose counter is open afterwards (a product never stocked has none)."""
    opened = []
    for product_id in sorted(set(product_ids)):
        with UnitOfWork(store, product_id) as uow:
            stock = uow.stock(product_id)
            if stock.version == 0:
                continue
            if not stock.counter_opened:
                event = stock.open_counter()
                uow.open_counter(product_id, event.available)
                # Another writer opened it, or moved the stream: either way, try the
                # reservation again (a moved stream without a counter is opened then).
                with suppress(ConcurrencyError):
                    uow.commit()
            opened.append(product_id)
    return opened
