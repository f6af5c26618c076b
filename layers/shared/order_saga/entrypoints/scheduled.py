"""The reconciler as a Lambda handler, invoked by EventBridge Scheduler. The schedule's
input may carry ``after_seconds``, the age past which an order without its saga is acted
on (default RECONCILE_AFTER_SECONDS, 120)."""

from __future__ import annotations

import os
from dataclasses import asdict
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit

from order_saga.errors import InvalidRequest
from order_saga.observability import logger, metrics, tracer
from order_saga.service_layer import saga_start

if TYPE_CHECKING:
    from collections.abc import Callable

    from aws_lambda_powertools.utilities.typing import LambdaContext

    from order_saga.bootstrap import Wired
    from order_saga.service_layer.dependencies import ReconcilerDependencies

DEFAULT_AFTER_SECONDS = 120


def reconciler_handler(
    dependencies: Wired[ReconcilerDependencies],
) -> Callable[[dict[str, Any], LambdaContext], dict[str, Any]]:
    @logger.inject_lambda_context(clear_state=True)
    @tracer.capture_lambda_handler(capture_response=False)
    @metrics.log_metrics
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        result = saga_start.reconcile(dependencies.get(), _after(event))
        metrics.add_metric(
            name="SagasStartedByReconciler", unit=MetricUnit.Count, value=len(result.started)
        )
        metrics.add_metric(
            name="SagasRedrivenByReconciler", unit=MetricUnit.Count, value=len(result.redriven)
        )
        acted = result.started or result.redriven or result.given_up
        # Acting is what the SagasReconciledAlarm watches; the log line says on which orders.
        (logger.warning if acted else logger.info)("reconciled", extra=asdict(result))
        return {
            "examined": result.examined,
            "started": result.started,
            "redriven": result.redriven,
            "running": len(result.running),
            "given_up": result.given_up,
        }

    return handler


def _after(event: Any) -> timedelta:
    default = os.environ.get("RECONCILE_AFTER_SECONDS", str(DEFAULT_AFTER_SECONDS))
    raw = event.get("after_seconds", default) if isinstance(event, dict) else default
    try:
        seconds = float(raw)
    except (TypeError, ValueError):
        raise InvalidRequest(f"after_seconds must be a number of seconds, not {raw!r}") from None
    if not 0 <= seconds <= 86400:
        raise InvalidRequest(f"after_seconds must be between 0 and 86400, not {seconds}")
    return timedelta(seconds=seconds)
