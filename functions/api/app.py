"""The order API's Lambda entrypoint; the routes live in order_saga.entrypoints.api."""

from order_saga.entrypoints.api import handler

__all__ = ["handler"]
