"""The invariants of the whole event store: no money and no stock is ever lost or created.

Against a deployed stack (a Scan of the event store, then one Query per stream: for a
test or staging stack, not a busy production table):

    python -m ops.invariants --stack order-saga-dev
    python -m ops.invariants --table order-saga-dev-EventStoreTable-ABC123 \
        [--read-model order-saga-dev-ReadModelTable-DEF456]

With ``--stack`` the read model (output ReadModelTableName) is checked too; drain the
stream first (no order changing), or an order changed a moment ago reads as a violation.
"""

from __future__ import annotations

import argparse

from ops.invariants.checker import check_store
from ops.invariants.stack import stack_output, stack_table


def main(argv: list[str] | None = None) -> int:
    import boto3

    from order_saga.adapters.dynamodb_event_store import DynamoDBEventStore

    parser = argparse.ArgumentParser(
        prog="python -m ops.invariants", description=(__doc__ or "").split("\n\n")[0]
    )
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--stack", help="a deployed stack; its EventStoreTableName output")
    where.add_argument("--table", help="the event store table's name")
    parser.add_argument("--stock-table", help="the stock table's name (with --table)")
    parser.add_argument("--read-model", help="the read model table's name (with --table)")
    args = parser.parse_args(argv)
    table = args.table or stack_table(args.stack)
    stock = args.stock_table or (stack_output(args.stack, "StockTableName") if args.stack else None)
    views = args.read_model or (
        stack_output(args.stack, "ReadModelTableName") if args.stack else None
    )
    dynamodb = boto3.client("dynamodb")
    summaries = None
    if views:
        from order_saga.adapters.read_model import DynamoDBReadModel

        summaries = DynamoDBReadModel(views, dynamodb).scan()
    store = DynamoDBEventStore(table, dynamodb, stock_table=stock)
    report = check_store(store, read_model=summaries)
    print(report.summary())
    return 0 if report.ok else 1
