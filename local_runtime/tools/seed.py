"""Stock the sample catalog into a deployed stack's tables (or any pair of tables).

    python -m local_runtime seed --stack order-saga-dev
    python -m local_runtime seed --catalog-table NAME --event-store-table NAME --stock-table NAME

Uses the usual AWS credentials and region. The same code stocks the local runtime for
`make demo` and `make serve`; products that already have stock are left alone.
"""

from __future__ import annotations

import argparse

import boto3

from local_runtime.sample_catalog import SAMPLE_PRODUCTS, seed
from order_saga.adapters.catalog import DynamoDBCatalog
from order_saga.adapters.dynamodb_event_store import DynamoDBEventStore
from order_saga.adapters.payment_gateway import SimulatedPaymentGateway
from order_saga.service_layer.ports import Ports


def stack_tables(stack: str) -> tuple[str, str, str]:
    """(catalog table, event store table, stock table) from the stack's outputs."""
    described = boto3.client("cloudformation").describe_stacks(StackName=stack)
    outputs = {o["OutputKey"]: o["OutputValue"] for o in described["Stacks"][0]["Outputs"]}
    return outputs["CatalogTableName"], outputs["EventStoreTableName"], outputs["StockTableName"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m local_runtime seed", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--stack", help="read the table names from this stack's outputs")
    parser.add_argument("--catalog-table")
    parser.add_argument("--event-store-table")
    parser.add_argument("--stock-table")
    args = parser.parse_args(argv)
    if args.stack:
        catalog_table, store_table, stock_table = stack_tables(args.stack)
    elif args.catalog_table and args.event_store_table and args.stock_table:
        catalog_table, store_table = args.catalog_table, args.event_store_table
        stock_table = args.stock_table
    else:
        parser.error("give --stack, or --catalog-table, --event-store-table and --stock-table")
    dynamodb = boto3.client("dynamodb")
    ports = Ports(
        store=DynamoDBEventStore(store_table, dynamodb, stock_table=stock_table),
        catalog=DynamoDBCatalog(catalog_table, dynamodb),
        gateway=SimulatedPaymentGateway(),  # unused: seeding moves no money
    )
    stocked = set(seed(ports))
    for product_id, name, price, quantity in SAMPLE_PRODUCTS:
        done = f"stocked {quantity}" if product_id in stocked else "already stocked"
        print(f"{product_id:<22} {name:<22} {price:>8}  {done}")
    return 0
