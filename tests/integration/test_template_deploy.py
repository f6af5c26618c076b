"""What a real deploy needs and no local run shows: each test guards an AWS behaviour that
moto does not have (its documentation decides), found wrong on a review of the template.

- CloudWatch publishes alarm actions as the cloudwatch.amazonaws.com service principal;
  the AWS managed key alias/aws/sns cannot let it in, so an alarm topic encrypted with it
  delivers nothing (SNS key management: such sources need a customer managed key).
- A task's States.Timeout carries no Cause, and a Fail state whose CausePath selects
  nothing fails the execution with States.Runtime instead of the error the saga caught.
- Step Functions' logging best practice: log groups under /aws/vendedlogs/states/, so that
  the account's CloudWatch Logs resource policy (5120 characters) does not fill up.
- A function's log group that Lambda creates itself keeps its logs forever.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from local_runtime.emulator.template import Template

TEMPLATE = Template()
RESOURCES = TEMPLATE.resources
STATE_MACHINE = "OrderSagaStateMachine"
_, ASL = TEMPLATE.state_machine(STATE_MACHINE)
FUNCTIONS = sorted(TEMPLATE.of_type("AWS::Serverless::Function"))


def props(logical_id: str) -> dict[str, Any]:
    return dict(RESOURCES[logical_id].get("Properties", {}))


def ref_target(value: Any) -> str:
    assert isinstance(value, dict) and set(value) == {"Ref"}, value
    return str(value["Ref"])


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# -- alarms reach someone ------------------------------------------------------------------


def alarm_topics() -> set[str]:
    topics = set()
    for alarm in TEMPLATE.of_type("AWS::CloudWatch::Alarm"):
        for key in ("AlarmActions", "OKActions", "InsufficientDataActions"):
            topics |= {ref_target(action) for action in props(alarm).get(key, [])}
    return topics


def test_every_alarm_notifies_a_topic_of_the_stack():
    topics = alarm_topics()

    assert topics, "no alarm has an action"
    assert all(RESOURCES[topic]["Type"] == "AWS::SNS::Topic" for topic in topics)


def test_an_alarm_topic_is_encrypted_with_a_key_of_the_stack_not_an_aws_managed_one():
    for topic in alarm_topics():
        key = props(topic).get("KmsMasterKeyId")
        assert not (isinstance(key, str) and key.startswith("alias/aws/")), (
            f"{topic} is encrypted with the AWS managed {key}: CloudWatch cannot publish to it"
        )
        if key is not None:
            assert RESOURCES[ref_target(key)]["Type"] == "AWS::KMS::Key", topic


def test_the_alarm_topics_key_lets_cloudwatch_encrypt_for_this_account_only():
    for topic in alarm_topics():
        key = props(ref_target(props(topic)["KmsMasterKeyId"]))
        granted = [
            statement
            for statement in key["KeyPolicy"]["Statement"]
            if statement["Effect"] == "Allow"
            and as_list(statement["Principal"].get("Service")) == ["cloudwatch.amazonaws.com"]
        ]

        (statement,) = granted
        assert {"kms:Decrypt", "kms:GenerateDataKey*"} <= set(as_list(statement["Action"]))
        assert statement["Condition"]["StringEquals"]["aws:SourceAccount"] == {
            "Ref": "AWS::AccountId"
        }


def test_the_alarm_topics_key_rotates_and_its_account_administers_it():
    for topic in alarm_topics():
        key = props(ref_target(props(topic)["KmsMasterKeyId"]))
        admins = [
            s
            for s in key["KeyPolicy"]["Statement"]
            if s["Principal"].get("AWS")
            == {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}
        ]

        assert key["EnableKeyRotation"] is True
        assert admins and admins[0]["Action"] == "kms:*"  # else the key could lock its owner out


# -- a caught timeout ends in its own error ------------------------------------------------

PATH_STEP = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)")


class PathSelectsNothing(LookupError):
    """As Step Functions fails such a state: States.Runtime."""


def select(document: Any, path: str) -> Any:
    assert path.startswith("$"), path
    for name in PATH_STEP.findall(path[1:]):
        if not isinstance(document, dict) or name not in document:
            raise PathSelectsNothing(path)
        document = document[name]
    return document


def evaluate(expression: str, document: Any) -> str:
    """A Fail state's ErrorPath or CausePath: a reference path, or one of the intrinsics
    the ASL allows there with path arguments (States.JsonToString, States.Format)."""
    call = re.fullmatch(r"(States\.[A-Za-z]+)\((.*)\)", expression)
    if call is None:
        value = select(document, expression)
        assert isinstance(value, str), f"{expression} selects {value!r}, not a string"
        return value
    function, arguments = call.groups()
    parts = [part.strip() for part in arguments.split(",")]
    values = [select(document, p) if p.startswith("$") else p.strip("'") for p in parts]
    if function == "States.JsonToString":
        (value,) = values
        return json.dumps(value, separators=(",", ":"))
    if function == "States.Format":
        template, *rest = values
        return template.replace("{}", "%s") % tuple(rest)
    raise AssertionError(f"{function} is not modelled here")


def caught_result_paths() -> set[str]:
    """Every ResultPath under which a Catch of the ASL records the error it caught."""
    return {
        catch["ResultPath"]
        for state in ASL["States"].values()
        for catch in state.get("Catch", [])
        if catch.get("ResultPath")
    }


FAIL_STATES = sorted(
    name
    for name, state in ASL["States"].items()
    if state["Type"] == "Fail" and "CausePath" in state
)


@pytest.mark.parametrize("state", FAIL_STATES)
def test_a_fail_state_ends_in_the_caught_error_when_it_has_no_cause(state):
    # What a Catch records for a task that timed out: the error name, and no Cause.
    timed_out = {"Error": "States.Timeout"}
    document: dict[str, Any] = {"order_id": "order-1"}
    for result_path in caught_result_paths():
        document[result_path.removeprefix("$.")] = timed_out
    fail = ASL["States"][state]

    try:
        error = evaluate(fail["ErrorPath"], document) if "ErrorPath" in fail else fail["Error"]
        cause = evaluate(fail["CausePath"], document)
    except PathSelectsNothing as missing:
        pytest.fail(f"{state}: {missing} selects nothing: the execution would end States.Runtime")

    assert error == "States.Timeout"
    assert "States.Timeout" in cause


@pytest.mark.parametrize("state", FAIL_STATES)
def test_a_fail_state_keeps_the_cause_the_error_had(state):
    caught = {"Error": "OutOfStock", "Cause": '{"errorMessage": "not enough stock"}'}
    document = {path.removeprefix("$."): caught for path in caught_result_paths()}

    cause = evaluate(ASL["States"][state]["CausePath"], document)

    assert "not enough stock" in cause


# -- logs ----------------------------------------------------------------------------------


def test_the_state_machine_logs_to_a_group_under_vendedlogs_states():
    (destination,) = props(STATE_MACHINE)["Logging"]["Destinations"]
    group = destination["CloudWatchLogsLogGroup"]["LogGroupArn"]["Fn::GetAtt"][0]
    name = TEMPLATE.resolve(props(group)["LogGroupName"])

    assert name.startswith("/aws/vendedlogs/states/"), name


@pytest.mark.parametrize("function", FUNCTIONS)
def test_every_function_logs_to_a_group_of_the_stack_kept_for_the_retention_set(function):
    group = ref_target(props(function)["LoggingConfig"]["LogGroup"])

    assert RESOURCES[group]["Type"] == "AWS::Logs::LogGroup"
    assert props(group)["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    assert TEMPLATE.resolve(props(group)["LogGroupName"]).startswith("/aws/lambda/")


def test_no_two_functions_share_a_log_group():
    groups = [ref_target(props(f)["LoggingConfig"]["LogGroup"]) for f in FUNCTIONS]

    assert len(set(groups)) == len(groups)
