"""The event-sourced aggregate base: state comes only from applying events."""

from __future__ import annotations

from typing import TYPE_CHECKING, Self

if TYPE_CHECKING:
    from collections.abc import Iterable

    from order_saga.domain.events import DomainEvent


class Aggregate:
    """Command methods check the rules, then ``_record`` an event; ``_apply`` only folds.

    ``version`` counts the events already stored, so it is the expected version for
    the next append. New events wait in ``pending`` until the store takes them.
    """

    def __init__(self) -> None:
        self.version = 0
        self.pending: list[DomainEvent] = []

    @classmethod
    def rebuild(cls, history: Iterable[DomainEvent]) -> Self:
        return cls().replay(history)

    def replay(self, history: Iterable[DomainEvent]) -> Self:
        """Apply stored events after the ones already folded in (a snapshot's, say)."""
        for event in history:
            self._apply(event)
            self.version += 1
        return self

    def _record(self, event: DomainEvent) -> DomainEvent:
        self._apply(event)
        self.pending.append(event)
        return event

    def mark_stored(self) -> None:
        self.version += len(self.pending)
        self.pending.clear()

    def _apply(self, event: DomainEvent) -> None:
        raise NotImplementedError
