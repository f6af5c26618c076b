"""New ids for orders and reservations."""

from __future__ import annotations

import base64
import hashlib
import uuid

ORDER_ID_PREFIX = "o"


def new_id() -> str:
    return uuid.uuid4().hex


def order_id_for(customer_id: str, idempotency_key: str) -> str:
    """The id of the order a customer places under an Idempotency-Key: the server's, never
    the client's, and the same for every retry. Derived from the customer too, so no other
    customer's request can ever name it (nor learn, from a refusal, that it exists)."""
    digest = hashlib.sha256(f"{customer_id}\0{idempotency_key}".encode()).digest()
    return ORDER_ID_PREFIX + base64.b32encode(digest).decode().rstrip("=").lower()[:26]
