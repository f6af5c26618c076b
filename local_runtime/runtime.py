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
from urllib.parse import parse_qsl

import boto3
import botocore.session
from botocore import UNSIGNED
from botocore.config import Config
from moto import mock_aws

from local_runtime import express, moto_patches, strict_aws
from local_runtime.clock import set_time_scale
from local_runtime.lambda_service import Functions, LambdaServer
from local_runtime.messaging import Messaging
from local_runtime.metrics_tap import MetricsTap
from local_runtime.stream_driver import StreamDriver
from local_runtime.template import REGION, Template
from ops.redrive import Outcome, redrive

if TYPE_CHECKING:
    from moto.core.config import DefaultConfig

    from order_saga.service_layer.ports import Ports

STATE_MACHINE = "OrderSagaStateMachine"
API_FUNCTION = "ApiFunction"
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
    # Notifications are kept (runtime.ports.notifier), not sent: see local_runtime/inspection.py.
    "NOTIFIER": "recording",
    # No authorizer runs locally: the Api function takes X-Customer-Id / X-Role instead.
    "LOCAL_IDENTITY_HEADERS": "true",
}
# moto logs every failed execution as an error; here a failed execution is an order
# cancelled on purpose, and Execution reports it.
QUIET_LOGGERS = ("moto.stepfunctions.parser",)
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


class LocalRuntime:
    """Use as a context manager. ``log_level`` is the handlers' Powertools log level."""

    def __init__(
        self,
        template: Template | None = None,
        *,
        log_level: str = "WARNING",
        time_scale: float = 1.0,
        workflow_type: str | None = None,
    ) -> None:
        """``time_scale`` shortens the interpreter's Retry waits and task timeouts and the
        functions' timeouts (see local_runtime.clock); 1.0 plays them as deployed.
        ``workflow_type`` STANDARD or EXPRESS overrides the template's (its WorkflowType
        parameter); EXPRESS runs as Step Functions runs Express workflows
        (local_runtime/express.py)."""
        self.template = template or Template()
        self.log_level = log_level
        self.time_scale = time_scale
        self.workflow_type = workflow_type or str(
            self.template.resolve(
                self.template.resources[STATE_MACHINE]["Properties"].get("Type", "STANDARD")
            )
        )
        if self.workflow_type not in ("STANDARD", "EXPRESS"):
            raise ValueError(f"{STATE_MACHINE} has an unknown Type {self.workflow_type!r}")
        self.execution_log = express.ExecutionLog()
        """Express executions' records, as CloudWatch Logs would hold them."""
        self.reruns = express.Reruns()
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
        moto_patches.apply()  # moto made safe and lean for many sagas at once
        strict_aws.apply()  # and as strict as Step Functions where it is lenient
        express.install(self.execution_log, self.reruns)
        boto3.setup_default_session(botocore_session=_lean_session())
        self.server = LambdaServer(self.functions).start()
        os.environ["AWS_ENDPOINT_URL_LAMBDA"] = self.server.endpoint
        os.environ.update(self.function_environment())
        os.environ["POWERTOOLS_LOG_LEVEL"] = self.log_level
        for name in QUIET_LOGGERS:
            logging.getLogger(name).setLevel(logging.CRITICAL)
        create_tables(self.template, boto3.client("dynamodb"))
        self.messaging = Messaging(self.template).create()
        self.streams = StreamDriver(self.template, self.functions)
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

    def drain_streams(self) -> int:
        """Run the stream consumers on everything appended so far, as their event source
        mappings would (local_runtime/stream_driver.py); returns the records read."""
        assert self.streams is not None, "the runtime is not started"
        return self.streams.drain()

    @property
    def express(self) -> bool:
        return self.workflow_type == "EXPRESS"

    def execution_arn(self, order_id: str) -> str:
        """The order's saga execution (an Express name may have several: the latest)."""
        if self.express:
            started = self.execution_log.arns_named(order_id)
            if not started:
                raise ExecutionNotFound(f"no execution {order_id}")
            return started[-1]
        return f"{self.state_machine_arn.replace(':stateMachine:', ':execution:', 1)}:{order_id}"

    def describe(self, execution_arn: str) -> dict[str, Any]:
        """DescribeExecution's answer; for Express, read from the execution log."""
        if self.express:
            described = self.execution_log.describe(execution_arn)
            if described is None:
                raise ExecutionNotFound(f"no execution {execution_arn}")
            return described
        client = self._stepfunctions()
        try:
            return cast("dict[str, Any]", client.describe_execution(executionArn=execution_arn))
        except client.exceptions.ExecutionDoesNotExist:
            raise ExecutionNotFound(f"no execution {execution_arn}") from None

    def executions(self, status: str | None = None) -> list[dict[str, Any]]:
        """ListExecutions' items for the saga, newest first; for Express, from the log."""
        if self.express:
            return self.execution_log.executions(self.state_machine_arn, status)
        client = self._stepfunctions()
        request: dict[str, Any] = {"stateMachineArn": self.state_machine_arn, "maxResults": 1000}
        if status:
            request["statusFilter"] = status
        listed: list[dict[str, Any]] = []
        while True:
            page = client.list_executions(**request)
            listed.extend(cast("list[dict[str, Any]]", page["executions"]))
            if not page.get("nextToken"):
                return listed
            request["nextToken"] = page["nextToken"]

    def running(self) -> set[str]:
        """Names (order ids) of the saga executions still running."""
        return {execution["name"] for execution in self.executions("RUNNING")}

    def rerun(self, state: str, times: int = 1, *, order_id: str | None = None) -> None:
        """Run ``state``'s work twice in the next ``times`` Express executions (of
        ``order_id`` only, when given): at-least-once state execution. A Standard workflow
        runs each state exactly once, so this is refused there."""
        if not self.express:
            raise ValueError("a STANDARD workflow runs each state exactly once")
        self.reruns.add(state, times, order_id)

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
        deadline = time.monotonic() + timeout
        arn = self._started(order_id, deadline)
        ended = moto_patches.finished(arn)
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
                return self.execution_arn(order_id)
            except ExecutionNotFound:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.01)

    def history(self, execution_arn: str) -> list[dict[str, Any]]:
        """GetExecutionHistory's events; for Express, read from the execution log."""
        if self.express:
            return self.execution_log.history(execution_arn)
        client = self._stepfunctions()
        events: list[dict[str, Any]] = []
        request: dict[str, Any] = {"executionArn": execution_arn, "maxResults": 1000}
        while True:
            page = client.get_execution_history(**request)
            events.extend(cast("list[dict[str, Any]]", page["events"]))
            if not page.get("nextToken"):
                return events
            request["nextToken"] = page["nextToken"]


def _lean_session() -> botocore.session.Session:
    """A session whose clients (the handlers' among them) sign nothing, since moto
    checks no signatures, and send a fixed User-Agent instead of rebuilding botocore's
    twice per request: together a fifth of every request's CPU. Its pools keep a
    connection to the Lambda server for every saga in flight (botocore keeps 10)."""
    session = botocore.session.get_session()
    session.set_default_client_config(
        Config(
            signature_version=UNSIGNED,
            user_agent="order-saga-local-runtime",
            max_pool_connections=256,
        )
    )
    return session


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


def create_tables(template: Template, dynamodb: Any, prefix: str = "") -> dict[str, str]:
    """Every AWS::DynamoDB::Table of the template, with its own keys, indexes and stream.
    Returns the table names by logical id (each name is ``prefix`` + the template's)."""
    names = {}
    for table in template.tables().values():
        props = template.resolve(table.properties)
        name = names[table.logical_id] = prefix + table.name
        request: dict[str, Any] = {
            "TableName": name,
            "KeySchema": props["KeySchema"],
            "AttributeDefinitions": props["AttributeDefinitions"],
            "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
        }
        if "GlobalSecondaryIndexes" in props:
            request["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
        if "StreamSpecification" in props:
            request["StreamSpecification"] = {
                "StreamEnabled": True,
                **props["StreamSpecification"],
            }
        dynamodb.create_table(**request)
        ttl = props.get("TimeToLiveSpecification")
        if ttl:
            dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
    return names


def proxy_event(
    method: str,
    path: str,
    body: Any,
    headers: dict[str, str],
    *,
    resource: str | None = None,
    path_parameters: dict[str, str] | None = None,
    source_ip: str = "127.0.0.1",
    base64_body: bool = False,
) -> dict[str, Any]:
    """An API Gateway REST (v1) proxy event, as `sam local start-api` would build it.
    ``resource`` is the matched route ("/orders/{order_id}"); the path stays as sent."""
    path_only, _, query = path.partition("?")
    pairs = parse_qsl(query, keep_blank_values=True)
    multi_query: dict[str, list[str]] = {}
    for key, value in pairs:
        multi_query.setdefault(key, []).append(value)
    all_headers = dict(headers)
    if body is not None and not any(key.lower() == "content-type" for key in headers):
        all_headers["Content-Type"] = "application/json"
    return {
        "resource": resource or path_only,
        "path": path_only,
        "httpMethod": method.upper(),
        "headers": all_headers,
        "multiValueHeaders": {key: [value] for key, value in all_headers.items()},
        "queryStringParameters": {key: values[-1] for key, values in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": path_parameters,
        "requestContext": {
            "httpMethod": method.upper(),
            "path": path_only,
            "resourcePath": resource or path_only,
            "stage": "local",
            "requestId": f"local-{time.monotonic_ns()}",
            "identity": {"sourceIp": source_ip},
            "authorizer": {},
        },
        "body": body if isinstance(body, str) or body is None else json.dumps(body),
        "isBase64Encoded": base64_body,
    }
