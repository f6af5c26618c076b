"""The order API's Lambda entrypoint; the routes live in order_saga.entrypoints.api."""

from order_saga.entrypoints.api import DEPENDENCIES, handler

# the event store, the catalog, Idempotency-Key records, the state machine (fast start)
DEPENDENCIES.checked()

__all__ = ["handler"]
