"""A second, independent ASL interpreter: aws-local-stepfunctions (npm, in
tests/asl_interpreter/) runs the very definition moto runs, its Lambda tasks answered by
the real handlers through the local runtime's Lambda Invoke API, so faults injected there
(local_runtime.emulator.faults.Fault) reach both interpreters alike.

What it is given, and why:

- the definition moto was created with (DescribeStateMachine), so DefinitionSubstitutions
  are resolved once, by the local runtime, for both;
- the input the saga launcher starts an execution with, and a Context Object shaped as
  AWS's (the library fills in Execution.StartTime itself, when its run starts);
- Retry pauses shortened on purpose through the library's retryIntervalOverrides: each
  retry waits its retrier's IntervalSeconds times the runtime's time scale. The library
  then plays neither BackoffRate nor JitterStrategy, which decide no path here.
- TimeoutSeconds as written: the library offers no override for it (moto's is scaled,
  local_runtime/emulator/clock.py). A hanging handler ends at its function's Timeout, scaled, far
  sooner than either task timer, so Sandbox.Timedout decides the path in both.
- service integrations (arn:aws:states:::sqs:sendMessage) are beyond the library, which
  only invokes Lambda: run.mjs answers them as the service would and reports the call's
  resolved Parameters, and ``apply_service_calls`` then makes the call on moto;
- a Fail state's CausePath that is an intrinsic function (AWS allows States.Format,
  States.JsonToString and a few others there: "Fail workflow state" in the Step Functions
  guide) becomes a fixed Cause: the library reads CausePath as a plain path only and fails
  the execution with States.Runtime. Paths and ends compare on the error, so nothing
  decided by the cause is lost; a probe shows the library still lacks it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3

if TYPE_CHECKING:
    from local_runtime.runtime import LocalRuntime

NODE_DIR = Path(__file__).resolve().parents[1] / "asl_interpreter"
SCRIPT = NODE_DIR / "run.mjs"
RUN_TIMEOUT_SECONDS = 120.0
MOTO = "moto"
SECOND = "aws-local-stepfunctions"


@dataclass(frozen=True)
class Run:
    """One execution as one interpreter ran it."""

    interpreter: str
    order_id: str
    status: str
    error: str | None
    cause: str | None
    output: dict[str, Any] | None
    path: list[str]
    """The states entered, in order."""
    attempts: list[int]
    """Per entry of ``path``: how many times its task was attempted (0: not a task)."""
    service_calls: list[dict[str, Any]] = field(default_factory=list)


def state_machine(runtime: LocalRuntime) -> dict[str, Any]:
    """moto's state machine as created: its definition has the substitutions resolved."""
    described = boto3.client("stepfunctions").describe_state_machine(
        stateMachineArn=runtime.state_machine_arn
    )
    return dict(described)


def saga_input(order_id: str) -> dict[str, Any]:
    """What the saga launcher (order_saga.adapters.saga_launcher) starts an execution with."""
    return {"order_id": order_id}


def moto_run(runtime: LocalRuntime, order_id: str, timeout: float = 60.0) -> Run:
    """Start the order's saga on moto as the launcher does, and wait for its end."""
    boto3.client("stepfunctions").start_execution(
        stateMachineArn=runtime.state_machine_arn,
        name=order_id,
        input=json.dumps(saga_input(order_id)),
    )
    execution = runtime.wait(order_id, timeout)
    return Run(
        interpreter=MOTO,
        order_id=order_id,
        status=execution.status,
        error=execution.error,
        cause=execution.cause,
        output=execution.output,
        path=execution.path,
        attempts=attempts(runtime.history(execution.arn)),
    )


def attempts(history: list[dict[str, Any]]) -> list[int]:
    """Task attempts per state entered, from a Step Functions execution history."""
    counted: list[int] = []
    for event in history:
        if event["type"].endswith("StateEntered"):
            counted.append(0)
        elif event["type"] in ("LambdaFunctionScheduled", "TaskScheduled") and counted:
            counted[-1] += 1
    return counted


class SecondInterpreter:
    """aws-local-stepfunctions, one Node.js process per execution."""

    def __init__(self, runtime: LocalRuntime) -> None:
        node = shutil.which("node")
        if node is None:
            raise RuntimeError("node is not on PATH: `make test` installs Node.js")
        if not (NODE_DIR / "node_modules" / "aws-local-stepfunctions").is_dir():
            raise RuntimeError(f"{NODE_DIR.name}/node_modules is missing: run `make test`")
        self.node = node
        self.runtime = runtime
        self.machine = state_machine(runtime)
        self.definition = without_cause_intrinsics(json.loads(self.machine["definition"]))

    def retry_interval_overrides(self, definition: dict[str, Any]) -> dict[str, list[float]]:
        """Each retrier's first pause, in milliseconds, on the runtime's time scale."""
        scale = self.runtime.time_scale
        return {
            name: [1000.0 * scale * retrier.get("IntervalSeconds", 1) for retrier in retry]
            for name, state in definition["States"].items()
            if (retry := state.get("Retry"))
        }

    def context(self, order_id: str) -> dict[str, Any]:
        """The Context Object AWS gives an execution named after the order."""
        return {
            "Execution": {
                "Id": self.runtime.execution_arn(order_id),
                "Name": order_id,
                "RoleArn": self.machine["roleArn"],
                "RedriveCount": 0,
            },
            "StateMachine": {"Id": self.machine["stateMachineArn"], "Name": self.machine["name"]},
        }

    def run(self, order_id: str, definition: dict[str, Any] | None = None) -> Run:
        """The order's saga; ``definition`` runs another definition instead, as if it were
        the saga's (for a probe of the interpreter itself)."""
        definition = definition or self.definition
        request = {
            "definition": definition,
            "input": saga_input(order_id),
            "context": self.context(order_id),
            "retryIntervalOverrides": self.retry_interval_overrides(definition),
        }
        # Each invocation answered once, as Step Functions invokes: the SDK's own retries
        # would hide an answer of the Lambda service from the interpreter.
        env = {**os.environ, "AWS_MAX_ATTEMPTS": "1"}
        done = subprocess.run(
            [self.node, str(SCRIPT)],
            input=json.dumps(request),
            capture_output=True,
            text=True,
            cwd=NODE_DIR,
            env=env,
            timeout=RUN_TIMEOUT_SECONDS,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"{SECOND} could not run order {order_id}:\n{done.stderr}")
        report = json.loads(done.stdout)
        path = list(report["path"])
        tasks = {name for name, state in definition["States"].items() if state["Type"] == "Task"}
        return Run(
            interpreter=SECOND,
            order_id=order_id,
            status=report["status"],
            error=report["error"],
            cause=report["cause"],
            output=report["output"],
            path=path,
            attempts=[
                1 + retried if state in tasks else 0
                for state, retried in zip(path, report["retries"], strict=True)
            ],
            service_calls=list(report["serviceCalls"]),
        )


CAUSE_INTRINSICS = ("States.",)
UNEVALUATED_CAUSE = "CausePath intrinsic not evaluated by " + SECOND


def without_cause_intrinsics(definition: dict[str, Any]) -> dict[str, Any]:
    """The definition with every Fail state's intrinsic CausePath made a fixed Cause."""
    states = {}
    for name, state in definition["States"].items():
        path = state.get("CausePath", "")
        if state["Type"] == "Fail" and path.startswith(CAUSE_INTRINSICS):
            state = {key: value for key, value in state.items() if key != "CausePath"}
            state["Cause"] = UNEVALUATED_CAUSE
        states[name] = state
    return {**definition, "States": states}


def apply_service_calls(run: Run) -> None:
    """Make on moto the service calls the second interpreter answered itself."""
    for call in run.service_calls:
        if call["resource"] != "arn:aws:states:::sqs:sendMessage":
            raise ValueError(f"no local service for {call['resource']} ({call['state']})")
        parameters = call["parameters"]
        body = parameters["MessageBody"]
        boto3.client("sqs").send_message(
            QueueUrl=parameters["QueueUrl"],
            MessageBody=body if isinstance(body, str) else json.dumps(body),
        )


def first_difference(first: list[str], second: list[str]) -> int | None:
    """The index of the first state entered differently (or missing), None when equal."""
    for index, (a, b) in enumerate(zip(first, second, strict=False)):
        if a != b:
            return index
    return None if len(first) == len(second) else min(len(first), len(second))


def disagreements(moto: Run, second: Run) -> list[str]:
    """How the two runs disagree on the path or the end; empty when they agree."""
    found = []
    index = first_difference(moto.path, second.path)
    if index is not None:
        found.append(
            f"the paths part at state {index + 1}: {_entered(moto, index)} but "
            f"{_entered(second, index)} (after {moto.path[:index]})"
        )
    elif moto.attempts != second.attempts:
        index = next(
            i for i, (a, b) in enumerate(zip(moto.attempts, second.attempts, strict=True)) if a != b
        )
        found.append(
            f"state {moto.path[index]} was attempted {moto.attempts[index]} times by {MOTO}, "
            f"{second.attempts[index]} times by {SECOND}"
        )
    if (moto.status, moto.error) != (second.status, second.error):
        last = moto.path[-1] if moto.path else "the start"
        found.append(
            f"the ends differ after {last}: {MOTO} {moto.status} {moto.error!r}, "
            f"{SECOND} {second.status} {second.error!r}"
        )
    return found


def _entered(run: Run, index: int) -> str:
    state = run.path[index] if index < len(run.path) else "nothing more (the execution ended)"
    return f"{run.interpreter} entered {state}"
