"""Express workflows locally, as Step Functions runs them: what the service keeps of
them (a CloudWatch Logs record per history event, no execution record) and which states
run twice. moto runs every state machine as a Standard one; local_runtime/patches/express.py
changes that, with these:

- an execution stops hard after five minutes (HARD_STOP_SECONDS, scaled by the
  runtime's time scale), TIMED_OUT, whatever state it is in: no Catch sees it, no
  compensation runs;
- StartExecution is not idempotent: a second start under a name already used starts a
  second execution, with an ARN of its own
  (``arn:aws:states:<region>:<account>:express:<machine>:<name>:<id>``);
- DescribeExecution, GetExecutionHistory and StopExecution refuse an Express ARN
  (InvalidArn) and ListExecutions an Express state machine (StateMachineTypeNotSupported):
  Step Functions keeps no record of Express executions. What they did goes to CloudWatch
  Logs; here the ``ExecutionLog`` holds the same records, every event with its execution
  data, as a log group does for a state machine logging at level ALL (see its docstring
  for where that is more than a deployment gives);
- states run at least once: ``Reruns`` makes a state's work run a second time (its first
  result lost, as when an Express execution's state is retried by the service), so that
  the steps' idempotency is exercised through the state machine itself.

Standard state machines are left exactly as moto runs them.
"""

from __future__ import annotations

import datetime
import json
import threading
from dataclasses import dataclass
from typing import Any

EXPRESS = "EXPRESS"
HARD_STOP_SECONDS = 300
"""An Express execution's longest run (Step Functions quotas), in deployed seconds."""
END_EVENTS = {
    "ExecutionSucceeded": "SUCCEEDED",
    "ExecutionFailed": "FAILED",
    "ExecutionTimedOut": "TIMED_OUT",
    "ExecutionAborted": "ABORTED",
}


def is_express_arn(arn: str) -> bool:
    return arn.split(":")[5:6] == ["express"]


def _details_key(event_type: str) -> str:
    """The history event's field for a log record's details (a log record has one)."""
    if event_type.endswith("StateEntered"):
        return "stateEnteredEventDetails"
    if event_type.endswith("StateExited"):
        return "stateExitedEventDetails"
    return f"{event_type[0].lower()}{event_type[1:]}EventDetails"


class _Configuration:
    include_execution_data = True


class _LogSession:
    """What moto's event manager publishes an execution's events to (its
    CloudWatchLoggingSession's interface)."""

    configuration = _Configuration()

    def __init__(self, log: ExecutionLog, execution_arn: str) -> None:
        self.execution_arn = execution_arn
        self._log = log

    def log_level_filter(self, history_event_type: Any) -> bool:
        return True  # level ALL

    def publish_history_log(self, history_log: dict[str, Any]) -> None:
        self._log.put(history_log)


class ExecutionLog:
    """The Express executions' log records, as Step Functions sends them to CloudWatch
    Logs (one JSON record per history event: id, previous_event_id, event_timestamp,
    type, execution_arn, details), and the few questions asked of them, answered from
    the records alone, as a Logs Insights query would be.

    Where this is more than AWS gives: the template's state machine logs at level ERROR,
    which on AWS records failures only (a succeeded Express execution leaves no record at
    all, and a path is seen only through its failed states); this log keeps every event,
    as level ALL would, so the local runtime and its tests can still ask for an
    execution's path and end. And a log group is eventually consistent (records arrive
    seconds later); these are there at once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: dict[str, list[dict[str, Any]]] = {}
        self._machines: dict[str, str] = {}
        """execution ARN -> its state machine's ARN"""
        self._names: dict[str, list[str]] = {}
        """execution name -> its executions' ARNs, oldest first"""

    def open(self, state_machine_arn: str, name: str, execution_arn: str) -> _LogSession:
        with self._lock:
            self._records[execution_arn] = []
            self._machines[execution_arn] = state_machine_arn
            self._names.setdefault(name, []).append(execution_arn)
        return _LogSession(self, execution_arn)

    def put(self, record: dict[str, Any]) -> None:
        # A round trip through JSON, as the record reaches the log group.
        stored = json.loads(json.dumps(record, default=str))
        with self._lock:
            self._records[stored["execution_arn"]].append(stored)

    def records(self, execution_arn: str) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._records.get(execution_arn, ()))

    def arns_named(self, name: str) -> list[str]:
        """Every execution started under ``name``, oldest first (Express names repeat)."""
        with self._lock:
            return list(self._names.get(name, ()))

    def history(self, execution_arn: str) -> list[dict[str, Any]]:
        """The records as GetExecutionHistory events (timestamps as datetimes)."""
        events = []
        for record in self.records(execution_arn):
            event: dict[str, Any] = {
                "timestamp": datetime.datetime.fromisoformat(record["event_timestamp"]),
                "type": record["type"],
                "id": int(record["id"]),
                "previousEventId": int(record["previous_event_id"]),
            }
            if "details" in record:
                event[_details_key(record["type"])] = record["details"]
            events.append(event)
        return events

    def describe(self, execution_arn: str) -> dict[str, Any] | None:
        """What DescribeExecution would say, from the records; None before the first."""
        records = self.history(execution_arn)
        if not records:
            return None
        started = records[0]
        start_details = started.get("executionStartedEventDetails") or {}
        described: dict[str, Any] = {
            "executionArn": execution_arn,
            "stateMachineArn": self._machines[execution_arn],
            "name": execution_arn.split(":")[7],
            "status": "RUNNING",
            "startDate": started["timestamp"],
            "input": start_details.get("input"),
        }
        # An execution ends once: a record logged after its end (a state that was in
        # flight when it ended, running on unheard) does not make it run again.
        last = next((r for r in records if r["type"] in END_EVENTS), records[-1])
        status = END_EVENTS.get(last["type"])
        if status is not None:
            details = last.get(_details_key(last["type"])) or {}
            described.update(status=status, stopDate=last["timestamp"])
            for field in ("output", "error", "cause"):
                if details.get(field) is not None:
                    described[field] = details[field]
        return described

    def executions(self, state_machine_arn: str, status: str | None = None) -> list[dict[str, Any]]:
        """ListExecutions' items for the state machine, newest first."""
        with self._lock:
            arns = [arn for arn, machine in self._machines.items() if machine == state_machine_arn]
        listed = []
        for arn in arns:
            described = self.describe(arn)
            if described is not None and status in (None, described["status"]):
                listed.append(
                    {
                        key: described[key]
                        for key in ("executionArn", "stateMachineArn", "name", "status")
                    }
                    | {"startDate": described["startDate"]}
                    | ({"stopDate": described["stopDate"]} if "stopDate" in described else {})
                )
        return sorted(listed, key=lambda e: e["startDate"], reverse=True)


@dataclass
class Rerun:
    state: str
    times: int
    order_id: str | None


class Reruns:
    """States whose work runs twice, in the Express executions they aim at."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queued: list[Rerun] = []
        self.fired = 0

    def add(self, state: str, times: int = 1, order_id: str | None = None) -> None:
        with self._lock:
            self._queued.append(Rerun(state, times, order_id))

    def take(self, state: str, execution_input: Any) -> bool:
        order_id = execution_input.get("order_id") if isinstance(execution_input, dict) else None
        with self._lock:
            for index, rerun in enumerate(self._queued):
                if rerun.state == state and rerun.order_id in (None, order_id):
                    rerun.times -= 1
                    if rerun.times <= 0:
                        del self._queued[index]
                    self.fired += 1
                    return True
        return False
