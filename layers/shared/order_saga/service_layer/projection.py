"""Keeping the read model: the views consumer's use case, and rebuilding it whole.

Per record of the event store's stream, in stream order: the order's next event is folded
into its summary; one already folded (delivered again, or late) changes nothing; one past a
gap (an earlier record not seen) has the summary rebuilt from the order's stream. Every
write is conditional on the stored summary being older (adapters/read_model.py), so the
summary of an order never moves backwards.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from order_saga.service_layer.order_summaries import (
    ORDER_STREAM_PREFIX,
    Fold,
    fold,
    order_id_of,
    place,
    summarise,
    wants,
)

if TYPE_CHECKING:
    from order_saga.adapters.event_store import EventStore, RecordedEvent
    from order_saga.adapters.read_model import ReadModel

__all__ = ["project", "rebuild", "wants"]


def project(record: RecordedEvent, deps: Any) -> dict[str, Any]:
    """Bring the summary of ``record``'s order up to it; what was done, as JSON.
    ``deps`` has ``store`` (the event store) and ``read_model``."""
    read_model: ReadModel | None = deps.read_model
    if read_model is None:
        raise RuntimeError("no read model is wired: set READ_MODEL_TABLE")
    summary = read_model.get(order_id_of(record))
    where = place(summary, record)
    if where is Fold.SEEN:
        assert summary is not None
        return {"summary": "already folded", "version": summary.version}
    if where is Fold.NEXT:
        updated = fold(summary, record)
    else:
        updated = summarise(deps.store.load(record.stream_id))
        if updated is None:  # cannot be: the record itself is in the stream
            raise RuntimeError(f"{record.stream_id} has no events in the store")
    written = read_model.put(updated)
    return {
        "summary": ("rebuilt" if where is Fold.GAP else "folded") if written else "newer kept",
        "version": updated.version,
    }


def rebuild(store: EventStore, read_model: ReadModel) -> dict[str, int]:
    """Every order's summary from its stream, written unless the stored one is newer (the
    live consumer may be running); summaries of orders the store does not hold are
    dropped. Counts of what was done."""
    counts = {"orders": 0, "written": 0, "kept": 0, "dropped": 0}
    orders: set[str] = set()
    for stream_id in store.stream_ids(ORDER_STREAM_PREFIX):
        summary = summarise(store.load(stream_id))
        if summary is None:
            continue
        orders.add(summary.order_id)
        counts["orders"] += 1
        counts["written" if read_model.put(summary, rewrite=True) else "kept"] += 1
    for summary in list(read_model.scan()):
        if summary.order_id not in orders:
            read_model.delete(summary.order_id)
            counts["dropped"] += 1
    return counts
