"""DynamoDB's latency, and the transaction conflicts it brings, modelled on moto.

moto answers a DynamoDB request in microseconds, under one lock (correctness.py): two
transactions never overlap, so nothing that depends on timing shows. AWS answers in
milliseconds, and while a TransactWriteItems commits its items are taken: another
transaction on one of them is cancelled with reason ``TransactionConflict``, and a
PutItem, UpdateItem or DeleteItem on one of them fails with
``TransactionConflictException`` (GetItem and Query read the committed item; "Transaction
conflict handling in DynamoDB", in the developer guide's "Amazon DynamoDB Transactions:
How it works").

``set_latency(seconds)`` puts both on. Every DynamoDB request then waits half the latency
before moto handles it and half after (both outside the request lock, so requests overlap
as on AWS), and a transaction holds its items from the moment it is applied until its
answer has made the second half of the way back: a window of ``latency / 2``. That is an
upper bound (AWS commits before it answers, and does not document how long the commit
holds the items), so the local figures are pessimistic on conflicts. At 0 (the default)
nothing waits and nothing conflicts: moto's own behaviour.

Requests made by an invocation that takes turns (the Api function: locally one
invocation at a time, where AWS runs an environment per request in flight) are not
delayed: waiting there would queue every order behind the others' latency, a limit of
the local runtime and not of DynamoDB. Their transactions still hold items.

``stats`` counts the transactions (committed, cancelled on a condition, cancelled on a
conflict) and the single-item writes refused, for the benchmarks.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from local_runtime.patches.patching import patch

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

_state = threading.Lock()
_latency = 0.0
_held: Counter[tuple[str, str]] = Counter()
"""(table, key) -> transactions now holding the item."""
_mine = threading.local()
"""The keys the current thread's request committed and still holds."""
stats: Counter[str] = Counter()
"""Transactions and refusals since the last reset (see ``reset_stats``)."""
counting: Callable[[Iterable[dict[str, Any]]], bool] = lambda keys: True  # noqa: E731
"""Which transactions Requests made by an invocation that takes turns (the Api function: locally one
invocation at a time, where AWS runs an environment per request in flight) are not
delayed: waiting there would queue every order behind the others' latency, a limit of
the local runtime and not of DynamoDB. Their transactions still hold items.

``stats`` counts, by the keys of their items."""

_CONFLICT_MESSAGE = "Transaction is ongoing for the item"


def set_latency(seconds: float) -> None:
    global _latency
    if seconds < 0:
        raise ValueError(f"a latency cannot be negative: {seconds}")
    _latency = float(seconds)


def latency() -> float:
    return _latency


def reset_stats(which: Callable[[Iterable[dict[str, Any]]], bool] | None = None) -> Counter[str]:
    """The counts so far; counting starts again, of the transactions ``which`` selects."""
    global counting
    with _state:
        kept = Counter(stats)
        stats.clear()
        counting = which or (lambda keys: True)
    return kept


def apply() -> None:
    from moto.dynamodb.responses import DynamoHandler

    patch(DynamoHandler, "transact_write_items", _refusing_held_items)
    for name in ("put_item", "update_item", "delete_item"):
        patch(DynamoHandler, name, _refusing_a_held_item)


@contextmanager
def undelayed() -> Iterator[None]:
    """The current thread's DynamoDB requests are not delayed meanwhile."""
    before = getattr(_mine, "undelayed", False)
    _mine.undelayed = True
    try:
        yield
    finally:
        _mine.undelayed = before


def before_request(handler: Any) -> float:
    """Wait the request's way there; the half-latency to wait on its way back (0 when the
    knob is off or this is not DynamoDB itself)."""
    from moto.dynamodb.responses import DynamoHandler

    half = _latency / 2
    if not half or not isinstance(handler, DynamoHandler) or getattr(_mine, "undelayed", False):
        return 0.0
    time.sleep(half)
    return half


def after_request(half: float) -> None:
    """The answer's way back; the items the request's transaction committed are held until
    it arrives (for the same time when the request itself was not delayed)."""
    if not _latency:
        return
    time.sleep(half)
    held = getattr(_mine, "keys", None)
    if held:
        _mine.keys = []
        _release(held)


def _release(keys: list[tuple[str, str]]) -> None:
    with _state:
        _held.subtract(keys)
        for key in keys:
            if _held[key] <= 0:
                del _held[key]


def _refusing_held_items(original: Any) -> Any:
    def transact_write_items(self: Any) -> Any:
        from moto.dynamodb.exceptions import TransactionCanceledException

        items = self.body["TransactItems"]
        keys = [_item_key(self, entry) for entry in items]
        selected = counting([key[1] for key in keys if key is not None])
        with _state:
            taken = [key is not None and _unique(key) in _held for key in keys]
        if any(taken):
            _count(selected, "transaction conflicts")
            raise TransactionCanceledException(
                [("TransactionConflict", _CONFLICT_MESSAGE, None) if t else (None, None, None)
                 for t in taken]
            )  # fmt: skip
        try:
            answer = original(self)
        except TransactionCanceledException:
            _count(selected, "transactions cancelled on a condition")
            raise
        _count(selected, "transactions committed")
        if _latency:
            committed = [_unique(key) for key in keys if key is not None]
            with _state:
                _held.update(committed)
            if getattr(_mine, "undelayed", False):
                threading.Timer(_latency / 2, _release, args=(committed,)).start()
            else:
                _mine.keys = [*getattr(_mine, "keys", []), *committed]
        return answer

    return transact_write_items


def _refusing_a_held_item(original: Any) -> Any:
    def single_write(self: Any) -> Any:
        from moto.dynamodb.exceptions import DynamodbException

        key = _key(self, self.body.get("TableName"), self.body.get("Key") or self.body.get("Item"))
        with _state:
            taken = key is not None and _unique(key) in _held
        if taken:
            _count(True, "single writes refused")
            raise DynamodbException(
                "com.amazonaws.dynamodb.v20120810#TransactionConflictException", _CONFLICT_MESSAGE
            )
        return original(self)

    return single_write


def _count(selected: bool, what: str) -> None:
    if selected:
        with _state:
            stats[what] += 1


def _item_key(handler: Any, entry: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    if len(entry) != 1:
        return None
    ((kind, op),) = entry.items()
    return _key(handler, op.get("TableName"), op.get("Item") if kind == "Put" else op.get("Key"))


def _key(
    handler: Any, table_name: str | None, attributes: dict[str, Any] | None
) -> tuple[str, dict[str, Any]] | None:
    """(table, the item's key attributes), or None where moto will refuse the request."""
    if not table_name or not attributes:
        return None
    try:
        table = handler.dynamodb_backend.get_table(table_name)
    except Exception:  # no such table: moto answers that itself
        return None
    names = [table.hash_key_attr, *([table.range_key_attr] if table.range_key_attr else [])]
    if any(name not in attributes for name in names):
        return None
    return table_name, {name: attributes[name] for name in names}


def _unique(key: tuple[str, dict[str, Any]]) -> tuple[str, str]:
    table, attributes = key
    return table, repr(sorted((name, repr(value)) for name, value in attributes.items()))
