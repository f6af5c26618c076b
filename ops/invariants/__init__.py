"""The invariants of the whole event store: no money and no stock is ever lost or created.

Checked over every stream the store holds (and, where there is one, the payment gateway's
own ledger):

- **money**: charged minus refunded equals the totals of the CONFIRMED and SHIPPED orders,
  plus what orders in manual review still hold (listed, never counted silently); per order,
  a kept order is charged its total once, a cancelled one holds nothing, and the gateway's
  ledger agrees with the store;
- **stock**: for every product, the stock added equals what is available plus what the
  CONFIRMED and SHIPPED orders hold (plus what orders in manual review hold, listed);
  what is available is the product's stock counter (the stock table) once its stream says
  the counter opened (StockCounterOpened), and what its stream says before that;
  availability never went below zero, no counter is negative, and no counter exists for
  a product whose stream did not open one; on a stream written before the counters, every
  unit it says an order holds is one the order's own stream reserved (and, while the
  counter is not open, the other way round), and no reservation follows the opening;
- **orders**: each is CONFIRMED, SHIPPED or CANCELLED, or in manual review; none is stuck;
  its status only ever moved along the Order's TRANSITIONS;
- **streams**: versions run 1, 2, 3... without a gap, every event reads back as its class,
  and no event appears twice (each fact of an order at most once; a product's reservation
  and release at most once per order);
- **read model** (when given one, once the stream is drained): every order in the store
  has its summary there, with the status the store gives it, and no other order has one.

``check(streams, ledger)`` is a pure function of the stored records. ``InvariantChecker``
keeps what it learnt per stream, so that checking again after a few writes reloads only
the streams that changed (the end-to-end tests check after every test this way).

The package: ``facts`` (what one stream says), ``ledger`` (the payment gateway's side),
``report`` (the verdict), ``checker`` (the whole store judged), ``stack`` (a deployed
stack's table names) and ``cli``, the command line against a deployed stack (a Scan of
the event store, then one Query per stream: for a test or staging stack, not a busy
production table):

    python -m ops.invariants --stack order-saga-dev
    python -m ops.invariants --table order-saga-dev-EventStoreTable-ABC123 \
        [--read-model order-saga-dev-ReadModelTable-DEF456]

With ``--stack`` the read model (output ReadModelTableName) is checked too; drain the
stream first (no order changing), or an order changed a moment ago reads as a violation.
"""

from __future__ import annotations

from ops.invariants.checker import (
    InvariantChecker,
    check,
    check_store,
    read_model_violations,
)
from ops.invariants.cli import main
from ops.invariants.facts import (
    ORDER_PREFIX,
    PRODUCT_PREFIX,
    OrderFacts,
    ProductFacts,
    order_facts,
    product_facts,
)
from ops.invariants.ledger import ZERO, Ledger, LedgerLine, gateway_ledger
from ops.invariants.report import InvariantReport, ReviewItem
from ops.invariants.stack import stack_output, stack_table

__all__ = [
    "ORDER_PREFIX",
    "PRODUCT_PREFIX",
    "ZERO",
    "InvariantChecker",
    "InvariantReport",
    "Ledger",
    "LedgerLine",
    "OrderFacts",
    "ProductFacts",
    "ReviewItem",
    "check",
    "check_store",
    "gateway_ledger",
    "main",
    "order_facts",
    "product_facts",
    "read_model_violations",
    "stack_output",
    "stack_table",
]
