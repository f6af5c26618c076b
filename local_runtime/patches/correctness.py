"""Correctness fixes: without them moto gives wrong answers under the local runtime's load.

1. One request at a time. moto's tables are plain dictionaries with no locking, and
   the local runtime runs many executions at once (the interpreter runs each on its
   own thread, the Lambda server answers each invocation on its own thread). Without
   a lock a Query iterating a table while a PutItem adds to it raises "dictionary
   changed size during iteration", or returns a stream with events missing: orders
   not found, stale versions, a transaction seen half written. DynamoDB is
   linearisable per item and a TransactWriteItems is all-or-nothing to readers;
   serialising moto's request handling (DynamoDB and DynamoDB Streams) gives the
   handlers the same. Some speed shortcuts rely on it (speed/dynamodb_reads.py).
   DynamoDB's latency, when the runtime models it (dynamodb_latency.py), is waited
   outside the lock: requests overlap in time as on AWS, and are applied one at a time.
"""

from __future__ import annotations

import threading
from typing import Any

from local_runtime.patches import dynamodb_latency
from local_runtime.patches.patching import patch

REQUEST_LOCK = threading.RLock()
"""Held while moto handles one DynamoDB or DynamoDB Streams request."""


def apply() -> None:
    from moto.dynamodb.responses import DynamoHandler
    from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

    for handler in (DynamoHandler, DynamoDBStreamsHandler):
        patch(handler, "call_action", _serialised)


def _serialised(original: Any) -> Any:
    def call_action(self: Any) -> Any:
        back = dynamodb_latency.before_request(self)
        try:
            with REQUEST_LOCK:
                return original(self)
        finally:
            dynamodb_latency.after_request(back)

    return call_action
