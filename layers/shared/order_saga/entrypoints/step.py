"""A saga step as a Lambda handler: parse the command, run the use case, return JSON.

Errors are left to propagate: Lambda reports them by class name, which is what the
state machine's Retry and Catch match on.

A step delivered twice simply runs twice: every use case decides from the order's
events (a charge recorded, a reservation held, a status reached), answers a repeat with
what was done, and appends only under optimistic concurrency; money moves under the
gateway's idempotency keys. So no step keeps an idempotency record of its own: the
duplicate-delivery, lost-answer and fault tests and ``make reliability`` hold without
them, and each saga spares six idempotency-table requests.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from aws_lambda_powertools.metrics import MetricUnit
from pydantic import BaseModel

from order_saga.entrypoints.parsing import parse
from order_saga.observability import logger, metrics, tracer

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from aws_lambda_powertools.utilities.typing import LambdaContext

    from order_saga.bootstrap import Wired

C = TypeVar("C", bound=BaseModel)
D = TypeVar("D")


def step_handler(
    command: type[C],
    use_case: Callable[[C, D], BaseModel],
    dependencies: Wired[D],
    *,
    success_metric: str | None = None,
    failure_metrics: Mapping[type[Exception], str] | None = None,
) -> Callable[[dict[str, Any], LambdaContext], dict[str, Any]]:
    """``success_metric`` is counted when the step succeeds, ``failure_metrics`` by the
    business error it raised, and OrderDuration when the step made the order final
    (a repeated delivery changes nothing, so it counts nothing)."""
    failures = dict(failure_metrics or {})
    step = use_case.__name__

    def run(parsed: C, wired: D) -> dict[str, Any]:
        try:
            result = use_case(parsed, wired)
        except tuple(failures) as failure:
            metrics.add_metric(name=failures[type(failure)], unit=MetricUnit.Count, value=1)
            logger.info("step refused", extra={"step": step, "error": repr(failure)})
            raise
        if success_metric and getattr(result, "changed", True):
            metrics.add_metric(name=success_metric, unit=MetricUnit.Count, value=1)
        duration = getattr(result, "duration_ms", None)
        if duration is not None:
            metrics.add_metric(name="OrderDuration", unit=MetricUnit.Milliseconds, value=duration)
        logger.info("step done", extra={"step": step})
        return result.model_dump(mode="json")

    @logger.inject_lambda_context(correlation_id_path="order_id", clear_state=True)
    @tracer.capture_lambda_handler(capture_response=False)
    @metrics.log_metrics
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        return run(parse(command, event), dependencies.get())

    handler.__name__ = step
    handler.__doc__ = use_case.__doc__
    return handler
