"""The read model's order summaries: folded in order, never backwards, equal to the store."""

from __future__ import annotations

import random
from dataclasses import replace
from decimal import Decimal
from types import SimpleNamespace

import pytest

from order_saga.adapters.read_model import InMemoryReadModel, OrderQuery
from order_saga.domain.order import Order
from order_saga.errors import InvalidCursor
from order_saga.service_layer.order_summaries import (
    MANUAL_REVIEW,
    Fold,
    fold,
    place,
    summarise,
)
from order_saga.service_layer.projection import project, rebuild
from tests.unit.sagas import (
    cancelled_by_customer,
    every_path,
    in_manual_review,
    in_memory_ports,
    order_records,
    released,
)


def all_paths(ports):
    orders = every_path(ports)
    orders["released"] = released(ports)
    orders["manual_review"] = in_manual_review(ports)
    orders["cancelled_by_customer"] = cancelled_by_customer(ports)
    return orders


def test_a_summary_has_the_status_the_store_gives_the_order_on_every_path():
    ports = in_memory_ports()
    for path, order_id in all_paths(ports).items():
        records = order_records(ports, order_id)
        order = Order.rebuild(r.to_domain() for r in records)
        summary = summarise(records)
        assert summary is not None
        assert (summary.status, summary.version) == (order.status.value, order.version), path
        assert summary.manual_review == (order.compensation_failure is not None), path
        assert summary.total == order.total
        assert summary.item_count == sum(item.quantity for item in order.items)
        assert summary.customer_id == order.customer_id
        assert summary.created_at == records[0].occurred_at.isoformat()
        assert summary.updated_at == records[-1].occurred_at.isoformat()


def test_only_the_next_event_is_folded_a_seen_one_is_not_and_a_gap_is_named():
    ports = in_memory_ports()
    records = order_records(ports, every_path(ports)["shipped"])
    summary = fold(None, records[0])
    assert place(summary, records[0]) is Fold.SEEN
    assert place(summary, records[1]) is Fold.NEXT
    assert place(summary, records[3]) is Fold.GAP
    assert place(None, records[2]) is Fold.GAP
    with pytest.raises(ValueError, match="does not follow"):
        fold(summary, records[3])
    with pytest.raises(ValueError, match="starts at its OrderCreated"):
        fold(None, records[1])


def test_records_repeated_late_and_out_of_order_never_move_a_summary_backwards():
    ports = in_memory_ports()
    orders = all_paths(ports)
    deps = SimpleNamespace(store=ports.store, read_model=InMemoryReadModel())
    deliveries = [r for order_id in orders.values() for r in order_records(ports, order_id)]
    rng = random.Random(16)
    # every record twice, shuffled: late ones, repeated ones, and gaps ahead of them
    shuffled = deliveries * 2
    rng.shuffle(shuffled)
    for record in shuffled:
        before = deps.read_model.get(record.stream_id.removeprefix("order#"))
        project(record, deps)
        after = deps.read_model.get(record.stream_id.removeprefix("order#"))
        assert after is not None
        assert before is None or after.version >= before.version
    for order_id in orders.values():
        assert deps.read_model.get(order_id) == summarise(order_records(ports, order_id))


def test_a_gap_rebuilds_the_summary_from_the_order_stream():
    ports = in_memory_ports()
    order_id = every_path(ports)["shipped"]
    records = order_records(ports, order_id)
    deps = SimpleNamespace(store=ports.store, read_model=InMemoryReadModel())
    assert project(records[-1], deps) == {"summary": "rebuilt", "version": len(records)}
    assert project(records[1], deps) == {"summary": "already folded", "version": len(records)}
    assert deps.read_model.get(order_id).status == "SHIPPED"


def test_a_stored_summary_that_is_newer_is_kept():
    model = InMemoryReadModel()
    ports = in_memory_ports()
    summary = summarise(order_records(ports, every_path(ports)["shipped"]))
    assert model.put(summary)
    assert not model.put(replace(summary, version=summary.version - 1, status="CONFIRMED"))
    assert not model.put(summary)
    assert model.put(summary, rewrite=True)
    assert model.get(summary.order_id).status == "SHIPPED"


def test_lists_are_newest_first_per_customer_and_status_a_page_at_a_time():
    model = InMemoryReadModel()
    base = dict(total=Decimal("1.00"), item_count=1, updated_at="x", version=1)
    for n in range(7):
        model.put(
            summary_of(
                f"o{n}",
                "alice" if n % 2 == 0 else "bob",
                n,
                "CONFIRMED" if n < 4 else "PENDING",
                base,
            )
        )
    alice = OrderQuery(customer_id="alice")
    first = model.page(alice, 3)
    assert [s.order_id for s in first.summaries] == ["o6", "o4", "o2"]
    second = model.page(alice, 3, first.next_cursor)
    assert [s.order_id for s in second.summaries] == ["o0"] and second.next_cursor is None
    pending = model.page(OrderQuery(status="PENDING"), 10)
    assert [s.order_id for s in pending.summaries] == ["o6", "o5", "o4"]
    both = model.page(OrderQuery(customer_id="bob", status="CONFIRMED"), 10)
    assert [s.order_id for s in both.summaries] == ["o3", "o1"]


def test_a_cursor_of_another_list_or_a_made_up_one_is_refused():
    model = InMemoryReadModel()
    base = dict(total=Decimal("1.00"), item_count=1, updated_at="x", version=1)
    for n in range(3):
        model.put(summary_of(f"o{n}", "alice", n, "PENDING", base))
    cursor = model.page(OrderQuery(customer_id="alice"), 1).next_cursor
    assert cursor is not None
    with pytest.raises(InvalidCursor, match="another list"):
        model.page(OrderQuery(customer_id="mallory"), 1, cursor)
    for bad in ["x", "e30", "!!!!", cursor[:-3]]:
        with pytest.raises(InvalidCursor):
            model.page(OrderQuery(customer_id="alice"), 1, bad)


def test_manual_review_lists_the_orders_whose_compensation_gave_up():
    ports = in_memory_ports()
    orders = all_paths(ports)
    model = InMemoryReadModel()
    rebuild(ports.store, model)
    listed = model.page(OrderQuery(status=MANUAL_REVIEW), 100)
    assert [s.order_id for s in listed.summaries] == [orders["manual_review"]]


def test_a_rebuild_equals_the_summaries_the_consumer_kept_and_drops_strays():
    ports = in_memory_ports()
    orders = all_paths(ports)
    live = InMemoryReadModel()
    deps = SimpleNamespace(store=ports.store, read_model=live)
    for order_id in orders.values():
        for record in order_records(ports, order_id):
            project(record, deps)
    rebuilt = InMemoryReadModel()
    stray = replace(live.get(orders["shipped"]), order_id="gone")
    rebuilt.put(stray)
    counts = rebuild(ports.store, rebuilt)
    assert counts == {"orders": len(orders), "written": len(orders), "kept": 0, "dropped": 1}
    assert sorted(rebuilt.scan(), key=lambda s: s.order_id) == sorted(
        live.scan(), key=lambda s: s.order_id
    )


def summary_of(order_id, customer, n, status, base):
    from order_saga.service_layer.order_summaries import OrderSummary

    return OrderSummary(
        order_id=order_id,
        customer_id=customer,
        status=status,
        created_at=f"2026-01-01T00:00:0{n}+00:00",
        **base,
    )
