"""Every end-to-end saga scenario (test_saga_paths.py, test_saga_faults.py) run on two
independent ASL interpreters, moto's and aws-local-stepfunctions (second_interpreter.py),
each on a fresh order with the same set-up and the same faults, the tasks answered by the
real handlers through the local Lambda service. They must agree on the path (the states
entered, in order, and each task's attempts) and on the end (status and error).

Where aws-local-stepfunctions is the lenient one, the tests say so and check it:
- a Lambda error's Cause is "<errorType>: <errorMessage>", where AWS (and moto) record the
  function's error document as JSON (``lambda_cause``);
- it invokes Lambda only: the manual-review queue's sqs:sendMessage is answered by its
  driver, and compared with moto's message here;
- a task's States.Timeout carries a Cause; an Invoke API error lacks the "Lambda." prefix
  (the two probes at the end);
- it scales no TimeoutSeconds and plays no backoff or jitter (second_interpreter.py): a
  hanging handler must end at its function's Timeout, before either task timer.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import re
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest

from local_runtime.emulator.faults import Fault
from order_saga import bootstrap
from order_saga.errors import GatewayUnavailable
from order_saga.service_layer.views import order_view
from tests.e2e.second_interpreter import (
    MOTO,
    SECOND,
    UNEVALUATED_CAUSE,
    Run,
    SecondInterpreter,
    apply_service_calls,
    disagreements,
    moto_run,
    without_cause_intrinsics,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from local_runtime.runtime import LocalRuntime
    from tests.e2e.conftest import Shop

HAPPY_PATH = ("ProcessPayment", "ReserveInventory", "ConfirmOrder")
COMPENSATION = ("RefundPayment", "ReleaseInventory", "CancelOrder", "OrderCancelled")
FORWARD = ("ProcessPaymentFunction", "ReserveInventoryFunction", "ConfirmOrderFunction")
BACKWARD = ("RefundPaymentFunction", "ReleaseInventoryFunction", "CancelOrderFunction")
MANUAL_REVIEW = (
    "ProcessPayment",
    "ReserveInventory",
    "RefundPayment",
    "RefundFailed",
    "RequestManualReview",
    "RecordCompensationFailure",
    "CompensationFailed",
)


class InjectedFault(Exception):
    """Not a name the ASL knows: it stands for any unexpected error."""


def no_faults(shop: Shop, order_id: str) -> None:
    """Nothing goes wrong."""


def fault(function: str, make: Callable[[str], Fault]) -> Callable[[Shop, str], None]:
    def arm(shop: Shop, order_id: str) -> None:
        shop.runtime.functions.inject(function, make(order_id))

    return arm


def faults(*arms: Callable[[Shop, str], None]) -> Callable[[Shop, str], None]:
    def arm(shop: Shop, order_id: str) -> None:
        for each in arms:
            each(shop, order_id)

    return arm


@dataclass(frozen=True)
class Scenario:
    """One end-to-end test's set-up, played again for each interpreter."""

    test: str
    """The end-to-end test whose set-up this is."""
    lines: tuple[tuple[str, int, int], ...]
    """(price, stock, quantity) of each order line, on products made fresh for each run."""
    path: tuple[str, ...]
    """The path that test asserts (or its tail): moto's run must take it, so the set-up
    here is the test's."""
    arm: Callable[[Shop, str], None] = no_faults
    """Faults for one order, armed just before its saga starts."""
    payment_method: str = "tok_visa"
    saga_timeout: timedelta | None = None


SCENARIOS = [
    Scenario(
        "test_a_paid_order_in_stock_is_confirmed_holding_payment_and_reservation",
        (("24.90", 10, 2), ("59.00", 4, 1)),
        HAPPY_PATH,
    ),
    Scenario(
        "test_the_happy_path_costs_three_transitions_and_three_lambda_calls",
        (("5.00", 5, 1),),
        HAPPY_PATH,
    ),
    Scenario(
        "test_a_declined_payment_cancels_the_order_without_charge_or_stock_change",
        (("24.90", 10, 3),),
        ("ProcessPayment", "CancelOrder", "OrderCancelled"),
        payment_method="tok_chargeDeclined",
    ),
    Scenario(
        "test_an_order_out_of_stock_is_refunded_in_full_and_leaves_stock_untouched",
        (("59.00", 10, 1), ("149.99", 2, 3)),
        ("ProcessPayment", "ReserveInventory", *COMPENSATION),
    ),
    Scenario(
        "test_a_failure_in_confirm_order_runs_the_full_compensation",
        (("10.00", 5, 2),),
        (*HAPPY_PATH, *COMPENSATION),
        fault("ConfirmOrderFunction", lambda o: Fault(InjectedFault("boom"), order_id=o)),
    ),
    Scenario(
        "test_an_unexpected_error_in_a_forward_step_is_compensated_never_stuck[ProcessPayment]",
        (("10.00", 5, 1),),
        ("ProcessPayment", *COMPENSATION),
        fault("ProcessPaymentFunction", lambda o: Fault(InjectedFault("unexpected"), order_id=o)),
    ),
    Scenario(
        "test_an_unexpected_error_in_a_forward_step_is_compensated_never_stuck[ReserveInventory]",
        (("10.00", 5, 1),),
        ("ProcessPayment", "ReserveInventory", *COMPENSATION),
        fault("ReserveInventoryFunction", lambda o: Fault(InjectedFault("unexpected"), order_id=o)),
    ),
    Scenario(
        "test_a_transient_gateway_error_is_retried_not_compensated",
        (("10.00", 5, 1),),
        HAPPY_PATH,
        fault(
            "ProcessPaymentFunction",
            lambda o: Fault(GatewayUnavailable("blip"), times=1, order_id=o),
        ),
    ),
    Scenario(
        "test_every_forward_step_delivered_twice_has_one_effect",
        (("12.00", 10, 3),),
        HAPPY_PATH,
        faults(*(fault(f, lambda o: Fault.twice(order_id=o)) for f in FORWARD)),
    ),
    Scenario(
        "test_every_compensation_delivered_twice_has_one_effect",
        (("5.00", 10, 2), ("7.00", 1, 2)),
        ("ProcessPayment", "ReserveInventory", *COMPENSATION),
        faults(*(fault(f, lambda o: Fault.twice(order_id=o)) for f in BACKWARD)),
    ),
    Scenario(
        "test_a_gateway_down_twice_then_up_confirms_with_one_charge",
        (("20.00", 5, 1),),
        HAPPY_PATH,
        lambda shop, _: shop.gateway.fail_next(2),
    ),
    Scenario(
        "test_a_charge_whose_answer_was_lost_is_retried_and_charged_once",
        (("20.00", 5, 2),),
        HAPPY_PATH,
        lambda shop, _: shop.gateway.lose_next_answers(1),
    ),
    Scenario(
        "test_a_step_that_hangs_past_its_timeout_is_compensated_and_cancelled",
        (("9.00", 5, 1),),
        ("ProcessPayment", "ReserveInventory", *COMPENSATION),
        fault("ReserveInventoryFunction", lambda o: Fault.hang(60, times=2, order_id=o)),
    ),
    Scenario(
        "test_an_order_past_the_saga_deadline_is_cancelled_with_reason_timeout",
        (("15.00", 5, 2),),
        ("ProcessPayment", "ReserveInventory", *COMPENSATION),
        faults(
            fault("ReserveInventoryFunction", lambda o: Fault.hang(60, times=1, order_id=o)),
            fault("ReserveInventoryFunction", lambda o: Fault.hang(4, times=1, order_id=o)),
        ),
        saga_timeout=timedelta(seconds=0.75),  # test_saga_faults.short_saga_deadline
    ),
    Scenario(
        "test_a_refund_that_keeps_failing_goes_to_manual_review_and_redrive_finishes_it",
        (("30.00", 10, 1), ("40.00", 1, 2)),
        MANUAL_REVIEW,
        fault(
            "RefundPaymentFunction",
            lambda o: Fault.transient(GatewayUnavailable("down"), times=3, order_id=o),
        ),
    ),
    Scenario(
        "test_a_crash_after_confirm_wrote_keeps_the_order_confirmed_and_paid",
        (("11.00", 4, 2),),
        (*HAPPY_PATH, "RefundPayment", "ReleaseInventory", "CancelOrder", "OrderConfirmed"),
        fault(
            "ConfirmOrderFunction",
            lambda o: Fault.crash_after_write(InjectedFault("lost"), order_id=o),
        ),
    ),
]
"""test_the_handlers_emit_each_metric_with_the_right_counts runs three orders whose
set-ups are the confirmed, declined and out-of-stock scenarios above."""


@pytest.fixture(scope="session")
def second_interpreter(runtime: LocalRuntime) -> SecondInterpreter:
    return SecondInterpreter(runtime)


@contextlib.contextmanager
def wired(**changes: Any) -> Iterator[None]:
    """The composition root with ``changes`` for a while (as test_saga_faults' fixture)."""
    before = bootstrap.ports()
    bootstrap.use(dataclasses.replace(before, **changes))
    try:
        yield
    finally:
        bootstrap.use(before)


def new_order(shop: Shop, scenario: Scenario) -> str:
    """The scenario's order through the Api function, its saga not started yet."""
    lines = [(shop.product(price, stock), quantity) for price, stock, quantity in scenario.lines]
    with wired(saga=None):
        return shop.order(lines, scenario.payment_method)


def run_both(shop: Shop, second: SecondInterpreter, scenario: Scenario) -> tuple[Run, Run]:
    """The scenario on moto, then on the second interpreter, each on its own order."""
    timeout = {} if scenario.saga_timeout is None else {"saga_timeout": scenario.saga_timeout}
    runs = []
    for interpreter in (MOTO, SECOND):
        order_id = new_order(shop, scenario)
        with wired(**timeout):
            scenario.arm(shop, order_id)
            if interpreter == MOTO:
                runs.append(moto_run(shop.runtime, order_id))
            else:
                run = second.run(order_id)
                apply_service_calls(run)
                runs.append(run)
    return runs[0], runs[1]


def lambda_cause(cause: str | None) -> str | None:
    """A Cause as aws-local-stepfunctions words it: for a Lambda function's error AWS
    records the function's error document (JSON) as the Cause; the library records
    "<errorType>: <errorMessage>" instead. Other causes are the same in both."""
    try:
        document = json.loads(cause or "")
    except ValueError:
        return cause
    if not isinstance(document, dict) or "errorType" not in document:
        return cause
    return f"{document['errorType']}: {document.get('errorMessage', '')}"


RUN_SPECIFIC = [
    (re.compile(r"\b[0-9a-f]{32}\b"), "<order id>"),
    (re.compile(r"\bsku-[0-9a-f]+"), "<product id>"),
    (re.compile(r"\b\d+:\d\d:\d\d\.\d+"), "<duration>"),
]


def same_words(cause: str | None) -> str | None:
    """A cause with what differs between two runs of one scenario masked: the order and
    product ids, the durations."""
    if cause is None:
        return None
    for pattern, mask in RUN_SPECIFIC:
        cause = pattern.sub(mask, cause)
    return cause


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.test for s in SCENARIOS])
def test_both_interpreters_take_the_same_path_to_the_same_end(
    shop: Shop, second_interpreter: SecondInterpreter, scenario: Scenario
) -> None:
    moto, second = run_both(shop, second_interpreter, scenario)

    assert tuple(moto.path[-len(scenario.path) :]) == scenario.path, (
        f"moto did not take {scenario.test}'s path: the set-up here is not that test's"
    )
    assert not disagreements(moto, second), "\n".join(disagreements(moto, second))
    if second.cause == UNEVALUATED_CAUSE:
        # The Fail state's CausePath is an intrinsic the library cannot evaluate (see
        # test_an_intrinsic_cause_path_fails_the_second_interpreter): moto's cause is the
        # caught error as JSON, States.JsonToString($.error).
        assert json.loads(moto.cause or "")["Error"] == moto.error
    else:
        # Lenient: the library words a Lambda error's Cause its own way (module docstring).
        assert same_words(second.cause) == same_words(lambda_cause(moto.cause))
    if moto.output is not None:
        assert second.output is not None
        assert sorted(second.output) == sorted(moto.output)  # results at the same paths
    ends = [order_view(shop.ports.store, run.order_id)["status"] for run in (moto, second)]
    assert ends[0] == ends[1], f"the orders ended {ends[0]} on moto, {ends[1]} on {SECOND}"
    if "RequestManualReview" in moto.path:
        the_manual_review_messages_match(shop, moto, second)


def the_manual_review_messages_match(shop: Shop, moto: Run, second: Run) -> None:
    """Lenient: aws-local-stepfunctions calls no SQS; its driver answers sendMessage, and
    apply_service_calls sent the message it resolved. The two bodies must match field for
    field, and ops/redrive must finish both orders from them."""
    bodies = {
        item["order_id"]: item
        for item in shop.runtime.manual_review_items()
        if item["order_id"] in (moto.order_id, second.order_id)
    }
    assert set(bodies) == {moto.order_id, second.order_id}
    for body, run in ((bodies[moto.order_id], moto), (bodies[second.order_id], second)):
        assert body["execution_arn"] == shop.runtime.execution_arn(run.order_id)
        for error in (body["error"], body["original_error"]):
            error["Cause"] = same_words(lambda_cause(error["Cause"]))
        body["order_id"] = body["execution_arn"] = "<the order's>"
    assert bodies[second.order_id] == bodies[moto.order_id]

    outcomes = {o.order_id: o for o in shop.runtime.redrive()}
    assert outcomes[moto.order_id].done and outcomes[second.order_id].done
    for run in (moto, second):
        assert order_view(shop.ports.store, run.order_id)["status"] == "CANCELLED"


def test_the_two_runs_of_a_scenario_are_told_apart_when_they_disagree() -> None:
    """The comparison itself: a different path is named at its first differing state."""
    moto = Run(MOTO, "o-1", "FAILED", "OutOfStock", None, None, [*HAPPY_PATH[:2]], [1, 1])
    second = dataclasses.replace(
        moto, interpreter=SECOND, path=["ProcessPayment", "CancelOrder"], error="X"
    )

    found = disagreements(moto, second)

    assert found[0].startswith("the paths part at state 2: moto entered ReserveInventory but")
    assert "aws-local-stepfunctions entered CancelOrder" in found[0]
    assert "the ends differ" in found[1]
    assert disagreements(moto, dataclasses.replace(moto, attempts=[1, 2])) == [
        f"state ReserveInventory was attempted 1 times by moto, 2 times by {SECOND}"
    ]


def test_a_hanging_handler_ends_at_its_function_timeout_before_either_task_timer(
    runtime: LocalRuntime, second_interpreter: SecondInterpreter
) -> None:
    """The hang scenarios' premise: moto's task timers run on the runtime's time scale,
    the second interpreter's as written, and both are longer than the function's own
    Timeout (scaled), so Sandbox.Timedout decides the path in both."""
    for name, state in second_interpreter.definition["States"].items():
        resource = str(state.get("Resource", ""))
        if ":function:" not in resource:
            continue
        function = runtime.functions.spec(resource)
        assert function.timeout < state["TimeoutSeconds"], (name, function.timeout)


def probe(resource: str, **task: Any) -> dict[str, Any]:
    """A one-task definition: what the interpreter does with one Lambda call."""
    return {"StartAt": "Probe", "States": {"Probe": {"Type": "Task", "Resource": resource, **task}}}


def function_arn(second: SecondInterpreter, function: str) -> str:
    """A function's ARN as the saga's definition names its functions."""
    known = second.definition["States"]["ProcessPayment"]["Resource"]
    return str(known).replace("ProcessPaymentFunction", function)


def test_a_task_timeout_carries_a_cause_in_the_second_interpreter(
    runtime: LocalRuntime, second_interpreter: SecondInterpreter
) -> None:
    """Lenient: AWS records a task's States.Timeout without a Cause, so a Fail state's
    CausePath on it selects nothing (issue 13, finding 2); aws-local-stepfunctions gives
    it the Cause "States.Timeout". None of the saga scenarios times a task out (a hanging
    handler ends at its function's Timeout first), so this is checked on a probe."""
    marker = uuid.uuid4().hex
    released = runtime.functions.hold(
        "ProcessPaymentFunction", lambda payload: payload.get("probe") == marker
    )
    definition = probe(
        function_arn(second_interpreter, "ProcessPaymentFunction"),
        Parameters={"probe": marker},  # not a command: the handler, once let go, refuses it
        TimeoutSeconds=1,
        End=True,
    )
    try:
        run = second_interpreter.run(f"probe-{marker}", definition)
    finally:
        released.set()

    assert (run.status, run.error) == ("FAILED", "States.Timeout")
    assert run.cause == "States.Timeout"  # AWS: no Cause at all


def test_an_invoke_api_error_is_named_without_the_lambda_prefix_in_the_second_interpreter(
    second_interpreter: SecondInterpreter,
) -> None:
    """Lenient: Step Functions reports an error of the Invoke API itself (the function
    never ran) as Lambda.<exception>, such as Lambda.TooManyRequestsException (AWS's
    "Handle Lambda service exceptions" best practice); aws-local-stepfunctions names it as
    the AWS SDK does, without the prefix, so the saga's Lambda.* retriers never match an
    answer of that kind there. The Lambda service answers 404 for a function it lacks."""
    definition = probe(function_arn(second_interpreter, "NoSuchFunction"), End=True)

    run = second_interpreter.run(f"probe-{uuid.uuid4().hex}", definition)

    assert (run.status, run.error) == ("FAILED", "ResourceNotFoundException")


def test_an_intrinsic_cause_path_fails_the_second_interpreter(
    second_interpreter: SecondInterpreter,
) -> None:
    """Stricter than AWS: a Fail state's CausePath may be an intrinsic function that
    returns a string (States.JsonToString among them: "Fail workflow state", Step
    Functions guide), as the saga's OrderCancelled uses; aws-local-stepfunctions reads it
    as a plain path and fails with States.Runtime. So the definition it is given has such a
    CausePath made a fixed Cause (``without_cause_intrinsics``), and the saga's Fail
    states still end in the error they were given."""
    definition = {
        "StartAt": "Error",
        "States": {
            "Error": {"Type": "Pass", "Result": {"Error": "E", "Cause": "c"}, "Next": "Ends"},
            "Ends": {"Type": "Fail", "ErrorPath": "$.Error", "CausePath": "States.JsonToString($)"},
        },
    }

    raw = second_interpreter.run(f"probe-{uuid.uuid4().hex}", definition)
    adapted = second_interpreter.run(
        f"probe-{uuid.uuid4().hex}", without_cause_intrinsics(definition)
    )

    assert (raw.status, raw.error) == ("FAILED", "States.Runtime")
    assert (adapted.status, adapted.error, adapted.cause) == ("FAILED", "E", UNEVALUATED_CAUSE)
    saga_fails = [
        s for s in second_interpreter.definition["States"].values() if s["Type"] == "Fail"
    ]
    assert all("CausePath" not in s or not s["CausePath"].startswith("States.") for s in saga_fails)
