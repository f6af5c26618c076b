"""Counting what the handlers ask of AWS, by watching their boto3 calls.

A Meter hooks a boto3 session's events: every request made through a client of that
session is recorded after its answer came back, with the DynamoDB units it used
worked out from the items written and read (AWS's sizing rules, bench/costs.py), since
moto reports no consumed capacity of its own.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from bench.costs import item_size, read_units, write_units

if TYPE_CHECKING:
    import boto3


@dataclass
class Tally:
    requests: Counter[str] = field(default_factory=Counter)
    """Requests by "service.Operation"."""
    write_units: Decimal = Decimal(0)
    read_units: Decimal = Decimal(0)
    read_bytes: int = 0
    """Bytes of the items DynamoDB returned (Query, GetItem, BatchGetItem)."""

    @property
    def dynamodb_requests(self) -> int:
        return sum(n for key, n in self.requests.items() if key.startswith("dynamodb."))


class Meter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.tally = Tally()
        self.by_scope: dict[str, Tally] = {}
        """The same counts by the scope the request was made in (see ``scope``)."""
        self._scope = threading.local()

    def scope(self, name: str | None) -> None:
        """Count this thread's requests under ``name`` too, from now on (None: stop)."""
        self._scope.name = name

    def attach(self, session: boto3.Session) -> None:
        """Watch every client the session makes from now on."""
        events = session.events
        events.register("before-parameter-build", self._remember_params, unique_id="bench-meter-p")
        events.register("after-call", self._count, unique_id="bench-meter-c")

    def reset(self) -> Tally:
        """The tally so far; counting starts again from zero."""
        with self._lock:
            tally, self.tally = self.tally, Tally()
            self.by_scope = {}
        return tally

    @staticmethod
    def _remember_params(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["bench_params"] = dict(params)

    def _count(self, model: Any, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        service = model.service_model.service_name
        operation = model.name
        params = context.get("bench_params", {})
        writes, reads, size = Decimal(0), Decimal(0), 0
        if service == "dynamodb":
            writes, reads = dynamodb_units(operation, params, parsed)
            size = read_bytes(parsed)
        scope = getattr(self._scope, "name", None)
        with self._lock:
            tallies = [self.tally]
            if scope is not None:
                tallies.append(self.by_scope.setdefault(scope, Tally()))
            for tally in tallies:
                tally.requests[f"{service}.{operation}"] += 1
                tally.write_units += writes
                tally.read_units += reads
                tally.read_bytes += size


def read_bytes(parsed: dict[str, Any]) -> int:
    """Bytes of the items a DynamoDB answer carries."""
    items = list(parsed.get("Items", []))
    if parsed.get("Item"):
        items.append(parsed["Item"])
    responses = parsed.get("Responses")
    if isinstance(responses, dict):  # BatchGetItem's, by table
        for found in responses.values():
            items.extend(found)
    return sum(item_size(item) for item in items)


def dynamodb_units(
    operation: str, params: dict[str, Any], parsed: dict[str, Any]
) -> tuple[Decimal, Decimal]:
    """(write units, read units) of one DynamoDB request, from what it wrote and read."""
    consistent = bool(params.get("ConsistentRead"))
    if operation == "PutItem":
        return Decimal(write_units(item_size(params["Item"]))), Decimal(0)
    if operation == "TransactWriteItems":
        total = 0
        for entry in params["TransactItems"]:
            ((kind, op),) = entry.items()
            size = item_size(op["Item"]) if kind == "Put" else item_size(op.get("Key", {}))
            total += write_units(size, transactional=True)
        return Decimal(total), Decimal(0)
    if operation == "Query":
        size = sum(item_size(item) for item in parsed.get("Items", []))
        return Decimal(0), read_units(size, consistent=consistent)
    if operation == "GetItem":
        item = parsed.get("Item") or {}
        return Decimal(0), read_units(item_size(item), consistent=consistent)
    if operation == "BatchGetItem":
        reads = Decimal(0)
        for table, items in parsed.get("Responses", {}).items():
            strong = bool(params["RequestItems"].get(table, {}).get("ConsistentRead"))
            reads += sum(
                (read_units(item_size(item), consistent=strong) for item in items), Decimal(0)
            )
        return Decimal(0), reads
    return Decimal(0), Decimal(0)
