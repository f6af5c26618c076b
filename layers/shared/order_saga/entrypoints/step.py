"""A saga step as a Lambda handler: parse the command, run the use case, return JSON.

Errors are left to propagate: Lambda reports them by class name, which is what the
state machine's Retry and Catch match on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from aws_lambda_powertools.metrics import MetricUnit
from pydantic import BaseModel, ValidationError

from order_saga import bootstrap
from order_saga.errors import InvalidRequest
from order_saga.observability import logger, metrics, tracer

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from aws_lambda_powertools.utilities.typing import LambdaContext

    from order_saga.service_layer.ports import Ports

C = TypeVar("C", bound=BaseModel)


def parse(model: type[C], payload: object) -> C:
    """Validate an input; a bad one raises InvalidRequest naming each field and why."""
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        raise InvalidRequest(describe(exc)) from None


def describe(exc: ValidationError) -> str:
    problems = [
        f"{'.'.join(str(part) for part in error['loc']) or 'input'}: {error['msg']}"
        for error in exc.errors(include_url=False)
    ]
    return "invalid input: " + "; ".join(problems)


def step_handler(
    command: type[C],
    use_case: Callable[[C, Ports], BaseModel],
    *,
    success_metric: str | None = None,
    failure_metrics: Mapping[type[Exception], str] | None = None,
) -> Callable[[dict[str, Any], LambdaContext], dict[str, Any]]:
    """``success_metric`` is counted when the step succeeds, ``failure_metrics`` by the
    business error it raised."""
    failures = dict(failure_metrics or {})

    @logger.inject_lambda_context(correlation_id_path="order_id", clear_state=True)
    @tracer.capture_lambda_handler(capture_response=False)
    @metrics.log_metrics
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        try:
            result = use_case(parse(command, event), bootstrap.ports())
        except tuple(failures) as failure:
            metrics.add_metric(name=failures[type(failure)], unit=MetricUnit.Count, value=1)
            logger.info("step refused", extra={"step": use_case.__name__, "error": repr(failure)})
            raise
        if success_metric:
            metrics.add_metric(name=success_metric, unit=MetricUnit.Count, value=1)
        logger.info("step done", extra={"step": use_case.__name__})
        return result.model_dump(mode="json")

    handler.__name__ = use_case.__name__
    handler.__doc__ = use_case.__doc__
    return handler
