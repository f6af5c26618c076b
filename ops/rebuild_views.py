"""Rebuilds the read model (GET /orders' order summaries) from the event store.

Every order's summary is folded again from its stream and written unless the stored one
is newer (the views consumer may be running meanwhile: neither moves a summary
backwards); summaries of orders the store does not hold are deleted. The result is what
the consumer would have built from the whole stream, so running it is always safe: after
a bug in the projection, a lost table, or to fill a new one.

    python -m ops.rebuild_views --stack order-saga-dev
    python -m ops.rebuild_views --table <event store table> --read-model <read model table>

Locally, ``LocalRuntime.rebuild_views()`` does the same on the local tables. Reads the
whole store (a Scan, then one Query per stream) and the whole read model.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ops.invariants.stack import stack_output
from order_saga.service_layer.projection import rebuild


def rebuild_tables(event_table: str, read_model_table: str, dynamodb: Any = None) -> dict[str, int]:
    import boto3

    from order_saga.adapters.dynamodb_event_store import DynamoDBEventStore
    from order_saga.adapters.read_model import DynamoDBReadModel

    dynamodb = dynamodb or boto3.client("dynamodb")
    return rebuild(
        DynamoDBEventStore(event_table, dynamodb), DynamoDBReadModel(read_model_table, dynamodb)
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument(
        "--stack", help="a deployed stack: its EventStoreTableName and ReadModelTableName"
    )
    parser.add_argument("--table", help="the event store table's name")
    parser.add_argument("--read-model", help="the read model table's name")
    args = parser.parse_args(argv)
    if args.stack:
        if args.table or args.read_model:
            parser.error("--stack names both tables: give it alone")
        table = stack_output(args.stack, "EventStoreTableName")
        read_model = stack_output(args.stack, "ReadModelTableName")
    elif args.table and args.read_model:
        table, read_model = args.table, args.read_model
    else:
        parser.error("give --stack, or both --table and --read-model")
    counts = rebuild_tables(table, read_model)
    print(
        f"orders {counts['orders']}: {counts['written']} summaries written, "
        f"{counts['kept']} already as new, {counts['dropped']} of no order dropped"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
