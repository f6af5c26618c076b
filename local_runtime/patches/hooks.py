"""Hooks: what the local runtime adds to moto's interpreter on purpose. Neither fixes a
wrong answer nor saves time; each gives the runtime a handle AWS has no need for.

1. The time scale. moto's interpreter sleeps for real between Retry attempts and waits
   for real on a task's TimeoutSeconds, with the production values of the ASL.
   Integer-only fields (IntervalSeconds, TimeoutSeconds) rule out scaling the
   definition itself, so the scale (local_runtime.emulator.clock) is applied where the
   interpreter waits: the retrier's sleep, and the timeout a task state evaluates.
2. An execution says when it ends. ``finished(arn)`` is an Event set when the
   interpreter has recorded an execution's end, so LocalRuntime.wait sleeps until then
   instead of polling DescribeExecution (each poll a request through moto).
"""

from __future__ import annotations

import threading
import time
from typing import Any

from local_runtime.emulator.clock import time_scale
from local_runtime.patches.patching import patch

_lock = threading.Lock()
_finished: dict[str, threading.Event] = {}
_real_sleep = time.sleep


def apply() -> None:
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
    from moto.stepfunctions.parser.asl.component.common.timeouts import timeout
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    if not isinstance(retrier_decl.time, _ScaledTime):
        retrier_decl.time = _ScaledTime()  # type: ignore[assignment]
    patch(timeout.Timeout, "_eval_body", _scaled_timeout)
    patch(ExecutionWorker, "_execution_logic", _announcing_the_end)
    forget_executions()


def forget_executions() -> None:
    """Drop the end signals of executions of an earlier mock."""
    with _lock:
        _finished.clear()


class _ScaledTime:
    """Stands in for the time module inside moto's retrier: only sleep is scaled."""

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)

    @staticmethod
    def sleep(seconds: float) -> None:
        _real_sleep(seconds * time_scale())


def _scaled_timeout(original: Any) -> Any:
    def _eval_body(self: Any, env: Any) -> None:
        original(self, env)
        env.stack.append(env.stack.pop() * time_scale())

    return _eval_body


def finished(execution_arn: str) -> threading.Event:
    """Set once the execution has ended (whether it ended before or after the call)."""
    with _lock:
        return _finished.setdefault(execution_arn, threading.Event())


def _announcing_the_end(original: Any) -> Any:
    def _execution_logic(self: Any) -> None:
        try:
            original(self)
        finally:
            finished(self._evaluation_details.execution_details.arn).set()

    return _execution_logic
