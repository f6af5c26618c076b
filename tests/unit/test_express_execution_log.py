"""The local Express execution log answers DescribeExecution's questions from its records
as a Logs Insights query would: an execution ends once, whatever is logged after."""

from __future__ import annotations

from local_runtime.emulator.express import ExecutionLog

MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:saga"
ARN = "arn:aws:states:us-east-1:123456789012:express:saga:o1:0f1e"


def record(number: int, event_type: str, second: int, **details: str) -> dict[str, object]:
    shown: dict[str, object] = {
        "id": str(number),
        "previous_event_id": str(number - 1),
        "event_timestamp": f"2026-12-02T00:00:{second:02d}+00:00",
        "type": event_type,
        "execution_arn": ARN,
    }
    if details:
        shown["details"] = details
    return shown


def logged(*types: str) -> ExecutionLog:
    log = ExecutionLog()
    log.open(MACHINE, "o1", ARN)
    log.put(record(1, "ExecutionStarted", 0, input='{"order_id": "o1"}'))
    for number, event_type in enumerate(types, start=2):
        log.put(record(number, event_type, number))
    return log


def test_a_record_logged_after_the_end_leaves_the_execution_ended() -> None:
    # The last state's Lambda answer logged once more after the execution succeeded (a
    # state in flight runs on unheard): still SUCCEEDED, never RUNNING again.
    log = logged("TaskStateEntered", "LambdaFunctionSucceeded", "ExecutionSucceeded")
    log.put(record(5, "LambdaFunctionSucceeded", 9))

    described = log.describe(ARN)

    assert described is not None
    assert (described["status"], described["stopDate"].second) == ("SUCCEEDED", 4)
    assert [e["status"] for e in log.executions(MACHINE, "RUNNING")] == []


def test_an_execution_without_an_end_event_is_running() -> None:
    log = logged("TaskStateEntered", "LambdaFunctionScheduled")

    described = log.describe(ARN)

    assert described is not None and described["status"] == "RUNNING"
    assert "stopDate" not in described
