"""Starting the saga for a new order: Step Functions on AWS, a list in unit tests.

An order's first execution is named after the order, so a second start of it (the API's
fast path, then the stream relay; a relay record delivered twice) starts nothing new on a
STANDARD workflow. A re-drive (the reconciler, after an execution ended without ending its
order) runs as ``<order id>-r<n>``.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from order_saga.errors import SagaStartThrottled, StorageError

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient

RUNNING = "RUNNING"


def redrive_name(order_id: str, attempt: int) -> str:
    """The name of the order's ``attempt``-th re-driven execution (attempt >= 1)."""
    return f"{order_id}-r{attempt}"


class SagaLauncher(ABC):
    @abstractmethod
    def start(self, order_id: str, name: str | None = None) -> str:
        """Start the order's saga as execution ``name`` (default: the order id); starting
        a name twice starts it once. Returns the execution's id."""

    @abstractmethod
    def status(self, name: str) -> str | None:
        """The status of the execution ``name`` (RUNNING, SUCCEEDED, FAILED, TIMED_OUT,
        ABORTED), None when there is none. A STANDARD workflow only: Step Functions keeps
        no record of EXPRESS executions."""


class StepFunctionsSagaLauncher(SagaLauncher):
    def __init__(self, state_machine_arn: str, client: SFNClient) -> None:
        self.state_machine_arn = state_machine_arn
        self._client = client

    def execution_arn(self, name: str) -> str:
        prefix = self.state_machine_arn.replace(":stateMachine:", ":execution:", 1)
        return f"{prefix}:{name}"

    def start(self, order_id: str, name: str | None = None) -> str:
        name = name or order_id
        try:
            started = self._client.start_execution(
                stateMachineArn=self.state_machine_arn,
                name=name,
                input=json.dumps({"order_id": order_id}),
            )
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            if code == "ExecutionAlreadyExists":
                return self.execution_arn(name)
            if code == "ThrottlingException":
                raise SagaStartThrottled(
                    f"starting the saga of order {order_id} was throttled: {exc}"
                ) from exc
            raise StorageError(f"starting the saga of order {order_id} failed: {exc}") from exc
        return started["executionArn"]

    def status(self, name: str) -> str | None:
        try:
            described = self._client.describe_execution(executionArn=self.execution_arn(name))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ExecutionDoesNotExist":
                return None
            raise StorageError(f"describing execution {name} failed: {exc}") from exc
        return str(described["status"])


class RecordingSagaLauncher(SagaLauncher):
    """Executions as a dict of name -> status; ``finish`` ends one (unit tests)."""

    def __init__(self) -> None:
        self.started: list[str] = []
        """Order ids, once each, in the order of their first start."""
        self.executions: dict[str, str] = {}

    def start(self, order_id: str, name: str | None = None) -> str:
        name = name or order_id
        if order_id not in self.started:
            self.started.append(order_id)
        self.executions.setdefault(name, RUNNING)
        return f"local:{name}"

    def status(self, name: str) -> str | None:
        return self.executions.get(name)

    def finish(self, name: str, status: str = "SUCCEEDED") -> None:
        self.executions[name] = status
