"""A consumer of the event store's DynamoDB stream, as a Lambda handler.

Per record, in stream order (Powertools' BatchProcessor, reporting batch item failures):

- not an INSERT: skipped, the store only appends;
- a record that can never succeed (its image is not an event this store wrote, or the
  consumer raises a permanent error): sent, whole and with the reason, to the consumer's
  failure queue and reported processed, so it never blocks the records behind it;
- any other error (throttling, a storage error): reported failed, so Lambda retries it
  and every record after it; later records of the same stream in this batch are then
  reported failed without being tried, so one order's events are never acted on out of
  order, while other orders' records go ahead (their retry is deduplicated below).

Exactly once in effect: each record is settled under a Powertools idempotency key made of
its (stream_id, version) with the consumer's own key prefix, so a record delivered again
(a retried batch, a replayed stream) returns the first outcome and sends nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from pydantic import BaseModel, ConfigDict

from order_saga.entrypoints.parsing import parse
from order_saga.errors import EarlierEventFailed, OrderNotFound, PoisonRecord
from order_saga.observability import logger, metrics, tracer

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
        DynamoDBRecord,
    )
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from order_saga.adapters.event_store import RecordedEvent
    from order_saga.bootstrap import Wired
    from order_saga.service_layer.dependencies import ConsumerDependencies

PERMANENT_ERRORS: tuple[type[Exception], ...] = (PoisonRecord, OrderNotFound)
"""Errors that the same record raises however often it is retried."""
IDEMPOTENCY_SECONDS = 25 * 60 * 60
"""A stream keeps records 24 hours: a record delivered again always finds its key."""


class _StreamRecord(BaseModel):
    """The envelope every record of a DynamoDB stream batch has; its image is judged later,
    record by record (a bad one is a poison record, not a bad batch)."""

    model_config = ConfigDict(extra="allow", defer_build=True)
    eventName: str  # Lambda's own field names
    dynamodb: dict[str, Any]


class _StreamBatch(BaseModel):
    model_config = ConfigDict(extra="allow", defer_build=True)
    Records: list[_StreamRecord]


@dataclass(frozen=True)
class StreamConsumer:
    name: str
    """Names its logs and metrics."""
    key_prefix: str
    """Its idempotency keys' prefix: every consumer shares the idempotency table."""
    wants: Callable[[RecordedEvent], bool]
    """Whether an event concerns it at all (the others cost no idempotency write)."""
    handle: Callable[[RecordedEvent, Any], dict[str, Any]]
    """Act on one event; returns what it did, as JSON (kept as the idempotent result)."""
    metric: str
    """Counted once per event actually handled (never for a deduplicated delivery)."""


def record_key(record: Mapping[str, Any]) -> dict[str, Any] | None:
    """The record's (stream_id, version) from its Keys, which even a bad image has."""
    keys = (record.get("dynamodb") or {}).get("Keys") or {}
    try:
        return {"stream_id": keys["stream_id"]["S"], "version": int(keys["version"]["N"])}
    except (KeyError, TypeError, ValueError):
        return None


def decode(record: Mapping[str, Any]) -> RecordedEvent:
    """The stored event in a stream record's NewImage, validated as its event class."""
    image = (record.get("dynamodb") or {}).get("NewImage")
    if not image:
        raise PoisonRecord("the record has no NewImage (the stream's view must be NEW_IMAGE)")
    # Imported at first use, as bootstrap.ports() imports boto3: this module reads images
    # with boto3's deserializer, and the handler's import should not load boto3.
    from order_saga.adapters.dynamodb_event_store import record_from_item

    try:
        recorded = record_from_item(image)
        recorded.to_domain()
    # pydantic's ValidationError is a ValueError; a number past DynamoDB's 38 digits makes
    # boto3's deserializer raise decimal.Overflow, an ArithmeticError.
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
        problem = f"missing attribute {exc}" if isinstance(exc, KeyError) else str(exc)
        raise PoisonRecord(f"not an event this store wrote: {problem}") from exc
    return recorded


class ConsumerBatch:
    """One invocation's batch: remembers which streams have failed so far."""

    def __init__(
        self, consumer: StreamConsumer, dependencies: ConsumerDependencies, context: LambdaContext
    ) -> None:
        self.consumer = consumer
        self.dependencies = dependencies
        self.blocked: set[str] = set()
        # Imported here, with the store: Powertools' idempotency package imports boto3.
        from aws_lambda_powertools.utilities.idempotency import (
            IdempotencyConfig,
            idempotent_function,
        )

        config = IdempotencyConfig(expires_after_seconds=IDEMPOTENCY_SECONDS)
        config.register_lambda_context(context)  # a crashed attempt's key frees up in time
        self._settle_once = idempotent_function(
            self._settle,
            data_keyword_argument="key",
            persistence_store=dependencies.idempotency.for_consumer(consumer.key_prefix),
            config=config,
            key_prefix=consumer.key_prefix,
        )

    def process(self, record: DynamoDBRecord) -> dict[str, Any] | None:
        raw = record.raw_event
        key = record_key(raw)
        if key is not None and key["stream_id"] in self.blocked:
            raise EarlierEventFailed(
                f"{key['stream_id']} v{key['version']} waits for an earlier event of its stream"
            )
        try:
            return self._process(raw, key)
        except Exception:
            if key is not None:
                self.blocked.add(key["stream_id"])
            raise

    def _process(self, raw: Mapping[str, Any], key: dict[str, Any] | None) -> dict[str, Any] | None:
        if raw.get("eventName") != "INSERT":
            logger.warning("skipped a stream record that is no append", extra={"key": key})
            return None
        try:
            recorded = decode(raw)
        except PoisonRecord as poison:
            if key is None:  # nothing to key it on: not a record of the event store's table
                return self._fail(raw, poison)
            return self._settle_once(key=key, raw=raw, recorded=None, poison=poison)
        if not self.consumer.wants(recorded):
            return None
        return self._settle_once(key=key, raw=raw, recorded=recorded, poison=None)

    def _settle(
        self,
        *,
        key: dict[str, Any],
        raw: Mapping[str, Any],
        recorded: RecordedEvent | None,
        poison: PoisonRecord | None,
    ) -> dict[str, Any]:
        try:
            if poison is not None:
                raise poison
            assert recorded is not None
            result = self.consumer.handle(recorded, self.dependencies)
        except PERMANENT_ERRORS as error:
            return self._fail(raw, error)
        metrics.add_metric(name=self.consumer.metric, unit=MetricUnit.Count, value=1)
        logger.info("stream record handled", extra={"key": key, "result": result})
        return {"outcome": "handled", **result}

    def _fail(self, raw: Mapping[str, Any], error: Exception) -> dict[str, Any]:
        self.dependencies.failure_queue.send(self.consumer.name, raw, error)
        metrics.add_metric(name="StreamRecordsFailed", unit=MetricUnit.Count, value=1)
        logger.error(
            "stream record sent to the failure queue",
            extra={"key": record_key(raw), "error": repr(error)},
        )
        return {"outcome": "failed", "error": type(error).__name__}


def stream_handler(
    consumer: StreamConsumer, dependencies: Wired[Any]
) -> Callable[[dict[str, Any], LambdaContext], dict[str, Any]]:
    @logger.inject_lambda_context(clear_state=True)
    @tracer.capture_lambda_handler(capture_response=False)
    @metrics.log_metrics
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        logger.append_keys(consumer=consumer.name)
        # Not a batch an event source mapping would send: refused whole, nothing done.
        parse(_StreamBatch, event)
        batch = ConsumerBatch(consumer, dependencies.get(), context)
        response = process_partial_response(
            event=event,
            record_handler=batch.process,
            processor=BatchProcessor(event_type=EventType.DynamoDBStreams),
            context=context,
        )
        return dict(response)

    handler.__name__ = f"{consumer.name}_handler"
    return handler
