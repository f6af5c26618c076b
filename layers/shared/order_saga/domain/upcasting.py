"""Reading an event stored in an older shape as its class is today.

An event class numbers its shape in ``schema_version`` and, for each step from an older
shape, carries a static ``upcast_v<n>_v<n+1>(data) -> data`` (as pyeventsourcing's
``upcast_v1_v2``). Reading an event applies the steps from the version it was stored with
up to the current one; the stored event is never rewritten, so old events stay as they
were written and every reader (the aggregates, the stream consumers) sees one shape.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from order_saga.domain.events import DomainEvent


def step_name(from_version: int) -> str:
    return f"upcast_v{from_version}_v{from_version + 1}"


def upcast(cls: type[DomainEvent], stored_version: int, data: dict[str, Any]) -> dict[str, Any]:
    """``data`` as stored with ``stored_version``, in ``cls``'s current shape. A version
    newer than the class (written by newer code) or below 1 is refused, never guessed."""
    if not 1 <= stored_version <= cls.schema_version:
        raise ValueError(
            f"{cls.__name__} schema version {stored_version} is not one this code reads "
            f"(1 to {cls.schema_version})"
        )
    for version in range(stored_version, cls.schema_version):
        step: Callable[[dict[str, Any]], dict[str, Any]] = getattr(cls, step_name(version))
        data = step(dict(data))
    return data


def missing_upcasters(classes: Iterable[type[DomainEvent]]) -> list[str]:
    """Every step an event class needs and lacks (``upcast_v1_v2`` for a version 2)."""
    return [
        f"{cls.__name__}.{step_name(version)}"
        for cls in classes
        for version in range(1, cls.schema_version)
        if not callable(getattr(cls, step_name(version), None))
    ]
