"""Which named error answers with which HTTP status (the first class that matches)."""

from __future__ import annotations

from order_saga.errors import (
    DomainError,
    Forbidden,
    IdempotencyKeyInProgress,
    IdempotencyKeyReused,
    InvalidRequest,
    MalformedJson,
    OrderAlreadyExists,
    OrderNotFound,
    PayloadTooLarge,
    PriceMismatch,
    ProductNotFound,
    TransientError,
    Unauthenticated,
    UnknownProduct,
    UnsupportedMediaType,
)

STATUS_BY_ERROR: tuple[tuple[type[Exception], int], ...] = (
    (MalformedJson, 400),
    (Unauthenticated, 401),
    (Forbidden, 403),
    (OrderNotFound, 404),
    (ProductNotFound, 404),
    (OrderAlreadyExists, 409),
    (PriceMismatch, 409),
    (IdempotencyKeyInProgress, 409),
    (PayloadTooLarge, 413),
    (UnsupportedMediaType, 415),
    (UnknownProduct, 422),
    (IdempotencyKeyReused, 422),
    (InvalidRequest, 422),
    (DomainError, 409),
    (TransientError, 503),
)


def status_for(error: Exception) -> int:
    for cls, status in STATUS_BY_ERROR:
        if isinstance(error, cls):
            return status
    return 500
