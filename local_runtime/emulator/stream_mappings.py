"""The template's ``Type: DynamoDB`` event sources, read as Lambda's event source mappings,
and a stream record shaped as Lambda delivers it (local_runtime/emulator/stream_driver.py
plays them).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from local_runtime.emulator.template import REGION

if TYPE_CHECKING:
    from local_runtime.emulator.template import Template

UNBOUNDED_RETRIES = 10
"""MaximumRetryAttempts -1 retries until the record expires (24 h): locally, this many."""


@dataclass(frozen=True)
class StreamMapping:
    """One ``Type: DynamoDB`` event of a function, as the template declares it."""

    function: str
    table: str
    """Logical id of the table whose stream it reads."""
    starting_position: str
    batch_size: int
    report_item_failures: bool
    bisect: bool
    max_retries: int
    on_failure: str | None
    """Logical id of the on-failure destination queue."""
    filters: tuple[dict[str, Any], ...] = field(default=())
    """FilterCriteria's patterns: a record matching none is dropped, never delivered."""

    def accepts(self, record: dict[str, Any]) -> bool:
        return not self.filters or any(matches(pattern, record) for pattern in self.filters)


def stream_mappings(template: Template) -> list[StreamMapping]:
    mappings = []
    for function, resource in template.of_type("AWS::Serverless::Function").items():
        for name, event in resource["Properties"].get("Events", {}).items():
            if event["Type"] != "DynamoDB":
                continue
            props = event["Properties"]
            table = _getatt_target(props["Stream"], "StreamArn", f"{function}.{name}.Stream")
            destination = props.get("DestinationConfig", {}).get("OnFailure", {})
            retries = int(props.get("MaximumRetryAttempts", -1))
            mappings.append(
                StreamMapping(
                    function=function,
                    table=table,
                    starting_position=props["StartingPosition"],
                    batch_size=int(props.get("BatchSize", 100)),
                    report_item_failures="ReportBatchItemFailures"
                    in props.get("FunctionResponseTypes", []),
                    bisect=bool(props.get("BisectBatchOnFunctionError", False)),
                    max_retries=UNBOUNDED_RETRIES if retries < 0 else retries,
                    filters=tuple(
                        json.loads(f["Pattern"])
                        for f in props.get("FilterCriteria", {}).get("Filters", [])
                    ),
                    on_failure=(
                        _getatt_target(destination["Destination"], "Arn", f"{function}.{name}")
                        if "Destination" in destination
                        else None
                    ),
                )
            )
    return mappings


def matches(pattern: Any, value: Any) -> bool:
    """Lambda's event filtering, for the patterns the template uses: nested objects and
    lists of exact values (a value matches when it is one of them). Anything else in a
    pattern (prefix, numeric, exists...) is refused, rather than matched wrongly."""
    if isinstance(pattern, dict):
        if not isinstance(value, dict):
            return False
        return all(key in value and matches(sub, value[key]) for key, sub in pattern.items())
    if isinstance(pattern, list):
        if any(isinstance(option, dict | list) for option in pattern):
            raise ValueError(f"the local runtime matches only exact values, not {pattern}")
        return value in pattern
    raise ValueError(f"a filter pattern's leaf must be a list of values, not {pattern!r}")


def _getatt_target(value: Any, attribute: str, where: str) -> str:
    target = value.get("Fn::GetAtt") if isinstance(value, dict) else None
    if isinstance(target, str):
        target = target.split(".", 1)
    if not target or target[1] != attribute:
        raise ValueError(f"{where}: the local runtime needs !GetAtt <resource>.{attribute}")
    return str(target[0])


def lambda_record(record: dict[str, Any], stream_arn: str) -> dict[str, Any]:
    """A GetRecords record as Lambda puts it in the event it sends."""
    dynamodb = dict(record["dynamodb"])
    created = dynamodb.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        dynamodb["ApproximateCreationDateTime"] = int(created.timestamp())
    return {
        "eventID": record["eventID"],
        "eventName": record["eventName"],
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": record.get("awsRegion", REGION),
        "dynamodb": dynamodb,
        "eventSourceARN": stream_arn,
    }
