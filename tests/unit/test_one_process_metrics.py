"""Powertools keeps one metric set per process; the local runtime hosts every function in
one process, so two handlers flushing at once must not break each other
(local_runtime/patches/one_process.py)."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import (
    AmazonCloudWatchEMFProvider,
)

from local_runtime.patches import one_process

if TYPE_CHECKING:
    import pytest


def test_a_flush_cleared_by_another_handler_between_its_check_and_its_write_still_emits(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    one_process.apply()
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "OrderSaga")
    api, publisher = Metrics(service="api"), Metrics(service="publisher")
    api.clear_metrics()
    serialise = AmazonCloudWatchEMFProvider.serialize_metric_set
    other_flushed = threading.Event()
    errors: list[BaseException] = []

    def other_handler_flushes() -> None:
        publisher.flush_metrics()  # the same process-wide set: clears what the Api added
        other_flushed.set()

    def serialising_while_another_flushes(self: Any, *args: Any, **kwargs: Any) -> Any:
        # The Api's flush has checked that the set is not empty; the other handler's
        # flush comes now (unguarded, it clears the set before this serialises it).
        if threading.current_thread() is threading.main_thread():
            threading.Thread(target=other_handler_flushes).start()
            other_flushed.wait(timeout=0.5)
        return serialise(self, *args, **kwargs)

    monkeypatch.setattr(
        AmazonCloudWatchEMFProvider, "serialize_metric_set", serialising_while_another_flushes
    )
    api.add_metric(name="OrdersCreated", unit=MetricUnit.Count, value=1)
    try:
        api.flush_metrics(raise_on_empty_metrics=False)
    except Exception as error:  # SchemaValidationError: Must contain at least one metric.
        errors.append(error)
    other_flushed.wait(timeout=5)

    assert errors == []
    emitted = capsys.readouterr().out
    assert emitted.count('"OrdersCreated"') >= 1  # emitted once, by one of the flushes
