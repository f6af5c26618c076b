"""The template's DynamoDB tables on moto, with their own keys, indexes, streams and TTL."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from local_runtime.emulator.template import Template


def create_tables(template: Template, dynamodb: Any, prefix: str = "") -> dict[str, str]:
    """Every AWS::DynamoDB::Table of the template, with its own keys, indexes and stream.
    Returns the table names by logical id (each name is ``prefix`` + the template's)."""
    names = {}
    for table in template.tables().values():
        props = template.resolve(table.properties)
        name = names[table.logical_id] = prefix + table.name
        request: dict[str, Any] = {
            "TableName": name,
            "KeySchema": props["KeySchema"],
            "AttributeDefinitions": props["AttributeDefinitions"],
            "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
        }
        if "GlobalSecondaryIndexes" in props:
            request["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
        if "StreamSpecification" in props:
            request["StreamSpecification"] = {
                "StreamEnabled": True,
                **props["StreamSpecification"],
            }
        dynamodb.create_table(**request)
        ttl = props.get("TimeToLiveSpecification")
        if ttl:
            dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
    return names
