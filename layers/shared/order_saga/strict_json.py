"""JSON read strictly: an object that holds the same key twice is refused, never read as
its last value (Python's json, and most parsers, keep the last; others keep the first, so
a proxy in front could see another order than the one placed).

Every JSON text the product decodes itself goes through ``loads``: the API's body, the
error causes the saga's steps receive, the snapshots in the event store. (A step's or a
stream consumer's event arrives decoded by the Lambda runtime, before any of our code.)
"""

from __future__ import annotations

import json
from typing import Any


class DuplicateKey(ValueError):
    """A JSON object holds ``key`` twice."""

    def __init__(self, key: str) -> None:
        shown = key if len(key) <= 64 else key[:64] + "..."
        super().__init__(f"the key {shown!r} appears twice in one object")
        self.key = key


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document: dict[str, Any] = {}
    for key, value in pairs:
        if key in document:
            raise DuplicateKey(key)
        document[key] = value
    return document


def loads(text: str | bytes) -> Any:
    """``json.loads``, refusing an object with a key twice (DuplicateKey, a ValueError)."""
    return json.loads(text, object_pairs_hook=_unique)
