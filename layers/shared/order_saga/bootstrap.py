"""The composition root: the one place that picks adapters and wires them.

Each function declares its dependencies at init, in functions/<name>/app.py:
``DEPENDENCIES = bootstrap.wire(PaymentDependencies)``. ``wire`` checks there and then that
the environment holds every variable they need, and raises MissingConfiguration naming
the missing ones, so a function misconfigured fails its init, not its first request. The
adapters themselves (boto3 clients) are built at the first request (``get``): importing a
handler loads no boto3, which keeps the cold start's init short.

The source of adapters is the environment (configuration.py: each adapter built from
its variables at first use, and kept), or one set handed in with ``use``: the local
runtime and the tests run every function in one process, sharing one set
(service_layer/ports.py).
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Any, Generic, Protocol, Self, TypeVar

from order_saga.configuration import (
    FAILURE_QUEUE_VARIABLES,
    PAYMENT_GATEWAYS,
    VARIABLES,
    EnvironmentAdapters,
)
from order_saga.errors import MissingConfiguration
from order_saga.service_layer.ports import Ports

if TYPE_CHECKING:
    from collections.abc import Mapping


class Dependencies(Protocol):
    @classmethod
    def from_adapters(cls, source: Any) -> Self: ...


D = TypeVar("D", bound=Dependencies)

_lock = threading.Lock()
_source: Ports | None = None
"""The adapters handed in with ``use``; None: the environment's."""
_environment: EnvironmentAdapters | None = None


class _Check:
    """Stands in for the adapters at init: notes every variable a function's dependencies
    need and the environment lacks, and builds nothing."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env
        self.missing: list[str] = []
        self.failure_queues = self

    def __getattr__(self, name: str) -> None:
        if name in VARIABLES:
            self.missing += [v for v in VARIABLES[name](self.env) if not self.env.get(v)]
        return None

    def __getitem__(self, consumer: str) -> None:
        variable = FAILURE_QUEUE_VARIABLES[consumer]
        if not self.env.get(variable):
            self.missing.append(variable)


def check(kind: type[Dependencies], env: Mapping[str, str] | None = None) -> None:
    """Raise MissingConfiguration naming every variable ``kind`` needs and ``env`` lacks."""
    env = os.environ if env is None else env
    probe = _Check(env)
    kind.from_adapters(probe)
    gateway = env.get("PAYMENT_GATEWAY", "simulated")
    if "gateway" in kind.__dataclass_fields__ and gateway not in PAYMENT_GATEWAYS:  # type: ignore[attr-defined]
        raise ValueError(f"unknown PAYMENT_GATEWAY {gateway!r}; known: simulated")
    if probe.missing:
        raise MissingConfiguration(kind.__name__, tuple(dict.fromkeys(probe.missing)))


class Wired(Generic[D]):
    """A function's dependencies: checked at init (``wire``), built at first ``get`` from
    the current source, built again after ``use`` hands in another."""

    def __init__(self, kind: type[D]) -> None:
        self.kind = kind
        self._built: tuple[object, D] | None = None
        """(the source they were built from, the dependencies)"""

    def checked(self) -> Self:
        """Raise MissingConfiguration now when the environment lacks a variable they need
        (unless a source was handed in with ``use``)."""
        if _source is None:
            check(self.kind)
        return self

    def get(self) -> D:
        source = _current_source()
        built = self._built
        if built is not None and built[0] is source:
            return built[1]
        dependencies = self.kind.from_adapters(source)
        self._built = (source, dependencies)
        return dependencies


def wire(kind: type[D]) -> Wired[D]:
    """Declare a function's dependencies at init; raises MissingConfiguration there when
    the environment lacks a variable they need (unless a source was handed in)."""
    return Wired(kind).checked()


def _current_source() -> Any:
    global _environment
    source = _source
    if source is not None:
        return source
    with _lock:
        if _environment is None:
            _environment = EnvironmentAdapters(os.environ)
        return _environment


def ports() -> Ports:
    """Every adapter as one set: the one handed in, or the environment's (built now). For
    the local runtime and the tests, which run every function in one process."""
    source = _current_source()
    return source if isinstance(source, Ports) else source.configured()


def use(ports: Ports | None) -> None:
    """Hand in the adapters every function takes its own from (None: the environment's,
    built again)."""
    global _source, _environment
    with _lock:
        _source = ports
        _environment = None


def from_environment(env: Mapping[str, str]) -> Ports:
    """Every adapter ``env`` configures, as one set."""
    return EnvironmentAdapters(env).configured()
