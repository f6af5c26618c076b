"""A deployed stack's outputs: the names of its tables."""

from __future__ import annotations

from typing import Any


def stack_output(stack: str, key: str, cloudformation: Any = None) -> str:
    import boto3

    cloudformation = cloudformation or boto3.client("cloudformation")
    (described,) = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    for output in described.get("Outputs", []):
        if output["OutputKey"] == key:
            return str(output["OutputValue"])
    raise SystemExit(f"stack {stack} has no {key} output")


def stack_table(stack: str, cloudformation: Any = None) -> str:
    return stack_output(stack, "EventStoreTableName", cloudformation)
