"""The local runtime's time scale: shorter waits on purpose, the ASL left unchanged.

moto's interpreter sleeps for real between Retry attempts and waits for real on a
task's TimeoutSeconds, with the production values of the ASL. ``set_time_scale(0.1)``
makes each of those waits a tenth as long, so fault tests that retry and time out
stay fast. Integer-only fields (IntervalSeconds, TimeoutSeconds) rule out scaling the
definition itself, so the scale is applied where the interpreter waits.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.parser.asl.component.common.timeouts import timeout

_lock = threading.Lock()
_scale = 1.0
_installed = False
_real_sleep = time.sleep
_original_timeout_body = timeout.Timeout._eval_body


class _ScaledTime:
    """Stands in for the time module inside moto's retrier: only sleep is scaled."""

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)

    @staticmethod
    def sleep(seconds: float) -> None:
        _real_sleep(seconds * _scale)


def _scaled_timeout_body(self: Any, env: Any) -> None:
    _original_timeout_body(self, env)
    env.stack.append(env.stack.pop() * _scale)


def set_time_scale(scale: float) -> None:
    """Scale every Retry wait and task timeout of the interpreter (1.0: as written)."""
    global _scale, _installed
    if scale <= 0:
        raise ValueError("the time scale must be positive")
    with _lock:
        _scale = scale
        if not _installed:
            retrier_decl.time = _ScaledTime()  # type: ignore[assignment]
            timeout.Timeout._eval_body = _scaled_timeout_body  # type: ignore[method-assign]
            _installed = True


def time_scale() -> float:
    return _scale


def scaled(seconds: float) -> float:
    """A duration of the deployed system as the local runtime plays it."""
    return seconds * _scale
