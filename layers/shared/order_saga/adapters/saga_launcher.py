"""Starting the saga for a new order: Step Functions on AWS, a list in unit tests."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from order_saga.errors import StorageError

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient


class SagaLauncher(ABC):
    @abstractmethod
    def start(self, order_id: str) -> str:
        """Start the order's saga; the execution is named after the order, so starting it
        twice starts it once. Returns the execution's id."""


class StepFunctionsSagaLauncher(SagaLauncher):
    def __init__(self, state_machine_arn: str, client: SFNClient) -> None:
        self.state_machine_arn = state_machine_arn
        self._client = client

    def start(self, order_id: str) -> str:
        execution_arn = self.state_machine_arn.replace(":stateMachine:", ":execution:", 1)
        try:
            started = self._client.start_execution(
                stateMachineArn=self.state_machine_arn,
                name=order_id,
                input=json.dumps({"order_id": order_id}),
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ExecutionAlreadyExists":
                return f"{execution_arn}:{order_id}"
            raise StorageError(f"starting the saga of order {order_id} failed: {exc}") from exc
        return started["executionArn"]


class RecordingSagaLauncher(SagaLauncher):
    def __init__(self) -> None:
        self.started: list[str] = []

    def start(self, order_id: str) -> str:
        if order_id not in self.started:
            self.started.append(order_id)
        return f"local:{order_id}"
