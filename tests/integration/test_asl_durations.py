"""The saga's worst case, computed from the ASL's own Retry, TimeoutSeconds and transitions
(ops/asl_durations.py), against each workflow type's hard stop and the saga deadline.

An Express execution stops at 5 minutes, with no Catch and no compensation: every path,
each task at its timeout on every attempt and every retry at its longest wait, must end
(confirmed, compensated, or on the manual-review queue) before that. The template lets a
stack choose EXPRESS only with a saga deadline short enough that a saga past it is still
compensated in time (its rule ExpressSagaEndsWithinFiveMinutes); these tests hold that
rule, and the template's own figures, to what the ASL allows.
"""

from __future__ import annotations

from typing import Any

import pytest

from ops.asl_durations import (
    HARD_LIMIT_SECONDS,
    UnboundedDefinition,
    check,
    definition_and_defaults,
    retry_waits,
    state_cost,
    worst_path,
)
from ops.cloudformation import TEMPLATE

DEFINITION, DEFAULTS = definition_and_defaults()
RAW_TEMPLATE = TEMPLATE.read_text(encoding="utf-8")


def express_rule() -> dict[str, Any]:
    from samcli.yamlhelper import yaml_parse

    return dict(yaml_parse(RAW_TEMPLATE)["Rules"]["ExpressSagaEndsWithinFiveMinutes"])


def express_deadlines() -> list[int]:
    """The saga deadlines the rule lets an EXPRESS stack have."""
    rule = express_rule()
    assert rule["RuleCondition"] == {"Fn::Equals": [{"Ref": "WorkflowType"}, "EXPRESS"]}
    ((assertion,),) = [rule["Assertions"]]
    allowed, parameter = assertion["Assert"]["Fn::Contains"]
    assert parameter == {"Ref": "SagaTimeoutSeconds"}
    return [int(value) for value in allowed]


# -- the arithmetic, on definitions small enough to add up by hand -------------------------


def test_a_retry_waits_its_interval_times_the_backoff_capped_at_the_max_delay():
    retrier = {"IntervalSeconds": 2, "BackoffRate": 3.0, "MaxAttempts": 4, "MaxDelaySeconds": 10}

    assert retry_waits(retrier) == [2, 6, 10, 10]


def test_a_retrier_left_to_the_defaults_waits_one_two_four_seconds():
    assert retry_waits({"ErrorEquals": ["States.ALL"]}) == [1, 2, 4]


def test_full_jitter_never_lengthens_a_wait():
    plain = {"IntervalSeconds": 1, "BackoffRate": 2.0, "MaxAttempts": 3}

    assert retry_waits({**plain, "JitterStrategy": "FULL"}) == retry_waits(plain)


def test_every_attempt_of_every_retrier_takes_the_whole_timeout():
    task = {
        "Type": "Task",
        "TimeoutSeconds": 10,
        "Retry": [
            {"ErrorEquals": ["A"], "IntervalSeconds": 1, "MaxAttempts": 2},  # waits 1, 2
            {"ErrorEquals": ["B"], "IntervalSeconds": 5, "MaxAttempts": 1},  # waits 5
        ],
    }

    cost = state_cost("T", task)

    assert (cost.attempts, cost.busy_seconds, cost.wait_seconds) == (4, 40, 8)


def test_a_task_without_a_timeout_gets_the_asl_default_of_99999999_seconds():
    assert state_cost("T", {"Type": "Task"}).seconds == 99_999_999


def test_the_worst_path_takes_the_longer_of_next_and_catch():
    definition = {
        "StartAt": "A",
        "States": {
            "A": {
                "Type": "Task",
                "TimeoutSeconds": 5,
                "Next": "Quick",
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Slow"}],
            },
            "Quick": {"Type": "Succeed"},
            "Slow": {"Type": "Task", "TimeoutSeconds": 7, "End": True},
        },
    }

    path = worst_path(definition)

    assert (path.states, path.seconds) == (("A", "Slow"), 12)


@pytest.mark.parametrize(
    "states",
    [
        {"A": {"Type": "Task", "TimeoutSecondsPath": "$.t", "End": True}},
        {"A": {"Type": "Wait", "SecondsPath": "$.s", "End": True}},
        {"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Pass", "Next": "A"}},
        {"A": {"Type": "Parallel", "Branches": [], "End": True}},
    ],
    ids=["timeout from input", "wait from input", "loop", "parallel"],
)
def test_a_definition_its_text_does_not_bound_is_refused(states):
    with pytest.raises(UnboundedDefinition):
        worst_path({"StartAt": "A", "States": states})


def test_once_the_deadline_has_passed_a_step_that_checks_it_ends_through_its_catch():
    checks = {"Type": "Task", "TimeoutSeconds": 10, "Parameters": {"t.$": "$$.Execution.StartTime"}}
    definition = {
        "StartAt": "One",
        "States": {
            "One": {**checks, "Next": "Two", "Catch": [{"ErrorEquals": ["X"], "Next": "Undo"}]},
            "Two": {**checks, "Next": "Three", "Catch": [{"ErrorEquals": ["X"], "Next": "Undo"}]},
            "Three": {**checks, "End": True},
            "Undo": {"Type": "Task", "TimeoutSeconds": 1, "End": True},
        },
    }

    verdict = check(definition, "EXPRESS", saga_deadline=60)

    assert verdict.worst.seconds == 30  # One, Two, Three
    # One in flight at the deadline, Two refuses, Undo compensates; Three never runs.
    assert (verdict.after_deadline.states, verdict.after_deadline.seconds) == (
        ("One", "Two", "Undo"),
        21,
    )
    assert not check(definition, "EXPRESS", saga_deadline=280).fits
    assert check(definition, "EXPRESS", saga_deadline=279).fits


# -- the saga as deployed ------------------------------------------------------------------


@pytest.mark.parametrize("workflow_type", sorted(HARD_LIMIT_SECONDS))
def test_every_path_of_the_saga_ends_before_the_workflow_types_hard_stop(workflow_type):
    verdict = check(DEFINITION, workflow_type, saga_deadline=0)

    assert verdict.worst.seconds <= HARD_LIMIT_SECONDS[workflow_type], verdict.problems


def test_a_standard_saga_with_the_default_deadline_is_compensated_before_its_hard_stop():
    verdict = check(DEFINITION, "STANDARD", float(DEFAULTS["SagaTimeoutSeconds"]))

    assert verdict.fits, verdict.problems


def test_every_deadline_the_template_allows_an_express_saga_leaves_time_to_compensate():
    for deadline in express_deadlines():
        verdict = check(DEFINITION, "EXPRESS", deadline)
        assert verdict.fits, (deadline, verdict.problems)


def test_the_template_refuses_an_express_saga_with_the_default_deadline():
    default = int(DEFAULTS["SagaTimeoutSeconds"])

    assert not check(DEFINITION, "EXPRESS", default).fits
    assert default not in express_deadlines()


def test_the_express_deadlines_allowed_are_valid_values_of_the_parameter():
    from samcli.yamlhelper import yaml_parse

    parameter = yaml_parse(RAW_TEMPLATE)["Parameters"]["SagaTimeoutSeconds"]
    assert all(
        int(parameter["MinValue"]) <= deadline <= int(parameter["MaxValue"])
        for deadline in express_deadlines()
    )


def test_the_figures_the_template_states_are_the_ones_the_asl_gives():
    verdict = check(DEFINITION, "EXPRESS", 0)
    longest_deadline = HARD_LIMIT_SECONDS["EXPRESS"] - verdict.after_deadline.seconds

    assert f"is {verdict.worst.seconds:.0f} s, under" in RAW_TEMPLATE
    assert f"may still run {verdict.after_deadline.seconds:.0f} s" in RAW_TEMPLATE
    assert f"at most {longest_deadline:.0f} s" in RAW_TEMPLATE
    assert max(express_deadlines()) <= longest_deadline
