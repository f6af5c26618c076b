"""One execution's history read as the Step Functions console reads it: the steps it took
(each state entered, with its input, output, error and cause), the colour of each state
on the graph, and the edges it went along.

Works on the events of ``GetExecutionHistory`` (moto's interpreter writes the same
shapes as AWS), oldest first.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from itertools import pairwise
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from datetime import datetime

    from local_runtime.console.asl_graph import Edge, Graph

# The events that end one attempt of a task with an error, and their details' key.
ATTEMPT_FAILED = {
    "LambdaFunctionFailed": "lambdaFunctionFailedEventDetails",
    "LambdaFunctionTimedOut": "lambdaFunctionTimedOutEventDetails",
    "LambdaFunctionScheduleFailed": "lambdaFunctionScheduleFailedEventDetails",
    "LambdaFunctionStartFailed": "lambdaFunctionStartFailedEventDetails",
    "TaskFailed": "taskFailedEventDetails",
    "TaskTimedOut": "taskTimedOutEventDetails",
    "TaskStartFailed": "taskStartFailedEventDetails",
    "TaskSubmitFailed": "taskSubmitFailedEventDetails",
}
ATTEMPT_SUCCEEDED = ("LambdaFunctionSucceeded", "TaskSucceeded")
ATTEMPT_SCHEDULED = ("LambdaFunctionScheduled", "TaskScheduled")
EXECUTION_ENDED = {
    "ExecutionSucceeded": None,
    "ExecutionFailed": "executionFailedEventDetails",
    "ExecutionTimedOut": "executionTimedOutEventDetails",
    "ExecutionAborted": "executionAbortedEventDetails",
}


@dataclass
class Step:
    """One state entered, as its events tell it."""

    name: str
    type: str
    """The state type as the history names it: Task, Pass, Choice, Fail, ..."""
    entered_at: datetime
    input: str | None
    exited_at: datetime | None = None
    output: str | None = None
    status: str = "running"
    """"running", "succeeded" or "failed" (its last attempt raised, caught or not)."""
    error: str | None = None
    cause: str | None = None
    attempts: int = 0
    """Task attempts made (retries included); 0 for states that run no task."""
    retried_errors: list[str] = field(default_factory=list)
    """The errors of the attempts that were retried, in order."""

    def as_json(self) -> dict[str, Any]:
        view = asdict(self)
        view["entered_at"] = self.entered_at.isoformat()
        view["exited_at"] = self.exited_at.isoformat() if self.exited_at else None
        ended = self.exited_at
        view["duration_ms"] = (
            round((ended - self.entered_at).total_seconds() * 1000) if ended else None
        )
        return view


def steps_of(history: list[dict[str, Any]]) -> list[Step]:
    """The states the execution entered, in order, each with what happened in it."""
    steps: list[Step] = []
    current: Step | None = None
    attempt_error: tuple[str | None, str | None] | None = None
    for event in history:
        kind: str = event["type"]
        if kind.endswith("StateEntered"):
            details = event.get("stateEnteredEventDetails") or {}
            current = Step(
                name=str(details.get("name")),
                type=kind.removesuffix("StateEntered"),
                entered_at=event["timestamp"],
                input=details.get("input"),
            )
            steps.append(current)
            attempt_error = None
        elif current is None:
            continue
        elif kind in ATTEMPT_SCHEDULED:
            if attempt_error is not None and attempt_error[0]:
                current.retried_errors.append(attempt_error[0])
            current.attempts += 1
            attempt_error = None
        elif kind in ATTEMPT_FAILED:
            details = event.get(ATTEMPT_FAILED[kind]) or {}
            attempt_error = (details.get("error"), details.get("cause"))
        elif kind in ATTEMPT_SUCCEEDED:
            attempt_error = None
        elif kind.endswith("StateExited"):
            details = event.get("stateExitedEventDetails") or {}
            current.exited_at = event["timestamp"]
            current.output = details.get("output")
            _settle(current, attempt_error)
        elif kind in EXECUTION_ENDED and current.status == "running":
            # The state did not exit: the execution ended in it (a Fail state, an
            # uncaught error, a Succeed state, a timeout or an abort).
            key = EXECUTION_ENDED[kind]
            details = (event.get(key) or {}) if key else {}
            current.exited_at = event["timestamp"]
            if kind == "ExecutionSucceeded":
                current.status = "succeeded"
            else:
                # A task's own error names what failed; a Fail state's is the execution's.
                error, cause = attempt_error or (None, None)
                current.status = "failed"
                current.error = error or details.get("error") or kind
                current.cause = cause or details.get("cause")
    return steps


def _settle(step: Step, attempt_error: tuple[str | None, str | None] | None) -> None:
    if attempt_error is None:
        step.status = "succeeded"
    else:
        step.status = "failed"
        step.error, step.cause = attempt_error


def painted(graph: Graph, steps: list[Step]) -> dict[str, str]:
    """Node id -> how the console paints it for this execution (keys of STATUS_STYLES).

    The step that raised (its error caught or not) and the Fail state the execution
    ended in are "failed"; a Succeed state reached is "succeeded" even off the forward
    path; the other states reached only through a Catch are "compensating"; a state
    still running is "running". A state entered twice takes its last colour.
    """
    colours: dict[str, str] = {}
    for step in steps:
        node = graph.node(step.name)
        if node is None:
            continue  # a state inside a Parallel or Map: not drawn
        if step.status in ("running", "failed"):
            colours[node.id] = step.status
        elif node.type == "Succeed":
            colours[node.id] = "succeeded"
        elif node.branch == "compensation":
            colours[node.id] = "compensating"
        else:
            colours[node.id] = "succeeded"
    return colours


def taken(graph: Graph, steps: list[Step], execution_status: str) -> list[int]:
    """The indexes of the edges the execution went along."""
    indexes: list[int] = []
    drawn = [s for s in steps if graph.node(s.name) is not None]
    if not drawn:
        return indexes
    first = graph.node(drawn[0].name)
    for i, edge in enumerate(graph.edges):
        if edge.kind == "start" and first is not None and edge.target == first.id:
            indexes.append(i)
    for before, after in pairwise(drawn):
        index = _edge_between(graph, before, after)
        if index is not None:
            indexes.append(index)
    last = drawn[-1]
    if execution_status != "RUNNING" and last.status != "running":
        node = graph.node(last.name)
        for i, edge in enumerate(graph.edges):
            if edge.kind == "end" and node is not None and edge.source == node.id:
                indexes.append(i)
    return sorted(set(indexes))


def _edge_between(graph: Graph, before: Step, after: Step) -> int | None:
    source, target = graph.node(before.name), graph.node(after.name)
    if source is None or target is None:
        return None
    candidates = [
        (i, edge)
        for i, edge in enumerate(graph.edges)
        if edge.source == source.id and edge.target == target.id
    ]
    if before.status == "failed":
        # The first Catch that matches the error is the one that was taken.
        for i, edge in candidates:
            if edge.kind == "catch" and _catches(edge, before.error or ""):
                return i
    for i, edge in candidates:
        if edge.kind != "catch":
            return i
    return candidates[0][0] if candidates else None


def _catches(edge: Edge, error: str) -> bool:
    if error in edge.errors or "States.ALL" in edge.errors:
        return True
    return "States.TaskFailed" in edge.errors and error != "States.Timeout"
