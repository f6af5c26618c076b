"""LocalRuntime: moto with its ASL interpreter, the Lambda Invoke API, the template's
resources, and the composition root wired to them: the whole saga in one process."""

from __future__ import annotations

import gc
import json
import logging
import os
import sys
import threading
from typing import TYPE_CHECKING, Any, cast

import boto3
from moto import mock_aws

from local_runtime import patches
from local_runtime.emulator.api_gateway import API_FUNCTION, proxy_event
from local_runtime.emulator.clock import set_time_scale
from local_runtime.emulator.executions import Execution, SagaExecutions
from local_runtime.emulator.express import ExecutionLog, Reruns
from local_runtime.emulator.lambda_service import Functions, LambdaServer
from local_runtime.emulator.messaging import Messaging
from local_runtime.emulator.metrics_tap import MetricsTap
from local_runtime.emulator.stream_driver import StreamDriver
from local_runtime.emulator.tables import create_tables
from local_runtime.emulator.template import REGION, Template
from local_runtime.patches import express as express_patches
from local_runtime.patches.dynamodb_latency import set_latency
from local_runtime.patches.speed import sdk_session
from ops.redrive import Outcome, redrive

if TYPE_CHECKING:
    from moto.core.config import DefaultConfig

    from order_saga.service_layer.ports import Ports

STATE_MACHINE = "OrderSagaStateMachine"
RECONCILER_FUNCTION = "ReconcilerFunction"
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
EXPRESS_SAGA_TIMEOUTS = ("30", "45", "60")
"""The saga deadlines an EXPRESS workflow deploys with (template rule)."""


class LocalRuntime:
    """Use as a context manager. ``log_level`` is the handlers' Powertools log level."""

    def __init__(
        self,
        template: Template | None = None,
        *,
        log_level: str = "WARNING",
        time_scale: float = 1.0,
        workflow_type: str | None = None,
        dynamodb_latency: float = 0.0,
    ) -> None:
        """``time_scale`` shortens the interpreter's Retry waits and task timeouts and the
        functions' timeouts (see local_runtime.emulator.clock); 1.0 plays them as deployed.
        ``workflow_type`` STANDARD or EXPRESS overrides the template's (its WorkflowType
        parameter); EXPRESS runs as Step Functions runs Express workflows
        (local_runtime/emulator/express.py). ``dynamodb_latency`` (seconds) delays every
        DynamoDB request as the network would, and lets transactions conflict as on AWS
        (local_runtime/patches/dynamodb_latency.py); 0 is moto's instant answer."""
        self.template = template or Template()
        self.log_level = log_level
        self.time_scale = time_scale
        self.dynamodb_latency = dynamodb_latency
        self.workflow_type = workflow_type or str(
            self.template.resolve(
                self.template.resources[STATE_MACHINE]["Properties"].get("Type", "STANDARD")
            )
        )
        if self.workflow_type not in ("STANDARD", "EXPRESS"):
            raise ValueError(f"{STATE_MACHINE} has an unknown Type {self.workflow_type!r}")
        deadline = self.template.parameters.get("SagaTimeoutSeconds")
        if self.express and deadline not in EXPRESS_SAGA_TIMEOUTS:
            # The template's rule ExpressSagaEndsWithinFiveMinutes, which CloudFormation
            # evaluates on deploy and the local runtime does not read.
            raise ValueError(
                f"an EXPRESS saga needs SagaTimeoutSeconds 30, 45 or 60, not {deadline}: "
                "an Express execution stops at 5 minutes, before a later deadline compensates"
            )
        self.execution_log = ExecutionLog()
        """Express executions' records, as CloudWatch Logs would hold them."""
        self.reruns = Reruns()
        self.metrics: MetricsTap | None = None
        self._saved_environment: dict[str, str] | None = None
        self._mock: Any = None
        self.server: LambdaServer | None = None
        self.functions = Functions(self.template.functions())
        self.functions.take_turns(API_FUNCTION)
        self.ports: Ports | None = None
        self._saga: SagaExecutions | None = None
        self.messaging: Messaging | None = None
        self.streams: StreamDriver | None = None
        self._stop_reconciling = threading.Event()
        self._reconciler: threading.Thread | None = None

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
        express_patches.attach(self.execution_log, self.reruns)
        # The tables and the state machine are created at once; the latency starts after.
        set_latency(0.0)
        self.server = LambdaServer(self.functions).start()
        os.environ["AWS_ENDPOINT_URL_LAMBDA"] = self.server.endpoint
        os.environ.update(self.function_environment())
        os.environ["WORKFLOW_TYPE"] = self.workflow_type  # the reconciler's, as deployed
        os.environ["POWERTOOLS_LOG_LEVEL"] = self.log_level
        for name in QUIET_LOGGERS:
            logging.getLogger(name).setLevel(logging.CRITICAL)
        create_tables(self.template, boto3.client("dynamodb"))
        self.messaging = Messaging(self.template).create()
        self.streams = StreamDriver(
            self.template, self.functions, on_delivered=self.messaging.collect_taps
        )
        self.state_machine_arn = self._create_state_machine()
        self._saga = SagaExecutions(
            self.state_machine_arn, self.execution_log if self.express else None
        )
        bootstrap.use(None)
        self.ports = bootstrap.ports()
        set_latency(self.dynamodb_latency)
        # Everything loaded so far (moto's and botocore's service models, the parsed
        # ASL, the handlers' modules) lives as long as the runtime: out of the
        # collector's sight, each full collection no longer walks it (a twentieth of
        # the CPU of hundreds of sagas at once).
        gc.collect()
        gc.freeze()

    def stop(self) -> None:
        from order_saga import bootstrap

        gc.unfreeze()
        self._stop_reconciling.set()
        if self._reconciler is not None:
            self._reconciler.join()
            self._reconciler = None
        set_latency(0.0)
        bootstrap.use(None)
        self._saga = None
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
        created = boto3.client("stepfunctions").create_state_machine(
            name=name,
            definition=json.dumps(definition),
            roleArn=f"arn:aws:iam::{self.template.ref('AWS::AccountId')}:role/{name}Role",
            type="EXPRESS" if self.express else "STANDARD",
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

    def rebuild_views(self) -> dict[str, int]:
        """ops.rebuild_views on the local tables: every order's summary again from the
        store (the counts of what it did)."""
        from order_saga.service_layer.projection import rebuild

        assert self.ports is not None and self.ports.read_model is not None
        return rebuild(self.ports.store, self.ports.read_model)

    def drain_streams(self, *, wait: float | None = None, budget: float | None = None) -> int:
        """Run the stream consumers on everything appended so far, as their event source
        mappings would (local_runtime/emulator/stream_driver.py); returns the records read.
        ``wait`` and ``budget`` bound the time it takes (StreamDriver.drain)."""
        assert self.streams is not None, "the runtime is not started"
        return self.streams.drain(wait=wait, budget=budget)

    def reconcile(self, after_seconds: float = 0.0) -> dict[str, Any]:
        """Run the reconciler now, through the Lambda service as its schedule would (so
        injected faults apply), looking at orders older than ``after_seconds``; returns
        what it did (order ids started and re-driven, how many left running)."""
        result, error = self.functions.invoke(RECONCILER_FUNCTION, {"after_seconds": after_seconds})
        if error:
            raise RuntimeError(f"the reconciler failed: {result}")
        return dict(result)

    def start_reconciling(self, every_seconds: float, after_seconds: float) -> None:
        """Run the reconciler in the background every ``every_seconds`` (for `make serve`,
        as EventBridge Scheduler runs it on AWS); stops with the runtime."""

        def loop() -> None:
            while not self._stop_reconciling.wait(every_seconds):
                try:
                    self.reconcile(after_seconds)
                except Exception:  # logged by the handler; the next run tries again
                    logging.getLogger(__name__).exception("the reconciler failed")

        self._stop_reconciling.clear()
        self._reconciler = threading.Thread(target=loop, daemon=True, name="reconciler")
        self._reconciler.start()

    @property
    def express(self) -> bool:
        return self.workflow_type == "EXPRESS"

    def _executions(self) -> SagaExecutions:
        assert self._saga is not None, "the runtime is not started"
        return self._saga

    def execution_arn(self, order_id: str) -> str:
        """The order's saga execution (an Express name may have several: the latest)."""
        return self._executions().arn(order_id)

    def describe(self, execution_arn: str) -> dict[str, Any]:
        """DescribeExecution's answer; for Express, read from the execution log."""
        return self._executions().describe(execution_arn)

    def executions(
        self, status: str | None = None, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """ListExecutions' items for the saga, newest first (only the newest ``limit``
        when given); for Express, from the log."""
        return self._executions().listed(status, limit)

    def running(self) -> set[str]:
        """Names (order ids) of the saga executions still running."""
        return {execution["name"] for execution in self.executions("RUNNING")}

    def history(self, execution_arn: str) -> list[dict[str, Any]]:
        """GetExecutionHistory's events; for Express, read from the execution log."""
        return self._executions().history(execution_arn)

    def wait(self, order_id: str, timeout: float = 60.0) -> Execution:
        """Block until the order's saga execution ends; returns what it did."""
        return self._executions().wait(order_id, timeout)

    def wait_for_end(self, order_id: str, timeout: float = 60.0) -> dict[str, Any]:
        """Block until the order's execution ends; its DescribeExecution answer (wait()
        without reading the history)."""
        return self._executions().wait_for_end(order_id, timeout)

    def rerun(self, state: str, times: int = 1, *, order_id: str | None = None) -> None:
        """Run ``state``'s work twice in the next ``times`` Express executions (of
        ``order_id`` only, when given): at-least-once state execution. A Standard workflow
        runs each state exactly once, so this is refused there."""
        if not self.express:
            raise ValueError("a STANDARD workflow runs each state exactly once")
        self.reruns.add(state, times, order_id)
