"""The saga's time limit, checked by every step on the way to confirmation."""

from __future__ import annotations

from typing import TYPE_CHECKING

from order_saga.errors import SagaTimedOut

if TYPE_CHECKING:
    from order_saga.domain.commands import ForwardCommand
    from order_saga.service_layer.dependencies import StepDependencies

TIMEOUT_REASON = "timeout"
"""The cancellation reason recorded for an order whose saga ran out of time."""


def check_deadline(command: ForwardCommand, deps: StepDependencies) -> None:
    """Raise SagaTimedOut once the saga has run longer than ``deps.saga_timeout``:
    the state machine then compensates, whichever step the order was stuck in."""
    if command.saga_started_at is None:
        return
    elapsed = deps.clock() - command.saga_started_at
    if elapsed > deps.saga_timeout:
        raise SagaTimedOut(
            f"order {command.order_id} not confirmed within {deps.saga_timeout} "
            f"(saga running for {elapsed})"
        )
