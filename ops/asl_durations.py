"""How long an execution of an ASL definition can take at worst, from the definition alone.

Every Task is assumed to use its whole TimeoutSeconds on every attempt (a step that fails
just before its timeout, then again, until its retriers give up), and every retry to wait
its longest: IntervalSeconds x BackoffRate^(n-1) before the n-th retry, capped at
MaxDelaySeconds; JitterStrategy FULL only ever shortens a wait (a random delay between 0
and that value), so it is ignored. Each retrier counts its own attempts, so a state whose
errors alternate between two retriers can use both budgets: 1 + the sum of MaxAttempts.
The ASL's defaults apply where a field is left out (IntervalSeconds 1, MaxAttempts 3,
BackoffRate 2.0, Task TimeoutSeconds 99999999). The worst path is the longest through the
transitions (Next, each Catch, each Choice and the Default), forward steps and
compensation alike.

Workflow types stop an execution at a hard limit: STANDARD after a year, EXPRESS after
five minutes, with no Catch and no compensation. ``check`` compares the worst path with
that limit, and the saga deadline with what may still run once it has passed:

    python -m ops.asl_durations [EXPRESS|STANDARD] [saga deadline in seconds]

A definition whose time is not bounded by its own text (a TimeoutSecondsPath, a Wait on a
path, a loop, a Parallel or Map state) raises UnboundedDefinition: no figure would be honest.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from samcli.yamlhelper import yaml_parse

TEMPLATE = Path(__file__).resolve().parent.parent / "template.yaml"

HARD_LIMIT_SECONDS = {"STANDARD": 365 * 24 * 3600, "EXPRESS": 5 * 60}
"""How long Step Functions lets one execution of each workflow type run."""

DEFAULT_TASK_TIMEOUT = 99_999_999
DEFAULT_INTERVAL = 1.0
DEFAULT_MAX_ATTEMPTS = 3
DEFAULT_BACKOFF = 2.0
DEADLINE_INPUT = "$$.Execution.StartTime"
"""A Task whose Parameters pass the execution's start time checks the saga deadline: once
the deadline has passed it refuses (SagaTimedOut), so it ends through a Catch."""


class UnboundedDefinition(ValueError):
    """The definition's own text does not bound how long an execution can take."""


@dataclass(frozen=True)
class StateCost:
    name: str
    attempts: int
    busy_seconds: float
    """Attempts x the task's timeout (0 for states that do no work)."""
    wait_seconds: float
    """Every retry's longest wait, added up."""

    @property
    def seconds(self) -> float:
        return self.busy_seconds + self.wait_seconds


@dataclass(frozen=True)
class WorstPath:
    states: tuple[str, ...]
    seconds: float


@dataclass(frozen=True)
class Verdict:
    workflow_type: str
    hard_limit: float
    worst: WorstPath
    """The longest any execution can take."""
    after_deadline: WorstPath
    """The longest an execution can still take once its saga deadline has passed."""
    saga_deadline: float
    problems: tuple[str, ...]

    @property
    def fits(self) -> bool:
        return not self.problems


def retry_waits(retrier: Mapping[str, Any]) -> list[float]:
    """The longest wait before each retry this retrier allows."""
    interval = float(retrier.get("IntervalSeconds", DEFAULT_INTERVAL))
    backoff = float(retrier.get("BackoffRate", DEFAULT_BACKOFF))
    cap = retrier.get("MaxDelaySeconds")
    waits = []
    for n in range(int(retrier.get("MaxAttempts", DEFAULT_MAX_ATTEMPTS))):
        wait = interval * backoff**n
        waits.append(min(wait, float(cap)) if cap is not None else wait)
    return waits


def state_cost(name: str, state: Mapping[str, Any]) -> StateCost:
    kind = state.get("Type")
    if kind in ("Pass", "Choice", "Succeed", "Fail"):
        return StateCost(name, 0, 0.0, 0.0)
    if kind == "Wait":
        if "Seconds" not in state:
            raise UnboundedDefinition(f"{name}: a Wait bounded only by its input")
        return StateCost(name, 0, float(state["Seconds"]), 0.0)
    if kind != "Task":
        raise UnboundedDefinition(f"{name}: {kind} states are not measured")
    if "TimeoutSecondsPath" in state:
        raise UnboundedDefinition(f"{name}: its timeout comes from its input")
    timeout = float(state.get("TimeoutSeconds", DEFAULT_TASK_TIMEOUT))
    waits = [wait for retrier in state.get("Retry", []) for wait in retry_waits(retrier)]
    attempts = 1 + len(waits)
    return StateCost(name, attempts, attempts * timeout, sum(waits))


def checks_deadline(state: Mapping[str, Any]) -> bool:
    parameters = state.get("Parameters") or {}
    return state.get("Type") == "Task" and DEADLINE_INPUT in parameters.values()


def _successors(state: Mapping[str, Any], *, deadline_passed: bool) -> list[str]:
    targets = [catch["Next"] for catch in state.get("Catch", [])]
    if deadline_passed and checks_deadline(state):
        return targets  # it refuses: only a Catch leads on
    if "Next" in state:
        targets.append(state["Next"])
    targets += [choice["Next"] for choice in state.get("Choices", [])]
    if "Default" in state:
        targets.append(state["Default"])
    return targets


class _Paths:
    def __init__(self, definition: Mapping[str, Any]) -> None:
        self.states: Mapping[str, Mapping[str, Any]] = definition["States"]
        self.costs = {name: state_cost(name, s) for name, s in self.states.items()}
        self._memo: dict[tuple[str, bool], WorstPath] = {}
        self._visiting: set[tuple[str, bool]] = set()

    def worst_from(self, name: str, *, deadline_passed: bool = False) -> WorstPath:
        key = (name, deadline_passed)
        if key in self._memo:
            return self._memo[key]
        if key in self._visiting:
            raise UnboundedDefinition(f"a loop through {name}: no bound on its repetitions")
        if name not in self.states:
            raise UnboundedDefinition(f"a transition to {name}, which is no state")
        self._visiting.add(key)
        state = self.states[name]
        rest = [
            self.worst_from(target, deadline_passed=deadline_passed)
            for target in _successors(state, deadline_passed=deadline_passed)
        ]
        self._visiting.discard(key)
        longest = max(rest, key=lambda path: path.seconds, default=WorstPath((), 0.0))
        path = WorstPath((name, *longest.states), self.costs[name].seconds + longest.seconds)
        self._memo[key] = path
        return path

    def worst_after_deadline(self) -> WorstPath:
        """The longest the rest can take from any state that may be running when the
        deadline passes: that state in full (it started in time), then every later step
        that checks the deadline ends through its Catch."""
        candidates = []
        for name, state in self.states.items():
            rest = [
                self.worst_from(target, deadline_passed=True)
                for target in _successors(state, deadline_passed=False)
            ]
            longest = max(rest, key=lambda path: path.seconds, default=WorstPath((), 0.0))
            candidates.append(
                WorstPath((name, *longest.states), self.costs[name].seconds + longest.seconds)
            )
        return max(candidates, key=lambda path: path.seconds)


def worst_path(definition: Mapping[str, Any]) -> WorstPath:
    """The longest an execution can take, and through which states."""
    return _Paths(definition).worst_from(definition["StartAt"])


def check(definition: Mapping[str, Any], workflow_type: str, saga_deadline: float) -> Verdict:
    """Whether every execution ends (compensated, confirmed or handed to manual review)
    before the workflow type's hard stop, and whether a saga whose deadline has passed
    still has the time to be compensated before it."""
    if workflow_type not in HARD_LIMIT_SECONDS:
        raise ValueError(f"workflow type {workflow_type!r} is none of {sorted(HARD_LIMIT_SECONDS)}")
    limit = HARD_LIMIT_SECONDS[workflow_type]
    paths = _Paths(definition)
    worst = paths.worst_from(definition["StartAt"])
    after = paths.worst_after_deadline()
    problems = []
    if worst.seconds > limit:
        problems.append(
            f"the worst case, {worst.seconds:.0f} s through {' -> '.join(worst.states)}, "
            f"outlasts {workflow_type}'s hard stop at {limit:.0f} s"
        )
    if saga_deadline + after.seconds > limit:
        problems.append(
            f"a saga deadline of {saga_deadline:.0f} s plus the {after.seconds:.0f} s that may "
            f"still run once it has passed ({' -> '.join(after.states)}) outlasts "
            f"{workflow_type}'s hard stop at {limit:.0f} s: the deadline can be at most "
            f"{limit - after.seconds:.0f} s"
        )
    return Verdict(workflow_type, limit, worst, after, saga_deadline, tuple(problems))


def definition_and_defaults(
    template_path: Path = TEMPLATE,
) -> tuple[dict[str, Any], dict[str, str]]:
    """The state machine's ASL (placeholders left as they are: they name resources, not
    times) and the template's parameter defaults."""
    template = yaml_parse(template_path.read_text(encoding="utf-8"))
    (machine,) = [
        resource
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::Serverless::StateMachine"
    ]
    asl = template_path.parent / machine["Properties"]["DefinitionUri"]
    defaults = {name: str(p.get("Default", "")) for name, p in template["Parameters"].items()}
    return json.loads(asl.read_text(encoding="utf-8")), defaults


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    definition, defaults = definition_and_defaults()
    workflow_type = args[0] if args else defaults["WorkflowType"]
    deadline = float(args[1]) if len(args) > 1 else float(defaults["SagaTimeoutSeconds"])
    verdict = check(definition, workflow_type, deadline)
    report = {
        "workflow_type": workflow_type,
        "hard_limit_seconds": verdict.hard_limit,
        "worst_case_seconds": verdict.worst.seconds,
        "worst_path": verdict.worst.states,
        "after_deadline_seconds": verdict.after_deadline.seconds,
        "after_deadline_path": verdict.after_deadline.states,
        "saga_deadline_seconds": deadline,
        "problems": verdict.problems,
    }
    json.dump(report, sys.stdout, indent=2)
    print()
    return 0 if verdict.fits else 1


if __name__ == "__main__":
    sys.exit(main())
