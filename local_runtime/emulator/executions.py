"""The saga's executions as Step Functions reports them: through its API
(DescribeExecution, ListExecutions, GetExecutionHistory) for a Standard workflow; for an
Express one, of which Step Functions keeps no record, from its CloudWatch Logs records
(local_runtime/emulator/express.py), as an operator reads them there."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import boto3

from local_runtime.patches.hooks import finished

if TYPE_CHECKING:
    from local_runtime.emulator.express import ExecutionLog

POLL_MAX = 1.0
"""wait() is woken when the execution ends; it looks again at least this often."""


class ExecutionNotFound(LookupError):
    """No saga execution of that name or ARN (ExecutionDoesNotExist, or no log record)."""


@dataclass(frozen=True)
class Execution:
    order_id: str
    arn: str
    status: str
    error: str | None
    cause: str | None
    output: dict[str, Any] | None
    path: list[str]
    """The states entered, in order."""
    state_transitions: int
    """States entered plus retried attempts: what a STANDARD workflow bills."""
    lambda_invocations: int
    duration_ms: float


class SagaExecutions:
    """The executions of one state machine; ``log`` is given for an Express one."""

    def __init__(self, state_machine_arn: str, log: ExecutionLog | None = None) -> None:
        self.state_machine_arn = state_machine_arn
        self._log = log
        self._client: Any = None

    def _stepfunctions(self) -> Any:
        """One client for every wait: building one costs more than the call."""
        if self._client is None:
            self._client = boto3.client("stepfunctions")
        return self._client

    def arn(self, order_id: str) -> str:
        """The order's saga execution (an Express name may have several: the latest)."""
        if self._log is not None:
            started = self._log.arns_named(order_id)
            if not started:
                raise ExecutionNotFound(f"no execution {order_id}")
            return started[-1]
        return f"{self.state_machine_arn.replace(':stateMachine:', ':execution:', 1)}:{order_id}"

    def describe(self, execution_arn: str) -> dict[str, Any]:
        """DescribeExecution's answer; for Express, read from the execution log."""
        if self._log is not None:
            described = self._log.describe(execution_arn)
            if described is None:
                raise ExecutionNotFound(f"no execution {execution_arn}")
            return described
        client = self._stepfunctions()
        try:
            return cast("dict[str, Any]", client.describe_execution(executionArn=execution_arn))
        except client.exceptions.ExecutionDoesNotExist:
            raise ExecutionNotFound(f"no execution {execution_arn}") from None

    def listed(self, status: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
        """ListExecutions' items, newest first; for Express, from the log. With ``limit``,
        only the newest that many: one page, so it costs the same whatever the history."""
        if self._log is not None:
            logged = self._log.executions(self.state_machine_arn, status)
            return logged[:limit] if limit else logged
        client = self._stepfunctions()
        request: dict[str, Any] = {
            "stateMachineArn": self.state_machine_arn,
            "maxResults": limit or 1000,
        }
        if status:
            request["statusFilter"] = status
        listed: list[dict[str, Any]] = []
        while True:
            page = client.list_executions(**request)
            listed.extend(cast("list[dict[str, Any]]", page["executions"]))
            if limit or not page.get("nextToken"):
                return listed
            request["nextToken"] = page["nextToken"]

    def history(self, execution_arn: str) -> list[dict[str, Any]]:
        """GetExecutionHistory's events; for Express, read from the execution log."""
        if self._log is not None:
            return self._log.history(execution_arn)
        client = self._stepfunctions()
        events: list[dict[str, Any]] = []
        request: dict[str, Any] = {"executionArn": execution_arn, "maxResults": 1000}
        while True:
            page = client.get_execution_history(**request)
            events.extend(cast("list[dict[str, Any]]", page["events"]))
            if not page.get("nextToken"):
                return events
            request["nextToken"] = page["nextToken"]

    def wait(self, order_id: str, timeout: float) -> Execution:
        """Block until the order's saga execution ends; returns what it did."""
        described = self.wait_for_end(order_id, timeout)
        arn = described["executionArn"]
        history = self.history(arn)
        entered = [e for e in history if e["type"].endswith("StateEntered")]
        lambda_calls = sum(1 for e in history if e["type"] == "LambdaFunctionScheduled")
        stop = described.get("stopDate") or described["startDate"]
        return Execution(
            order_id=order_id,
            arn=arn,
            status=described["status"],
            error=described.get("error"),
            cause=described.get("cause"),
            output=json.loads(described["output"]) if described.get("output") else None,
            path=[e["stateEnteredEventDetails"]["name"] for e in entered],
            state_transitions=len(entered) + retries(history),
            lambda_invocations=lambda_calls,
            duration_ms=(stop - described["startDate"]).total_seconds() * 1000,
        )

    def wait_for_end(self, order_id: str, timeout: float) -> dict[str, Any]:
        """Block until the order's execution ends; its DescribeExecution answer (wait()
        without reading the history)."""
        deadline = time.monotonic() + timeout
        arn = self._started(order_id, deadline)
        ended = finished(arn)
        while True:
            # Woken when the interpreter records the end; each poll would be a
            # request through moto, taking CPU from the sagas being waited for.
            ended.wait(max(0.0, min(POLL_MAX, deadline - time.monotonic())))
            described = self.describe(arn)
            if described["status"] != "RUNNING":
                return described
            if time.monotonic() > deadline:
                raise TimeoutError(f"execution {order_id} still running after {timeout}s")

    def _started(self, order_id: str, deadline: float) -> str:
        """The execution's ARN; an Express one is known once it has logged its start."""
        while True:
            try:
                return self.arn(order_id)
            except ExecutionNotFound:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.01)


def retries(history: list[dict[str, Any]]) -> int:
    """Task attempts beyond the first in each task state: each is billed as a transition."""
    extra = 0
    attempts = 0
    for event in history:
        if event["type"] == "TaskStateEntered":
            attempts = 0
        elif event["type"] in ("LambdaFunctionScheduled", "TaskScheduled"):
            attempts += 1
            extra += attempts > 1
    return extra
