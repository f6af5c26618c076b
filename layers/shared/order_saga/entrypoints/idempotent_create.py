"""POST /orders with an Idempotency-Key: the first answer for (customer, key) is stored
and replayed (Powertools idempotency on the composition root's stores).

Powertools' idempotency is imported where it is used, by a POST with an Idempotency-Key:
its package imports boto3, which the handler's import otherwise leaves to the first
request, and its errors are raised again as the API's own (errors.py).
"""

from __future__ import annotations

from datetime import timedelta
from functools import cache
from typing import TYPE_CHECKING, Any

from order_saga.errors import IdempotencyKeyInProgress, IdempotencyKeyReused

if TYPE_CHECKING:
    from collections.abc import Callable

    from aws_lambda_powertools.utilities.idempotency import (
        BasePersistenceLayer,
        IdempotencyConfig,
    )
    from aws_lambda_powertools.utilities.typing import LambdaContext

IDEMPOTENCY_PREFIX = "api-create"
IDEMPOTENCY_TTL = timedelta(hours=24)


@cache
def _idempotency_config() -> IdempotencyConfig:
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig

    return IdempotencyConfig(
        event_key_jmespath="[customer_id, key]",
        payload_validation_jmespath="body",
        raise_on_no_idempotency_key=True,
        expires_after_seconds=int(IDEMPOTENCY_TTL.total_seconds()),
    )


def place_once(
    *,
    attempt: dict[str, Any],
    place: Callable[[dict[str, Any]], dict[str, Any]],
    store: BasePersistenceLayer,
    context: LambdaContext,
) -> dict[str, Any]:
    """``place(attempt)`` once per (customer, key); Powertools refuses the same key with
    another body (IdempotencyValidationError) and deletes the record when placing fails,
    so a refused order can be sent again under its key."""
    from aws_lambda_powertools.utilities.idempotency import idempotent_function
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyValidationError,
    )

    config = _idempotency_config()
    config.register_lambda_context(context)
    once = idempotent_function(
        data_keyword_argument="attempt",
        persistence_store=store,
        config=config,
        key_prefix=IDEMPOTENCY_PREFIX,
    )(place)
    try:
        result: dict[str, Any] = once(attempt=attempt)
    except IdempotencyValidationError as error:
        raise IdempotencyKeyReused(
            "this Idempotency-Key was used with another body; use a new key for a new order"
        ) from error
    except IdempotencyAlreadyInProgressError as error:
        raise IdempotencyKeyInProgress(
            "a request with this Idempotency-Key is still running"
        ) from error
    return result
