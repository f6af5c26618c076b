"""Express workflows as Step Functions runs them (moto runs every state machine as a
Standard one). A correctness fix like those in correctness.py: without it an Express
execution answers DescribeExecution, keeps its name's idempotency and runs past five
minutes, where AWS refuses, starts again and stops it. What each patch does and why:
local_runtime/emulator/express.py, which holds the execution log and the reruns.

The patches act on Express state machines only, and only once ``attach`` has given them
a log (LocalRuntime.start does); Standard ones run exactly as moto runs them.
"""

from __future__ import annotations

import copy
import datetime
import json
import threading
import uuid
from typing import Any

from local_runtime.emulator.clock import scaled
from local_runtime.emulator.express import (
    EXPRESS,
    HARD_STOP_SECONDS,
    ExecutionLog,
    Reruns,
    is_express_arn,
)
from local_runtime.patches.patching import patch

_current: tuple[ExecutionLog, Reruns] | None = None


def attach(log: ExecutionLog, reruns: Reruns) -> None:
    """Express executions from now on log to ``log`` and rerun as ``reruns`` asks (one
    runtime at a time per process, as moto's backends are)."""
    global _current
    _current = (log, reruns)


def apply() -> None:
    from moto.stepfunctions.parser.asl.component.program.program import Program
    from moto.stepfunctions.parser.asl.component.state.exec.execute_state import (
        ExecutionState,
    )
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    patch(StepFunctionsParserBackend, "start_execution", _express_starts)
    for name in ("describe_execution", "get_execution_history", "stop_execution"):
        patch(StepFunctionsParserBackend, name, _refusing_express_arns)
    patch(StepFunctionsParserBackend, "list_executions", _refusing_express_machines)
    patch(Program, "eval", _stopping_hard)
    patch(ExecutionState, "_evaluate_with_timeout", _at_least_once)


def _express_starts(original: Any) -> Any:
    def start_execution(
        self: Any,
        state_machine_arn: str,
        name: str | None = None,
        execution_input: str | None = None,
        trace_header: str | None = None,
    ) -> Any:
        machine = self.describe_state_machine(state_machine_arn)
        if machine.type != EXPRESS or _current is None:
            return original(self, state_machine_arn, name, execution_input, trace_header)
        return _start_express(self, machine, name, execution_input, trace_header)

    return start_execution


def _start_express(
    backend: Any, machine: Any, name: str | None, execution_input: str | None, trace: Any
) -> Any:
    """moto's start_execution, without the name's idempotency, with an Express ARN, the
    Express type in the interpreter's context and the execution log attached."""
    from moto.stepfunctions.exceptions import InvalidExecutionInput
    from moto.stepfunctions.parser.api import StateMachineType
    from moto.stepfunctions.parser.backend.execution import Execution

    assert _current is not None
    log, _ = _current
    if name:
        backend._validate_name(name)
    name = name or str(uuid.uuid4())
    input_data = "{}" if execution_input is None else execution_input
    try:
        json.loads(input_data)
    except ValueError as exc:
        raise InvalidExecutionInput(f"Invalid State Machine Execution Input: '{exc}'") from None
    arn = (
        f"arn:{backend.partition}:states:{backend.region_name}:{backend.account_id}"
        f":express:{machine.name}:{name}:{uuid.uuid4()}"
    )
    snapshot = copy.deepcopy(
        machine, {id(machine.executions): [], id(machine.backend): machine.backend}
    )
    snapshot.sm_type = StateMachineType.EXPRESS
    execution = Execution(
        name=name,
        sm_type=StateMachineType.EXPRESS,
        role_arn=snapshot.roleArn,
        exec_arn=arn,
        account_id=backend.account_id,
        region_name=backend.region_name,
        state_machine=snapshot,
        start_date=datetime.datetime.now(tz=datetime.UTC),
        cloud_watch_logging_session=log.open(machine.arn, name, arn),  # type: ignore[arg-type]
        input_data=input_data,
        trace_header=trace,
        activity_store={},
    )
    # Kept by moto for the interpreter (callbacks find their execution there), never
    # answered to DescribeExecution or ListExecutions (refused below).
    machine.executions.append(execution)
    execution.start()
    return execution


def _refusing_express_arns(original: Any) -> Any:
    def refusing(self: Any, execution_arn: str, *args: Any, **kwargs: Any) -> Any:
        from moto.stepfunctions.exceptions import InvalidArn

        if is_express_arn(execution_arn):
            raise InvalidArn("Invalid Arn: 'Resource type not valid in this context: express'")
        return original(self, execution_arn, *args, **kwargs)

    return refusing


def _refusing_express_machines(original: Any) -> Any:
    from moto.core.exceptions import AWSError

    class StateMachineTypeNotSupported(AWSError):
        TYPE = "StateMachineTypeNotSupported"
        STATUS = 400

    def list_executions(self: Any, state_machine_arn: str, *args: Any, **kwargs: Any) -> Any:
        if self.describe_state_machine(state_machine_arn).type == EXPRESS:
            raise StateMachineTypeNotSupported(
                "This operation is not supported by this type of state machine"
            )
        return original(self, state_machine_arn, *args, **kwargs)

    return list_executions


def _stopping_hard(original: Any) -> Any:
    def eval(self: Any, env: Any) -> None:
        if getattr(env, "execution_type", None) != EXPRESS or env.is_frame():
            original(self, env)
            return
        # moto times the program out at its own TimeoutSeconds, if any, inside; the
        # Express limit is applied around it the same way: the execution is TIMED_OUT,
        # the state in flight runs to its end unheard, and moto then logs the time-out.
        runner = threading.Thread(target=original, args=(self, env), daemon=True)
        runner.start()
        runner.join(timeout=scaled(HARD_STOP_SECONDS))
        if runner.is_alive():
            env.set_timed_out()
            runner.join()

    return eval


def _at_least_once(original: Any) -> Any:
    def _evaluate_with_timeout(self: Any, env: Any) -> None:
        if _current is not None and getattr(env, "execution_type", None) == EXPRESS:
            _, reruns = _current
            context = env.states.context_object.context_object_data
            if reruns.take(self.name, context["Execution"]["Input"]):
                state_input = copy.deepcopy(env.states.get_input())
                stack = list(env.stack)
                original(self, env)  # its result is lost: the state runs again
                env.states.reset(input_value=state_input)
                env.stack[:] = stack
        original(self, env)

    return _evaluate_with_timeout
