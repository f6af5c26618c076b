"""Faults the Lambda service can put around an unchanged handler, and the errors Lambda
itself raises (their ``error_type`` is the errorType a caller sees, as on AWS).

``Functions.inject(function, Fault...)`` queues one (local_runtime/emulator/lambda_service.py).
"""

from __future__ import annotations

import sys
import threading
from dataclasses import dataclass
from typing import Any

FOREVER = sys.maxsize


@dataclass
class Fault:
    """What the Lambda service does to the next ``times`` invocations of a function,
    around the unchanged handler. Build one with the class methods; ``order_id`` aims it
    at one order's invocations only (payload["order_id"]), so faults for many orders
    running at once can be queued side by side."""

    error: Exception | None = None
    times: int = 1
    after_handler: bool = False
    """Raise ``error`` after the handler ran (its writes landed), not before it."""
    hang_seconds: float = 0.0
    """Sleep this long (deployed seconds, time-scaled) before anything else; past the
    function's Timeout the invocation fails as Lambda's does (Sandbox.Timedout)."""
    duplicate: bool = False
    """Deliver the invocation twice: run the handler, then again, answer the second."""
    exit_at_start: bool = False
    """The process dies as the handler calls StartExecution: what it wrote before stays
    written, the execution is never started, the caller gets Runtime.ExitError."""
    order_id: str | None = None
    """Only invocations for this order (None: the next invocations, whatever the order)."""
    label: str = ""
    """What Functions.fired counts it as (its kind when empty)."""

    @classmethod
    def transient(cls, error: Exception, times: int = 1, *, order_id: str | None = None) -> Fault:
        """Fail ``times`` invocations with ``error`` before the handler runs."""
        return cls(error=error, times=times, order_id=order_id)

    @classmethod
    def permanent(cls, error: Exception, *, order_id: str | None = None) -> Fault:
        """Fail every invocation from now on."""
        return cls(error=error, times=FOREVER, order_id=order_id)

    @classmethod
    def crash_after_write(
        cls, error: Exception, times: int = 1, *, order_id: str | None = None
    ) -> Fault:
        """Run the handler, then fail: the work is done but the caller never hears."""
        return cls(error=error, times=times, after_handler=True, order_id=order_id)

    @classmethod
    def hang(cls, seconds: float, times: int = 1, *, order_id: str | None = None) -> Fault:
        """Take ``seconds`` before answering (longer than the Timeout: time out)."""
        return cls(hang_seconds=seconds, times=times, order_id=order_id)

    @classmethod
    def twice(cls, times: int = 1, *, order_id: str | None = None) -> Fault:
        """At-least-once delivery: the same input handled twice."""
        return cls(duplicate=True, times=times, order_id=order_id)

    @classmethod
    def exit_before_start(cls, times: int = 1) -> Fault:
        """The process dies between its write and its StartExecution (a timeout, out of
        memory): the API's order is recorded and its saga never started by it."""
        return cls(exit_at_start=True, times=times)

    @classmethod
    def throttled(cls, times: int = 1, *, order_id: str | None = None) -> Fault:
        """Lambda refuses the invocation for lack of concurrency: the handler never runs,
        and the state machine sees Lambda.TooManyRequestsException, as on AWS."""
        return cls(error=Throttled("Rate Exceeded."), times=times, order_id=order_id)

    @property
    def kind(self) -> str:
        if self.hang_seconds:
            return "hang"
        if self.duplicate:
            return "twice"
        if self.exit_at_start:
            return "exit_before_start"
        if isinstance(self.error, Throttled):
            return "throttled"
        return "after_write" if self.after_handler else "error"

    def aims_at(self, payload: Any) -> bool:
        if self.order_id is None:
            return True
        return isinstance(payload, dict) and payload.get("order_id") == self.order_id


class Throttled(Exception):
    """Lambda had no concurrency left for the invocation (HTTP 429 from Invoke); Step
    Functions reports it as Lambda.TooManyRequestsException."""

    error_type = "TooManyRequestsException"
    reason = "ConcurrentInvocationLimitExceeded"


class ProcessExited(Exception):
    """The function's process died mid-invocation (out of memory, a segfault)."""

    error_type = "Runtime.ExitError"


class FunctionTimedOut(Exception):
    """Lambda stopped the function at its Timeout."""

    error_type = "Sandbox.Timedout"


class ProcessExit(BaseException):
    """Raised inside a handler where its process dies: a BaseException, so that no
    ``except Exception`` of the handler's can carry on as if it lived."""


_dying = threading.local()


def dies_at_start(value: bool | None = None) -> bool:
    """Whether the current invocation's process dies at its StartExecution (set by the
    Lambda service for a Fault.exit_before_start, read by patches/start_rate.py)."""
    if value is not None:
        _dying.value = value
    return bool(getattr(_dying, "value", False))


def invoking(function: str | None = None) -> str | None:
    """The function whose invocation the current thread runs (set by the Lambda service),
    so that patches/start_rate.py can tell who started an execution."""
    if function is not None:
        _dying.function = function or None
    return getattr(_dying, "function", None)
