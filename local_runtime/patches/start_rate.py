"""StartExecution's rate quota, as Step Functions applies it (moto has none).

Step Functions meters StartExecution with a token bucket per account and region: a burst
of 1,300 and a refill of 300 a second in the largest regions (800 and 150 elsewhere),
and answers a call past it with 400 ``ThrottlingException`` "Rate exceeded", which the
SDK retries with backoff. The local runtime plays the largest regions' bucket by default;
``configure`` sets another (the reliability run's burst fault uses a small one), and
``throttled()`` counts the calls it refused. A caller whose invocation carries
``Fault.exit_before_start`` dies here, before the call reaches Step Functions.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from moto.core.exceptions import AWSError

from local_runtime.emulator.faults import ProcessExit, dies_at_start, invoking
from local_runtime.patches.patching import patch

BURST = 1300
REFILL_PER_SECOND = 300.0


class ThrottlingException(AWSError):
    TYPE = "ThrottlingException"
    STATUS = 400


@dataclass
class _Bucket:
    capacity: float = BURST
    refill: float = REFILL_PER_SECOND
    tokens: float = BURST
    at: float = 0.0
    refused: int = 0

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.at) * self.refill)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        self.refused += 1
        return False


_lock = threading.Lock()
_bucket = _Bucket(at=time.monotonic())
_starters: dict[str, str] = {}


def configure(burst: float = BURST, refill_per_second: float = REFILL_PER_SECOND) -> None:
    """A full bucket of ``burst`` tokens refilled at ``refill_per_second``."""
    global _bucket
    with _lock:
        _bucket = _Bucket(burst, refill_per_second, burst, time.monotonic())


def starters() -> dict[str, str]:
    """Execution name -> the function whose invocation first started it (StartExecution
    answered; for a STANDARD name started twice, the first)."""
    with _lock:
        return dict(_starters)


def throttled() -> int:
    """StartExecution calls refused since the bucket was last configured."""
    with _lock:
        return _bucket.refused


def apply() -> None:
    # On the API's side (the request), not the backend's: express.py replaces the backend's
    # start_execution, and a throttled call must reach neither.
    from moto.stepfunctions.responses import StepFunctionResponse

    patch(StepFunctionResponse, "start_execution", _metered)


def _metered(original: Any) -> Any:
    def start_execution(self: Any) -> Any:
        if dies_at_start():  # Fault.exit_before_start: the caller's process ends here
            raise ProcessExit("the process exited before StartExecution")
        with _lock:
            allowed = _bucket.take()
        if not allowed:
            raise ThrottlingException("Rate exceeded")
        answer = original(self)
        name = self._get_param("name")
        with _lock:
            _starters.setdefault(name, invoking() or "caller")
        return answer

    return start_execution
