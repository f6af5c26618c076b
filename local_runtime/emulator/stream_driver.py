"""Lambda's event source mappings for DynamoDB streams, played against moto's streams.

For every function whose template Events hold a ``Type: DynamoDB`` source, the driver
reads the table's stream (dynamodbstreams DescribeStream, GetShardIterator, GetRecords),
shapes the records into the event Lambda would send, invokes the function through the
Lambda service (so injected faults apply), and applies the mapping's properties as the
service does:

- ``StartingPosition``: TRIM_HORIZON reads the stream from its start, LATEST from the
  moment the runtime started;
- ``FilterCriteria``: a record that matches none of the patterns is dropped (its place
  in the stream passes, nothing is invoked), as Lambda's event filtering does;
- ``BatchSize``: records per invocation, in stream order, one batch at a time per shard;
- ``FunctionResponseTypes: [ReportBatchItemFailures]``: the lowest failed sequence number
  is the checkpoint, and the records from it to the end of the batch are retried; an
  identifier that is not one of the batch's fails the whole batch;
- ``BisectBatchOnFunctionError``: a batch whose invocation fails is split in two halves,
  each retried on its own, the first half first;
- ``MaximumRetryAttempts``: each retry (of a remainder or of a half) counts one; once
  spent, the records are discarded and the mapping's ``DestinationConfig.OnFailure``
  queue gets the batch's coordinates, in the shape Lambda sends (DDBStreamBatchInfo),
  never the records themselves.

Not modelled: ``MaximumRecordAgeInSeconds`` (records here are seconds old),
``ParallelizationFactor`` and batching windows (one batch at a time is what a single
shard with factor 1 does).
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections import deque
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import boto3

from local_runtime.emulator.stream_mappings import StreamMapping, lambda_record, stream_mappings
from local_runtime.emulator.template import function_arn

if TYPE_CHECKING:
    from collections.abc import Callable

    from local_runtime.emulator.lambda_service import Functions
    from local_runtime.emulator.template import Template


class StreamDriver:
    def __init__(
        self,
        template: Template,
        functions: Functions,
        on_delivered: Callable[[], None] | None = None,
    ) -> None:
        """``on_delivered`` runs after each batch a function got (the runtime reads what
        the publisher put on the bus then, as it arrives)."""
        self.template = template
        self.functions = functions
        self.on_delivered = on_delivered
        self.mappings = stream_mappings(template)
        self._stream_arns: dict[str, str] = {}
        self.discarded: list[dict[str, Any]] = []
        """Every on-failure record sent, for inspection."""
        self.enabled: dict[str, bool] = {}
        """Function -> whether its mapping runs (UpdateEventSourceMapping Enabled); default on."""
        self._streams = boto3.client("dynamodbstreams")
        self._checkpoints: dict[tuple[str, str], str] = {}
        self._lock = threading.RLock()
        self._mapping_locks = {mapping.function: threading.Lock() for mapping in self.mappings}
        """One per mapping: each polls on its own, as Lambda's event source mappings do."""
        self._stop = threading.Event()
        self._pollers: list[threading.Thread] = []
        for mapping in self.mappings:
            if mapping.starting_position == "LATEST":
                self._skip_to_latest(mapping)

    # -- driving it ----------------------------------------------------------------

    def drain(self, *, wait: float | None = None, budget: float | None = None) -> int:
        """Deliver every pending record to every mapping, until the streams are quiet.
        Returns how many records were read.

        ``wait``: how long to wait for a drain running in another thread (the poller's, a
        page's) before giving up and returning 0; ``budget``: seconds after which to stop
        between two batches, leaving the rest for the next drain. Pages pass both, so
        they answer in bounded time with what the consumers did so far."""
        if not self._lock.acquire(timeout=-1 if wait is None else wait):
            return 0
        try:
            deadline = None if budget is None else time.monotonic() + budget
            read = 0
            while True:
                moved = 0
                for mapping in self.mappings:
                    # A mapping its poller is polling now is left to it (it brings the
                    # views up to date): a page never waits on a poller.
                    lock = self._mapping_locks[mapping.function]
                    if not lock.acquire(timeout=-1 if wait is None else wait):
                        continue
                    try:
                        moved += self._poll(mapping, deadline)
                    finally:
                        lock.release()
                read += moved
                if not moved or (deadline is not None and time.monotonic() >= deadline):
                    return read
        finally:
            self._lock.release()

    def skip_pending(self) -> None:
        """Move every mapping to the end of its stream without delivering what is there, as
        a mapping created now at LATEST would start: for tests that write in bulk, so that
        the consumers' tests sharing the runtime do not deliver thousands of records."""
        with self._lock:
            for mapping in self.mappings:
                arn = self.stream_arn(mapping.table)
                for shard in self._shards(arn):
                    checkpoint = (mapping.function, shard)
                    records = self._read(arn, shard, self._checkpoints.get(checkpoint))
                    if records:
                        self._checkpoints[checkpoint] = records[-1]["dynamodb"]["SequenceNumber"]

    def start_polling(self, interval: float = 0.25) -> None:
        """Drain in the background, as the mappings would on AWS (for `make serve`): one
        poller per mapping, so that one consumer's backlog never delays another's records
        (on AWS each event source mapping reads the stream on its own)."""
        if self._pollers:
            return
        self._stop.clear()

        def poll(mapping: StreamMapping) -> None:
            while not self._stop.wait(interval):
                with self._mapping_locks[mapping.function]:
                    try:
                        while self._poll(mapping):
                            pass
                    except Exception:  # as Lambda's poller: this poll failed, the next reads on
                        logging.getLogger(__name__).exception("polling the stream failed")

        self._pollers = [
            threading.Thread(
                target=poll, args=(m,), daemon=True, name=f"stream-driver-{m.function}"
            )
            for m in self.mappings
        ]
        for poller in self._pollers:
            poller.start()

    def stop(self) -> None:
        self._stop.set()
        for poller in self._pollers:
            poller.join()
        self._pollers = []

    def stream_records(self, table: str) -> list[dict[str, Any]]:
        """Every record the table's stream holds, shaped as Lambda delivers them."""
        arn = self.stream_arn(table)
        return [
            lambda_record(record, arn)
            for shard in self._shards(arn)
            for record in self._read(arn, shard, None)
        ]

    # -- one mapping -----------------------------------------------------------------

    def stream_arn(self, table: str) -> str:
        """The table's stream (one for the runtime's life: its tables are never re-created)."""
        if table not in self._stream_arns:
            described = boto3.client("dynamodb").describe_table(TableName=self.template.ref(table))
            self._stream_arns[table] = str(described["Table"]["LatestStreamArn"])
        return self._stream_arns[table]

    def _shards(self, stream_arn: str) -> list[str]:
        described = self._streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]
        return [shard["ShardId"] for shard in described["Shards"]]

    def _read(self, stream_arn: str, shard: str, after: str | None) -> list[dict[str, Any]]:
        position: dict[str, Any] = (
            {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": after}
            if after
            else {"ShardIteratorType": "TRIM_HORIZON"}
        )
        iterator = self._streams.get_shard_iterator(
            StreamArn=stream_arn, ShardId=shard, **position
        )["ShardIterator"]
        records: list[dict[str, Any]] = []
        while iterator:
            page = self._streams.get_records(ShardIterator=iterator, Limit=1000)
            if not page["Records"]:
                break
            records.extend(page["Records"])
            iterator = page.get("NextShardIterator")
        return records

    def _skip_to_latest(self, mapping: StreamMapping) -> None:
        arn = self.stream_arn(mapping.table)
        for shard in self._shards(arn):
            records = self._read(arn, shard, None)
            if records:
                self._checkpoints[mapping.function, shard] = records[-1]["dynamodb"][
                    "SequenceNumber"
                ]

    def _poll(self, mapping: StreamMapping, deadline: float | None = None) -> int:
        arn = self.stream_arn(mapping.table)
        read = 0
        for shard in self._shards(arn):
            records = self._read(arn, shard, self._checkpoints.get((mapping.function, shard)))
            if records and not self.enabled.get(mapping.function, True):
                continue  # a disabled mapping keeps its place and reads on once enabled
            # Filtered-out records are consumed too (Lambda drops them); a batch holds up to
            # batch_size records that pass the filter.
            batch: list[dict[str, Any]] = []
            taken = 0
            for position, raw in enumerate(records, start=1):
                record = lambda_record(raw, arn)
                if mapping.accepts(record):
                    batch.append(record)
                if len(batch) < mapping.batch_size and position < len(records):
                    continue
                if deadline is not None and read and time.monotonic() >= deadline:
                    return read
                if batch:
                    self._deliver(mapping, shard, arn, batch)
                self._checkpoints[mapping.function, shard] = raw["dynamodb"]["SequenceNumber"]
                read += position - taken
                taken = position
                if batch and self.on_delivered is not None:
                    self.on_delivered()
                batch = []
        return read

    def _deliver(
        self, mapping: StreamMapping, shard: str, stream_arn: str, batch: list[dict[str, Any]]
    ) -> None:
        pending: deque[tuple[list[dict[str, Any]], int]] = deque([(batch, 0)])
        while pending:
            records, retries = pending.popleft()
            # A JSON round trip, as the real service's payload takes.
            event = json.loads(json.dumps({"Records": records}))
            result, error = self.functions.invoke(mapping.function, event)
            failed = records if error else self._failed(mapping, records, result)
            if not failed:
                continue
            if retries >= mapping.max_retries:
                self._discard(mapping, shard, stream_arn, failed, retries + 1, error)
            elif error and mapping.bisect and len(failed) > 1:
                half = len(failed) // 2
                pending.appendleft((failed[half:], retries + 1))
                pending.appendleft((failed[:half], retries + 1))
            else:
                pending.appendleft((failed, retries + 1))

    @staticmethod
    def _failed(
        mapping: StreamMapping, records: list[dict[str, Any]], result: Any
    ) -> list[dict[str, Any]]:
        """The records to retry after a successful invocation: none, or those from the
        lowest reported sequence number on (the whole batch for a malformed report)."""
        if not mapping.report_item_failures or not isinstance(result, dict):
            return []
        sequence = [r["dynamodb"]["SequenceNumber"] for r in records]
        first = len(records)
        for failure in result.get("batchItemFailures") or []:
            identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
            if identifier not in sequence:
                return records
            first = min(first, sequence.index(identifier))
        return records[first:]

    def _discard(
        self,
        mapping: StreamMapping,
        shard: str,
        stream_arn: str,
        records: list[dict[str, Any]],
        invocations: int,
        error: str | None,
    ) -> None:
        created = [r["dynamodb"].get("ApproximateCreationDateTime", 0) for r in records]
        notice = {
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": function_arn(mapping.function),
                "condition": "RetryAttemptsExhausted",
                "approximateInvokeCount": invocations,
            },
            "responseContext": {
                "statusCode": 200,
                "executedVersion": "$LATEST",
                **({"functionError": error} if error else {}),
            },
            "version": "1.0",
            "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "DDBStreamBatchInfo": {
                "shardId": shard,
                "startSequenceNumber": records[0]["dynamodb"]["SequenceNumber"],
                "endSequenceNumber": records[-1]["dynamodb"]["SequenceNumber"],
                "approximateArrivalOfFirstRecord": _iso(created[0]),
                "approximateArrivalOfLastRecord": _iso(created[-1]),
                "batchSize": len(records),
                "streamArn": stream_arn,
            },
        }
        self.discarded.append(notice)
        if mapping.on_failure is not None:
            boto3.client("sqs").send_message(
                QueueUrl=self.template.ref(mapping.on_failure), MessageBody=json.dumps(notice)
            )


def _iso(epoch_seconds: float) -> str:
    return datetime.fromtimestamp(epoch_seconds, UTC).isoformat(timespec="seconds")
