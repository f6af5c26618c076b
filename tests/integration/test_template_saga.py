"""The hardened saga as deployed: the ASL's timeouts, retries and catches agree with the
functions and the errors; no step may touch the idempotency table, and none writes to it
(the aggregates refuse double effects); the manual-review queue, the alarms and the
saga's time limit are in place.

The template is read with local_runtime.emulator.template (intrinsics resolved to local names),
the ASL with its DefinitionSubstitutions applied.
"""

from __future__ import annotations

import importlib.util
import inspect
import re
import sys
import uuid
import warnings
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from local_runtime.emulator.template import Template
from order_saga import bootstrap, errors
from order_saga.adapters.catalog import InMemoryCatalog
from order_saga.adapters.event_store import InMemoryEventStore
from order_saga.adapters.in_memory_idempotency import in_memory_stores
from order_saga.adapters.payment_gateway import SimulatedPaymentGateway
from order_saga.domain.commands import CreateOrder, ItemRequest, ProcessPayment, ReserveInventory
from order_saga.domain.values import Address
from order_saga.service_layer import inventory, orders, payments
from order_saga.service_layer.catalog import stock_product
from order_saga.service_layer.ports import Ports

ROOT = Path(__file__).resolve().parents[2]
STATE_MACHINE = "OrderSagaStateMachine"
TEMPLATE = Template()
FUNCTIONS = TEMPLATE.functions()
_, ASL = TEMPLATE.state_machine(STATE_MACHINE)
STATES: dict[str, dict[str, Any]] = ASL["States"]
ARN_TO_FUNCTION = {spec.arn: logical_id for logical_id, spec in FUNCTIONS.items()}
LAMBDA_TASKS = {
    name: ARN_TO_FUNCTION[state["Resource"]]
    for name, state in STATES.items()
    if state["Type"] == "Task" and state["Resource"] in ARN_TO_FUNCTION
}
FORWARD = ("ProcessPayment", "ReserveInventory", "ConfirmOrder")
COMPENSATION = ("RefundPayment", "ReleaseInventory", "CancelOrder", "RecordCompensationFailure")
SAGA_ERRORS = {
    name: cls
    for name, cls in vars(errors).items()
    if inspect.isclass(cls) and issubclass(cls, errors.SagaError)
}
BUSINESS_ERRORS = sorted(
    name for name, cls in SAGA_ERRORS.items() if not issubclass(cls, errors.TransientError)
)
SAGA_TRANSIENT_ERRORS = ("GatewayUnavailable", "ConcurrencyError", "StorageError")
"""What the saga's steps raise when trying again may help (the stream consumers' own
transient errors never reach the state machine)."""

SERVICE_ERROR_PREFIXES = ("States.", "Lambda.", "Sandbox.")


def retriers(state: str) -> list[dict[str, Any]]:
    return list(STATES[state].get("Retry", []))


def catchers(state: str) -> list[dict[str, Any]]:
    return list(STATES[state].get("Catch", []))


def max_attempts(retrier: dict[str, Any]) -> int:
    return int(retrier.get("MaxAttempts", 3))  # the ASL default when it is left out


def resource(logical_id: str) -> dict[str, Any]:
    return TEMPLATE.resources[logical_id]


def of_type(resource_type: str) -> dict[str, dict[str, Any]]:
    return {
        logical_id: TEMPLATE.resolve(res.get("Properties", {}))
        for logical_id, res in TEMPLATE.of_type(resource_type).items()
    }


def manual_review_queue() -> str:
    """The queue the state machine sends to: the one its substitution references."""
    substitutions = resource(STATE_MACHINE)["Properties"]["DefinitionSubstitutions"]
    reference = substitutions["ManualReviewQueueUrl"]
    assert set(reference) == {"Ref"}, reference
    return str(reference["Ref"])


# -- the ASL ------------------------------------------------------------------------------


def test_every_saga_step_is_a_task_state_invoking_its_own_function():
    assert set(LAMBDA_TASKS) == set(FORWARD) | set(COMPENSATION)
    assert len(set(LAMBDA_TASKS.values())) == len(LAMBDA_TASKS), LAMBDA_TASKS


@pytest.mark.parametrize("error", SAGA_TRANSIENT_ERRORS)
def test_the_saga_transient_errors_are_transient_errors(error):
    assert issubclass(SAGA_ERRORS[error], errors.TransientError)


@pytest.mark.parametrize("state", sorted(LAMBDA_TASKS))
def test_a_task_times_out_only_after_its_function_would_have(state):
    function = FUNCTIONS[LAMBDA_TASKS[state]]

    timeout = STATES[state].get("TimeoutSeconds")

    assert timeout is not None, f"{state} has no TimeoutSeconds: it could wait a year"
    assert timeout > function.timeout, (
        f"{state} gives up after {timeout}s, before {function.logical_id} "
        f"(Timeout {function.timeout}s) is done: the step could succeed after being compensated"
    )


@pytest.mark.parametrize("state", COMPENSATION)
def test_a_compensation_is_tried_at_most_three_times_then_caught(state):
    attempts = 1 + sum(max_attempts(retrier) for retrier in retriers(state))
    catches_all = [c for c in catchers(state) if "States.ALL" in c["ErrorEquals"]]

    assert attempts <= 3, f"{state} may run {attempts} times"
    assert any("States.ALL" in retrier["ErrorEquals"] for retrier in retriers(state))
    assert catches_all, f"{state} lets an error fail the execution without manual review"


@pytest.mark.parametrize("state", ["RefundPayment", "ReleaseInventory", "CancelOrder"])
def test_a_compensation_that_gives_up_reaches_manual_review_naming_itself(state):
    (catch_all,) = [c for c in catchers(state) if c["ErrorEquals"] == ["States.ALL"]]
    handover = STATES[catch_all["Next"]]

    assert catch_all["ResultPath"] == "$.compensation_error"
    assert handover["Type"] == "Pass"
    assert (handover["Result"], handover["ResultPath"]) == (state, "$.failed_step")
    assert handover["Next"] == "RequestManualReview"
    review = STATES["RequestManualReview"]
    assert review["Resource"] == "arn:aws:states:::sqs:sendMessage"
    assert review["Next"] == "RecordCompensationFailure"
    assert all(c["Next"] == "RecordCompensationFailure" for c in review.get("Catch", []))
    assert STATES["RecordCompensationFailure"]["Next"] == "CompensationFailed"
    assert STATES["CompensationFailed"]["Type"] == "Fail"


def test_cancel_order_finding_the_order_confirmed_ends_in_success_without_retrying():
    matching = [r for r in retriers("CancelOrder") if "OrderConfirmedAfterAll" in r["ErrorEquals"]]
    (catch,) = [c for c in catchers("CancelOrder") if "OrderConfirmedAfterAll" in c["ErrorEquals"]]

    assert matching and all(max_attempts(r) == 0 for r in matching)
    assert retriers("CancelOrder").index(matching[0]) == 0, "States.ALL would match it first"
    assert catchers("CancelOrder").index(catch) == 0, "States.ALL would catch it first"
    assert STATES[catch["Next"]]["Type"] == "Succeed"


@pytest.mark.parametrize("state", FORWARD)
def test_a_forward_step_never_retries_a_business_error(state):
    retried = {error for retrier in retriers(state) for error in retrier["ErrorEquals"]}

    assert "States.ALL" not in retried
    assert "States.TaskFailed" not in retried
    assert sorted(retried & set(BUSINESS_ERRORS)) == []


@pytest.mark.parametrize("state", FORWARD)
def test_a_forward_step_retries_every_transient_error_and_a_timeout(state):
    retried = {error for retrier in retriers(state) for error in retrier["ErrorEquals"]}

    assert sorted(set(SAGA_TRANSIENT_ERRORS) - retried) == []
    assert "States.Timeout" in retried


LAMBDA_SERVICE_ERRORS = (
    "Lambda.ClientExecutionTimeoutException",
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
    "Lambda.Unknown",
)
"""Step Functions' "Handle Lambda service exceptions": the 500s Lambda may answer, its
throttle, and Lambda.Unknown (out of memory, a crashed runtime). None says anything about
the order, so a forward step retries each before it compensates."""


@pytest.mark.parametrize("state", FORWARD)
def test_a_forward_step_retries_every_lambda_service_error(state):
    retried = {error for retrier in retriers(state) for error in retrier["ErrorEquals"]}

    assert sorted(set(LAMBDA_SERVICE_ERRORS) - retried) == []


@pytest.mark.parametrize("state", FORWARD)
def test_a_forward_step_hands_every_error_it_does_not_retry_to_the_compensation(state):
    catch_all = [c for c in catchers(state) if "States.ALL" in c["ErrorEquals"]]

    assert catch_all, f"{state} lets an error fail the execution uncompensated"
    assert catch_all[0]["ResultPath"] == "$.error"
    assert catch_all[0]["Next"] == "RefundPayment"


@pytest.mark.parametrize("state", FORWARD)
def test_a_forward_step_passes_the_executions_start_time_for_the_deadline(state):
    parameters = STATES[state]["Parameters"]

    assert parameters["saga_started_at.$"] == "$$.Execution.StartTime"
    assert parameters["order_id.$"] == "$.order_id"


def test_every_error_name_the_asl_matches_is_one_of_our_errors():
    matched = {
        error
        for state in STATES.values()
        for handler in (*state.get("Retry", []), *state.get("Catch", []))
        for error in handler["ErrorEquals"]
    }
    ours = {error for error in matched if not error.startswith(SERVICE_ERROR_PREFIXES)}

    assert {"PaymentDeclined", "OutOfStock", "OrderConfirmedAfterAll"} <= ours
    assert sorted(ours - set(SAGA_ERRORS)) == []


def test_the_happy_path_is_three_tasks_ending_at_confirm_order():
    path, name = [], ASL["StartAt"]
    while True:
        state = STATES[name]
        path.append(name)
        if state.get("End") or "Next" not in state:
            break
        name = state["Next"]

    assert path == list(FORWARD)
    assert all(STATES[name]["Type"] == "Task" for name in path)
    assert STATES["ConfirmOrder"].get("End") is True


# -- idempotency: the aggregates', no step-level records -------------------------------


@pytest.fixture
def import_app(monkeypatch: pytest.MonkeyPatch):
    """Import functions/<dir>/app.py by path, with its environment, as Lambda would;
    modules of the function's folder are forgotten afterwards."""
    folders: list[Path] = []

    def import_app(logical_id: str) -> Any:
        spec = FUNCTIONS[logical_id]
        for name, value in spec.environment.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
        monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        monkeypatch.syspath_prepend(str(spec.code_dir))
        folders.append(spec.code_dir.resolve())
        module_name, _, _ = spec.handler.rpartition(".")
        unique = f"_saga_template_{logical_id}"
        loader = importlib.util.spec_from_file_location(
            unique, spec.code_dir / f"{module_name.replace('.', '/')}.py"
        )
        assert loader is not None and loader.loader is not None
        module = importlib.util.module_from_spec(loader)
        monkeypatch.setitem(sys.modules, unique, module)
        loader.loader.exec_module(module)
        return module

    yield import_app
    for name, module in list(sys.modules.items()):
        origin = getattr(module, "__file__", None)
        if origin and any(Path(origin).resolve().is_relative_to(f) for f in folders):
            del sys.modules[name]


def idempotency_statements(logical_id: str) -> list[dict[str, Any]]:
    """Every statement of the function's policies that names the idempotency table."""
    table_arn = TEMPLATE.get_att("IdempotencyTable", "Arn")
    found = []
    for policy in TEMPLATE.resolve(resource(logical_id)["Properties"].get("Policies", [])):
        assert isinstance(policy, dict), f"{logical_id}: managed policy {policy} by name"
        statements = policy.get("Statement")
        if statements is None:  # a SAM policy template
            assert "IdempotencyTable" not in str(policy), (
                f"{logical_id}: a SAM policy template on the idempotency table has no key fence"
            )
            continue
        found += [s for s in statements if table_arn in str(s.get("Resource"))]
    return found


@pytest.mark.parametrize("state", sorted(LAMBDA_TASKS))
def test_no_step_may_touch_the_idempotency_table(state):
    assert idempotency_statements(LAMBDA_TASKS[state]) == []


STAGE_BEFORE = {"ReserveInventory": 1, "ConfirmOrder": 2, "RefundPayment": 1, "ReleaseInventory": 2}
"""How many forward steps an order has taken before the step has something to do (else none)."""


class Context:
    """What Powertools reads from the Lambda context."""

    function_name = "StepFunction"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:StepFunction"
    memory_limit_in_mb = 256
    log_group_name = "/aws/lambda/StepFunction"
    log_stream_name = "local"

    def __init__(self) -> None:
        self.aws_request_id = str(uuid.uuid4())

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def in_memory_ports() -> Ports:
    return Ports(
        store=InMemoryEventStore(),
        catalog=InMemoryCatalog(),
        gateway=SimulatedPaymentGateway(),
        idempotency=in_memory_stores(),
    )


def order_after(ports: Ports, forward_steps: int) -> str:
    product_id, order_id = f"sku-{uuid.uuid4().hex[:12]}", f"order-{uuid.uuid4().hex[:16]}"
    stock_product(ports, product_id, "Product", Decimal("9.99"), 5)
    address = Address(
        street="1 Main St", city="Seattle", state="WA", postal_code="98101", country="US"
    )
    item = ItemRequest(product_id=product_id, quantity=1)
    orders.create_order(
        CreateOrder(
            order_id=order_id,
            customer_id=f"cust-{uuid.uuid4().hex[:8]}",
            items=(item,),
            shipping_address=address,
            payment_method="tok_visa",
        ),
        ports,
    )
    forward = [
        lambda: payments.process_payment(ProcessPayment(order_id=order_id), ports),
        lambda: inventory.reserve_inventory(ReserveInventory(order_id=order_id), ports),
    ]
    for step in forward[:forward_steps]:
        step()
    return order_id


@pytest.mark.parametrize("state", sorted(LAMBDA_TASKS))
def test_a_step_delivered_twice_writes_once_and_keeps_no_idempotency_record(
    state, import_app, monkeypatch
):
    logical_id = LAMBDA_TASKS[state]
    module = import_app(logical_id)
    handler = getattr(module, FUNCTIONS[logical_id].handler.rpartition(".")[2])
    ports = in_memory_ports()
    monkeypatch.setattr(bootstrap, "_source", ports)  # restored afterwards, whoever set it
    order_id = order_after(ports, STAGE_BEFORE.get(state, 0))
    event: dict[str, Any] = {"order_id": order_id}
    if state == "CancelOrder":
        event["error"] = {"Error": "OutOfStock"}
    if state == "RecordCompensationFailure":
        event.update(failed_step="RefundPayment", error={"Error": "GatewayUnavailable"})

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "No application metrics to publish"
        before = len(ports.store.load(f"order#{order_id}"))
        handler(event, Context())
        written = len(ports.store.load(f"order#{order_id}"))
        handler(event, Context())

    assert written > before, f"{logical_id} did nothing"
    assert len(ports.store.load(f"order#{order_id}")) == written
    assert ports.idempotency is not None
    assert [
        prefix
        for prefix in (f"step.{handler.__name__}", "step")
        if ports.idempotency.for_consumer(prefix).records  # type: ignore[attr-defined]
    ] == []


def test_every_step_handler_is_named_after_a_different_use_case(import_app):
    names = {}
    for state, logical_id in sorted(LAMBDA_TASKS.items()):
        module = import_app(logical_id)
        names[state] = getattr(module, FUNCTIONS[logical_id].handler.rpartition(".")[2]).__name__

    assert len(set(names.values())) == len(names), names


# -- the manual-review queue ------------------------------------------------------------


def test_the_manual_review_queue_is_encrypted_and_has_a_dead_letter_queue():
    queues = of_type("AWS::SQS::Queue")
    queue = manual_review_queue()
    properties = queues[queue]

    redrive = properties["RedrivePolicy"]
    dead_letter = next(
        name for name in queues if TEMPLATE.get_att(name, "Arn") == redrive["deadLetterTargetArn"]
    )

    for name in (queue, dead_letter):
        encrypted = queues[name].get("SqsManagedSseEnabled") is True or queues[name].get(
            "KmsMasterKeyId"
        )
        assert encrypted, f"{name} is not encrypted"
    assert dead_letter != queue
    assert 1 <= int(redrive["maxReceiveCount"]) <= 10
    # The dead-letter queue keeps a message's first enqueue time: it must keep it longer.
    assert int(queues[dead_letter]["MessageRetentionPeriod"]) >= int(
        properties["MessageRetentionPeriod"]
    )


def test_the_state_machine_may_send_only_to_the_manual_review_queue():
    policies = resource(STATE_MACHINE)["Properties"]["Policies"]
    senders = [p["SQSSendMessagePolicy"] for p in policies if "SQSSendMessagePolicy" in p]

    assert senders == [{"QueueName": {"Fn::GetAtt": [manual_review_queue(), "QueueName"]}}]


# -- alarms -------------------------------------------------------------------------------


def alarmed_metrics() -> list[tuple[str, str, dict[str, str], list[Any]]]:
    """(namespace, metric, dimensions, alarm actions) of every alarm. For metric maths,
    only the metrics its returned expression uses: a metric listed but left out of the
    expression alarms on nothing."""
    found = []
    for properties in of_type("AWS::CloudWatch::Alarm").values():
        actions = properties.get("AlarmActions", [])
        metrics = [properties] if "MetricName" in properties else []
        queries = properties.get("Metrics", [])
        returned = " ".join(q.get("Expression", "") for q in queries if q.get("ReturnData"))
        used = set(re.findall(r"\b[a-z]\w*\b", returned))
        metrics += [
            q["MetricStat"]["Metric"]
            for q in queries
            if "MetricStat" in q and (q["Id"] in used or q.get("ReturnData"))
        ]
        for metric in metrics:
            dimensions = {d["Name"]: str(d["Value"]) for d in metric.get("Dimensions", [])}
            found.append((metric["Namespace"], metric["MetricName"], dimensions, actions))
    return found


def alarm_on(namespace: str, metric: str, **dimensions: str) -> bool:
    return any(
        (ns, name) == (namespace, metric) and dims == dimensions and actions
        for ns, name, dims, actions in alarmed_metrics()
    )


def test_an_alarm_watches_the_manual_review_queue_depth():
    queue = TEMPLATE.get_att(manual_review_queue(), "QueueName")

    assert alarm_on("AWS/SQS", "ApproximateNumberOfMessagesVisible", QueueName=queue)


@pytest.mark.parametrize("metric", ["ExecutionsTimedOut", "ExecutionsAborted", "ExecutionsFailed"])
def test_an_alarm_watches_the_state_machines_executions(metric):
    machine = TEMPLATE.ref(STATE_MACHINE)

    assert alarm_on("AWS/States", metric, StateMachineArn=machine)


def test_an_alarm_watches_the_compensations_failed_metric_the_steps_emit():
    variables = TEMPLATE.raw["Globals"]["Function"]["Environment"]["Variables"]

    assert alarm_on(
        variables["POWERTOOLS_METRICS_NAMESPACE"],
        "CompensationsFailed",
        service=variables["POWERTOOLS_SERVICE_NAME"],
    )


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_an_alarm_watches_every_functions_errors(function):
    assert alarm_on("AWS/Lambda", "Errors", FunctionName=TEMPLATE.ref(function))


# -- the saga's time limit ----------------------------------------------------------------


def test_the_saga_timeout_defaults_to_fifteen_minutes():
    parameter = TEMPLATE.raw["Parameters"]["SagaTimeoutSeconds"]

    assert parameter["Type"] == "Number"
    assert int(parameter["Default"]) == 900


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_every_function_gets_the_saga_timeout_from_the_parameter(function):
    own = resource(function)["Properties"].get("Environment", {}).get("Variables", {})
    shared = TEMPLATE.raw["Globals"]["Function"]["Environment"]["Variables"]

    value = own.get("SAGA_TIMEOUT_SECONDS", shared.get("SAGA_TIMEOUT_SECONDS"))

    assert value == {"Ref": "SagaTimeoutSeconds"}
    assert FUNCTIONS[function].environment["SAGA_TIMEOUT_SECONDS"] == "900"


def test_the_state_machine_itself_outlives_the_saga_timeout():
    """An execution-wide TimeoutSeconds shorter than the saga's deadline would abort
    executions before the steps could compensate."""
    limit = ASL.get("TimeoutSeconds")

    assert limit is None or limit > int(TEMPLATE.parameters["SagaTimeoutSeconds"])
