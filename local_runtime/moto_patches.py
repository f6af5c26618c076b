"""Two ways in which moto's DynamoDB, run in threads, differs from DynamoDB, mended.

1. Atomicity. DynamoDB applies a conditional write or a transaction atomically; moto
   checks and writes in Python, so two threads can both pass the check on (stream id,
   version) and both "win", and a transaction can fail reading a table that another
   thread is writing ("dictionary changed size during iteration"). The local runtime
   serves the state machine's Lambda calls from many threads, so every DynamoDB call is
   made under one lock: each is then atomic, as on AWS.
2. Cost of a transaction. Before a TransactWriteItems moto deep-copies every table it
   touches, once per item, so that it can roll back; that makes a reservation slower
   with every event ever stored. The copy here keeps the table's structure and stream
   but shares its (immutable) items, which is all a rollback of Puts and
   ConditionChecks needs; the rollback itself is moto's.

Applied once per process by ``apply()``; harmless to call again.
"""

from __future__ import annotations

import copy
import threading
from collections import defaultdict
from functools import wraps
from typing import Any

from moto.dynamodb import models as dynamodb_models
from moto.dynamodb import responses as dynamodb_responses
from moto.dynamodb.models.table import Table

_lock = threading.RLock()
_applied = False


class _CopyModule:
    """moto.dynamodb.models' view of the copy module: a lighter deepcopy for tables."""

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)

    @staticmethod
    def deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
        if isinstance(value, Table):
            return _table_snapshot(value)
        return copy.deepcopy(value, memo)


def _table_snapshot(table: Table) -> Table:
    snapshot = copy.copy(table)
    snapshot.items = defaultdict(
        dict,
        {
            key: dict(value) if isinstance(value, dict) else value
            for key, value in table.items.items()
        },
    )
    if table.stream_shard is not None:
        shard = copy.copy(table.stream_shard)
        shard.items = list(table.stream_shard.items)
        shard.table = snapshot
        snapshot.stream_shard = shard
    return snapshot


def apply() -> None:
    global _applied
    with _lock:
        if _applied:
            return
        call_action = dynamodb_responses.DynamoHandler.call_action

        @wraps(call_action)
        def atomic_call_action(self: Any) -> Any:
            with _lock:
                return call_action(self)

        dynamodb_responses.DynamoHandler.call_action = atomic_call_action  # type: ignore[method-assign]
        dynamodb_models.copy = _CopyModule()  # type: ignore[assignment]
        _applied = True
