"""The reconciler as a Lambda handler, invoked by EventBridge Scheduler (its event is not
read: every run looks at the same window, relative to its own clock)."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit

from order_saga import bootstrap
from order_saga.observability import logger, metrics, tracer
from order_saga.service_layer import saga_start

if TYPE_CHECKING:
    from collections.abc import Callable

    from aws_lambda_powertools.utilities.typing import LambdaContext


def reconciler_handler() -> Callable[[dict[str, Any], LambdaContext], dict[str, Any]]:
    @logger.inject_lambda_context(clear_state=True)
    @tracer.capture_lambda_handler(capture_response=False)
    @metrics.log_metrics
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        result = run_reconciler()
        return {
            "examined": result.examined,
            "started": result.started,
            "redriven": result.redriven,
            "running": len(result.running),
            "given_up": result.given_up,
        }

    return handler


def run_reconciler() -> saga_start.Reconciliation:
    """One run with the wired adapters and settings, its metrics and its log line."""
    wiring = bootstrap.reconciler()
    result = saga_start.reconcile(**wiring)
    metrics.add_metric(
        name="SagasStartedByReconciler", unit=MetricUnit.Count, value=len(result.started)
    )
    metrics.add_metric(
        name="SagasRedrivenByReconciler", unit=MetricUnit.Count, value=len(result.redriven)
    )
    log = logger.warning if result.started or result.redriven or result.given_up else logger.info
    log("reconciled", extra=asdict(result))
    return result
