"""LocalRuntime: moto with its ASL interpreter, the Lambda Invoke API, the template's
resources, and the composition root wired to them: the whole saga in one process."""

from __future__ import annotations

import gc
import json
import logging
import os
import sys
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import boto3
from moto import mock_aws

from local_runtime import patches
from local_runtime.emulator.api_gateway import API_FUNCTION, proxy_event
from local_runtime.emulator.clock import set_time_scale
from local_runtime.emulator.lambda_service import Functions, LambdaServer
from local_runtime.emulator.messaging import Messaging
from local_runtime.emulator.metrics_tap import MetricsTap
from local_runtime.emulator.stream_driver import StreamDriver
from local_runtime.emulator.tables import create_tables
from local_runtime.emulator.template import REGION, Template
from local_runtime.patches.hooks import finished
from local_runtime.patches.speed import sdk_session
from ops.redrive import Outcome, redrive

if TYPE_CHECKING:
    from moto.core.config import DefaultConfig

    from order_saga.service_layer.ports import Ports

STATE_MACHINE = "OrderSagaStateMachine"
MANUAL_REVIEW_QUEUE = "ManualReviewQueue"
MOTO_CONFIG: dict[str, Any] = {
    "stepfunctions": {"execute_state_machine": True},
    # moto cannot run Lambda code without Docker: its Lambda calls go to LambdaServer.
    "core": {"passthrough": {"services": ["lambda"]}},
}
LOCAL_ENVIRONMENT = {
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "POWERTOOLS_TRACE_DISABLED": "true",
    # Notifications are kept (runtime.ports.notifier), not sent (see console/inspection.py).
    "NOTIFIER": "recording",
    # No authorizer runs locally: the Api function takes X-Customer-Id / X-Role instead.
    "LOCAL_IDENTITY_HEADERS": "true",
}
# moto logs every failed execution as an error; here a failed execution is an order
# cancelled on purpose, and Execution reports it.
QUIET_LOGGERS = ("moto.stepfunctions.parser",)
POLL_MAX = 1.0
"""wait() is woken when the execution ends; it looks again at least this often."""


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


class LocalRuntime:
    """Use as a context manager. ``log_level`` is the handlers' Powertools log level."""

    def __init__(
        self,
        template: Template | None = None,
        *,
        log_level: str = "WARNING",
        time_scale: float = 1.0,
    ) -> None:
        """``time_scale`` shortens the interpreter's Retry waits and task timeouts and the
        functions' timeouts (see local_runtime.emulator.clock); 1.0 plays them as deployed."""
        self.template = template or Template()
        self.log_level = log_level
        self.time_scale = time_scale
        self.metrics: MetricsTap | None = None
        self._saved_environment: dict[str, str] | None = None
        self._mock: Any = None
        self.server: LambdaServer | None = None
        self.functions = Functions(self.template.functions())
        self.functions.take_turns(API_FUNCTION)
        self.ports: Ports | None = None
        self._sfn: Any = None
        self.messaging: Messaging | None = None
        self.streams: StreamDriver | None = None

    def __enter__(self) -> LocalRuntime:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- lifecycle -------------------------------------------------------------------

    def start(self) -> None:
        from order_saga import bootstrap

        self._saved_environment = dict(os.environ)
        self.metrics = self.functions.metrics = MetricsTap(sys.stdout)
        set_time_scale(self.time_scale)
        os.environ.update(LOCAL_ENVIRONMENT)
        self._mock = mock_aws(config=cast("DefaultConfig", MOTO_CONFIG))
        self._mock.start()
        patches.apply()  # moto made safe and lean for many sagas at once
        sdk_session.install()
        self.server = LambdaServer(self.functions).start()
        os.environ["AWS_ENDPOINT_URL_LAMBDA"] = self.server.endpoint
        os.environ.update(self.function_environment())
        os.environ["POWERTOOLS_LOG_LEVEL"] = self.log_level
        for name in QUIET_LOGGERS:
            logging.getLogger(name).setLevel(logging.CRITICAL)
        create_tables(self.template, boto3.client("dynamodb"))
        self.messaging = Messaging(self.template).create()
        self.streams = StreamDriver(
            self.template, self.functions, on_delivered=self.messaging.collect_taps
        )
        self.state_machine_arn = self._create_state_machine()
        bootstrap.use(None)
        self.ports = bootstrap.ports()
        # Everything loaded so far (moto's and botocore's service models, the parsed
        # ASL, the handlers' modules) lives as long as the runtime: out of the
        # collector's sight, each full collection no longer walks it (a twentieth of
        # the CPU of hundreds of sagas at once).
        gc.collect()
        gc.freeze()

    def stop(self) -> None:
        from order_saga import bootstrap

        gc.unfreeze()
        bootstrap.use(None)
        self._sfn = None
        if self.streams is not None:
            self.streams.stop()
            self.streams = None
        if self.server is not None:
            self.server.stop()
            self.server = None
        if self._mock is not None:
            self._mock.stop()
            self._mock = None
        if self._saved_environment is not None:
            os.environ.clear()
            os.environ.update(self._saved_environment)
            self._saved_environment = None
        if self.metrics is not None:
            self.metrics.uninstall()

    def function_environment(self) -> dict[str, str]:
        """All functions share this process, so their variables must agree."""
        merged: dict[str, str] = {}
        for spec in self.functions.specs.values():
            for key, value in spec.environment.items():
                if merged.setdefault(key, value) != value:
                    raise ValueError(f"functions disagree on {key}: {merged[key]} vs {value}")
        return merged

    def _create_state_machine(self) -> str:
        name, definition = self.template.state_machine(STATE_MACHINE)
        props = self.template.resources[STATE_MACHINE]["Properties"]
        workflow_type = self.template.resolve(props.get("Type", "STANDARD"))
        if workflow_type not in ("STANDARD", "EXPRESS"):
            raise ValueError(f"{STATE_MACHINE} has an unknown Type {workflow_type!r}")
        created = boto3.client("stepfunctions").create_state_machine(
            name=name,
            definition=json.dumps(definition),
            roleArn=f"arn:aws:iam::{self.template.ref('AWS::AccountId')}:role/{name}Role",
            type=workflow_type,
        )
        return str(created["stateMachineArn"])

    # -- using it --------------------------------------------------------------------

    def api(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        """Call the Api function with an API Gateway proxy event; (status, body, headers)."""
        event = proxy_event(method, path, body, headers or {})
        response, error = self.functions.invoke(API_FUNCTION, event)
        if error:
            raise RuntimeError(f"the Api function failed: {response}")
        return (
            int(response["statusCode"]),
            json.loads(response.get("body") or "null"),
            dict(response.get("headers") or {}),
        )

    def _stepfunctions(self) -> Any:
        """One client for every wait: building one costs more than the call."""
        if self._sfn is None:
            self._sfn = boto3.client("stepfunctions")
        return self._sfn

    def queue_url(self, logical_id: str) -> str:
        return str(boto3.client("sqs").get_queue_url(QueueName=logical_id)["QueueUrl"])

    def manual_review_items(self) -> list[dict[str, Any]]:
        """The manual-review queue's messages, left on the queue."""
        sqs = boto3.client("sqs")
        received = sqs.receive_message(
            QueueUrl=self.queue_url(MANUAL_REVIEW_QUEUE),
            MaxNumberOfMessages=10,
            VisibilityTimeout=0,
        )
        return [json.loads(message["Body"]) for message in received.get("Messages", [])]

    def redrive(self) -> list[Outcome]:
        """ops.redrive against the local queue and the local Lambda service."""
        return redrive(self.queue_url(MANUAL_REVIEW_QUEUE))

    def drain_streams(self, *, wait: float | None = None, budget: float | None = None) -> int:
        """Run the stream consumers on everything appended so far, as their event source
        mappings would (local_runtime/emulator/stream_driver.py); returns the records read.
        ``wait`` and ``budget`` bound the time it takes (StreamDriver.drain)."""
        assert self.streams is not None, "the runtime is not started"
        return self.streams.drain(wait=wait, budget=budget)

    def execution_arn(self, order_id: str) -> str:
        return f"{self.state_machine_arn.replace(':stateMachine:', ':execution:', 1)}:{order_id}"

    def wait(self, order_id: str, timeout: float = 60.0) -> Execution:
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

    def wait_for_end(self, order_id: str, timeout: float = 60.0) -> dict[str, Any]:
        """Block until the order's execution ends; its DescribeExecution answer (wait()
        without reading the history)."""
        client = self._stepfunctions()
        arn = self.execution_arn(order_id)
        deadline = time.monotonic() + timeout
        ended = finished(arn)
        while True:
            # Woken when the interpreter records the end; each poll would be a
            # request through moto, taking CPU from the sagas being waited for.
            ended.wait(max(0.0, min(POLL_MAX, deadline - time.monotonic())))
            described = cast("dict[str, Any]", client.describe_execution(executionArn=arn))
            if described["status"] != "RUNNING":
                return described
            if time.monotonic() > deadline:
                raise TimeoutError(f"execution {order_id} still running after {timeout}s")

    def history(self, execution_arn: str) -> list[dict[str, Any]]:
        client = self._stepfunctions()
        events: list[dict[str, Any]] = []
        request: dict[str, Any] = {"executionArn": execution_arn, "maxResults": 1000}
        while True:
            page = client.get_execution_history(**request)
            events.extend(cast("list[dict[str, Any]]", page["events"]))
            if not page.get("nextToken"):
                return events
            request["nextToken"] = page["nextToken"]


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
