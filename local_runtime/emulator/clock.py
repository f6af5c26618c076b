"""The local runtime's time scale: shorter waits on purpose, the ASL left unchanged.

``set_time_scale(0.1)`` makes each Retry wait and task timeout of the interpreter a tenth
as long (applied where moto's interpreter waits: local_runtime/patches/hooks.py), and so
the functions' timeouts in the Lambda service, so fault tests that retry and time out stay
fast. 1.0 plays them as deployed.
"""

from __future__ import annotations

import threading

_lock = threading.Lock()
_scale = 1.0


def set_time_scale(scale: float) -> None:
    """Scale every Retry wait and task timeout of the interpreter (1.0: as written)."""
    global _scale
    if scale <= 0:
        raise ValueError("the time scale must be positive")
    with _lock:
        _scale = scale


def time_scale() -> float:
    return _scale


def scaled(seconds: float) -> float:
    """A duration of the deployed system as the local runtime plays it."""
    return seconds * _scale
