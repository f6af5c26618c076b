"""Starting every order's saga: from the event store's stream (the relay), and, for what the
stream cannot guarantee, by a reconciler on a schedule.

The relay starts the execution named after the order on its OrderCreated. The API may
already have started it (its fast path): on a STANDARD workflow a second start of the same
name and input is the same execution, on an EXPRESS one it is a second, concurrent run of
the same saga, which every step's idempotency makes end in the same one outcome.

The reconciler looks at the orders created between ``lookback`` and ``after`` ago that are
neither terminal nor in manual review, and per order:

- STANDARD: reads its executions (``<order id>``, then ``<order id>-r1``, ``-r2``...). None:
  it starts the first; one RUNNING: it leaves it alone (never a second execution of a live
  saga); the last one ended and the order did not: it re-drives it as the next name.
- EXPRESS (Step Functions keeps no record of those): an order still at its OrderCreated
  is started; one whose last event is older than an Express execution can live (5 min) has
  no live saga and is re-driven; any other may still have one, and is left alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from order_saga.adapters.saga_launcher import RUNNING, redrive_name
from order_saga.domain.order import Order
from order_saga.service_layer.repository import order_stream

if TYPE_CHECKING:
    from datetime import datetime

    from order_saga.adapters.event_store import RecordedEvent
    from order_saga.adapters.saga_launcher import SagaLauncher
    from order_saga.service_layer.dependencies import (
        ReconcilerDependencies,
        SagaStarterDependencies,
    )

EXPRESS_LIFETIME = timedelta(minutes=5)
"""An Express execution stops at 5 minutes: none outlives it."""
EXPRESS_MARGIN = timedelta(minutes=1)
MAX_REDRIVES = 20
"""Re-drives of one order the reconciler tries before it leaves the order to an operator."""


def wants(recorded: RecordedEvent) -> bool:
    """The relay acts on an order's OrderCreated only (the mapping's filter lets nothing
    else through on AWS; this guards the local runtime and a filter changed by mistake)."""
    return recorded.event_type == "OrderCreated" and recorded.stream_id.startswith("order#")


def start_from_event(recorded: RecordedEvent, deps: SagaStarterDependencies) -> dict[str, str]:
    """The relay's work for one OrderCreated: start the execution named after the order."""
    order_id = recorded.stream_id.removeprefix("order#")
    return {"order_id": order_id, "execution": deps.saga.start(order_id)}


@dataclass
class Reconciliation:
    """What one reconciler run found and did, by order id."""

    examined: int = 0
    started: list[str] = field(default_factory=list)
    """Orders that had no execution at all: their first one was started."""
    redriven: list[str] = field(default_factory=list)
    """Orders whose execution ended before the order did: a new one was started."""
    running: list[str] = field(default_factory=list)
    """Orders not yet ended whose saga is (or may be) live: left alone."""
    given_up: list[str] = field(default_factory=list)
    """Orders re-driven MAX_REDRIVES times already: left to an operator."""


def reconcile(deps: ReconcilerDependencies, after: timedelta) -> Reconciliation:
    """One run over the orders created between ``deps.lookback`` and ``after`` ago."""
    now = deps.clock()
    result = Reconciliation()
    saga = deps.saga
    for order_id in deps.orders.created_between(now - deps.lookback, now - after):
        records = deps.store.load(order_stream(order_id))
        if not records:
            continue  # the index is eventually consistent; a stream is never deleted
        order = Order.rebuild(record.to_domain() for record in records)
        if order.is_terminal or order.in_manual_review:
            continue
        result.examined += 1
        if deps.express:
            _reconcile_express(order_id, records, saga, now, result)
        else:
            _reconcile_standard(order_id, saga, result)
    return result


def _reconcile_standard(order_id: str, saga: SagaLauncher, result: Reconciliation) -> None:
    names = [order_id, *(redrive_name(order_id, n) for n in range(1, MAX_REDRIVES + 1))]
    latest: tuple[int, str] | None = None
    for index, name in enumerate(names):
        status = saga.status(name)
        if status is None:
            break
        latest = (index, status)
    if latest is None:
        saga.start(order_id)
        result.started.append(order_id)
    elif latest[1] == RUNNING:
        result.running.append(order_id)
    elif latest[0] + 1 < len(names):
        saga.start(order_id, names[latest[0] + 1])
        result.redriven.append(order_id)
    else:
        result.given_up.append(order_id)


def _reconcile_express(
    order_id: str,
    records: list[RecordedEvent],
    saga: SagaLauncher,
    now: datetime,
    result: Reconciliation,
) -> None:
    if len(records) == 1:
        saga.start(order_id)
        result.started.append(order_id)
    elif now - records[-1].occurred_at > EXPRESS_LIFETIME + EXPRESS_MARGIN:
        saga.start(order_id, redrive_name(order_id, len(records)))
        result.redriven.append(order_id)
    else:
        result.running.append(order_id)
