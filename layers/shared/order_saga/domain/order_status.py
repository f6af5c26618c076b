"""The order's status machine: its statuses and the moves between them."""

from __future__ import annotations

from enum import StrEnum


class OrderStatus(StrEnum):
    PENDING = "PENDING"
    PAYMENT_PROCESSING = "PAYMENT_PROCESSING"
    PAYMENT_COMPLETED = "PAYMENT_COMPLETED"
    INVENTORY_RESERVED = "INVENTORY_RESERVED"
    CONFIRMED = "CONFIRMED"
    SHIPPED = "SHIPPED"
    CANCELLED = "CANCELLED"


S = OrderStatus
TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.PENDING: frozenset({S.PAYMENT_PROCESSING, S.CANCELLED}),
    S.PAYMENT_PROCESSING: frozenset({S.PAYMENT_COMPLETED, S.CANCELLED}),
    S.PAYMENT_COMPLETED: frozenset({S.INVENTORY_RESERVED, S.CANCELLED}),
    S.INVENTORY_RESERVED: frozenset({S.CONFIRMED, S.CANCELLED}),
    S.CONFIRMED: frozenset({S.SHIPPED}),
    S.SHIPPED: frozenset(),
    S.CANCELLED: frozenset(),
}
TERMINAL = frozenset({S.CONFIRMED, S.SHIPPED, S.CANCELLED})
FINISHED = frozenset({S.CONFIRMED, S.SHIPPED})
"""Terminal and kept: there is nothing left to compensate."""
MAX_ITEMS = 100
