"""A Powertools idempotency persistence layer on a dict, with the DynamoDB layer's rules."""

from __future__ import annotations

import datetime as dt
import threading

from aws_lambda_powertools.utilities.idempotency import BasePersistenceLayer
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyItemAlreadyExistsError,
    IdempotencyItemNotFoundError,
)
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import (
    STATUS_CONSTANTS,
    DataRecord,
)

from order_saga.adapters.idempotency import IdempotencyStores


class InMemoryPersistenceLayer(BasePersistenceLayer):
    """For the unit tests: every layer built on the same ``records`` sees the same keys."""

    def __init__(self, records: dict[str, DataRecord] | None = None) -> None:
        super().__init__()
        self.records = {} if records is None else records
        self._lock = threading.Lock()

    def _get_record(self, idempotency_key: str) -> DataRecord:
        with self._lock:
            if idempotency_key not in self.records:
                raise IdempotencyItemNotFoundError
            return self.records[idempotency_key]

    def _put_record(self, data_record: DataRecord) -> None:
        now_ms = dt.datetime.now().timestamp() * 1000
        with self._lock:
            existing = self.records.get(data_record.idempotency_key)
            if existing is not None and not existing.is_expired:
                in_progress_lapsed = (
                    existing.status == STATUS_CONSTANTS["INPROGRESS"]
                    and existing.in_progress_expiry_timestamp is not None
                    and existing.in_progress_expiry_timestamp < now_ms
                )
                if not in_progress_lapsed:
                    raise IdempotencyItemAlreadyExistsError(old_data_record=existing)
            self.records[data_record.idempotency_key] = data_record

    def _update_record(self, data_record: DataRecord) -> None:
        with self._lock:
            self.records[data_record.idempotency_key] = data_record

    def _delete_record(self, data_record: DataRecord) -> None:
        with self._lock:
            self.records.pop(data_record.idempotency_key, None)


def in_memory_stores() -> IdempotencyStores:
    records: dict[str, DataRecord] = {}
    return IdempotencyStores(lambda: InMemoryPersistenceLayer(records))
