"""Correctness fixes: without them moto answers where AWS would not, or otherwise than AWS.

The product relies on AWS's behaviour, not moto's: each fix turns a defect that would
surface only on a real account (or under load) into one a local test sees. AWS's
documentation, not what moto accepts, decides.

1. One request at a time. moto's tables are plain dictionaries with no locking, and
   the local runtime runs many executions at once (the interpreter runs each on its
   own thread, the Lambda server answers each invocation on its own thread). Without
   a lock a Query iterating a table while a PutItem adds to it raises "dictionary
   changed size during iteration", or returns a stream with events missing: orders
   not found, stale versions, a transaction seen half written. DynamoDB is
   linearisable per item and a TransactWriteItems is all-or-nothing to readers;
   serialising moto's request handling (DynamoDB and DynamoDB Streams) gives the
   handlers the same. Some speed shortcuts rely on it (speed/dynamodb_reads.py).
   DynamoDB's latency, when the runtime models it (dynamodb_latency.py), is waited
   outside the lock: requests overlap in time as on AWS, and are applied one at a time.
2. A task's ``States.Timeout`` carries no Cause. Step Functions records a task that
   outlasts its TimeoutSeconds with an error and no cause (the LambdaFunctionTimedOut /
   TaskTimedOut event details have none), so the error output a Catch hands on is
   ``{"Error": "States.Timeout"}``; moto adds ``"Cause": ""``, on which a Fail state's
   ``CausePath: $.error.Cause`` selects an empty string where AWS selects nothing and
   fails the execution with States.Runtime.
3. A Fail state's ErrorPath and CausePath must select a string ("When resolved, the
   reference path must select a field that contains a string value", Fail state docs).
   moto already fails with States.Runtime when the path selects nothing, but takes any
   other value (an object, a number, null, a list) and records its str() as the cause.
4. An error of the Lambda service itself (the Invoke API answering 429
   TooManyRequestsException, say) reaches the state machine as ``Lambda.<code>``, as
   AWS reports it ("Lambda errors are reported as Lambda.<exception>"; "When Lambda
   hits the maximum number of invocations, the error is
   Lambda.TooManyRequestsException"). moto's interpreter names every such error of a
   Task whose Resource is a function ARN "Exception", so no retrier could match it.

Express workflows, which moto runs as Standard ones, are put right in express.py.
"""

from __future__ import annotations

import threading
from typing import Any

from local_runtime.patches import dynamodb_latency
from local_runtime.patches.patching import patch, patch_static

REQUEST_LOCK = threading.RLock()
"""Held while moto handles one DynamoDB or DynamoDB Streams request."""
TIMEOUT_ERRORS = frozenset({"States.Timeout", "States.HeartbeatTimeout"})


def apply() -> None:
    from moto.dynamodb.responses import DynamoHandler
    from moto.dynamodbstreams.responses import DynamoDBStreamsHandler
    from moto.stepfunctions.parser.asl.component.state.exec.execute_state import (
        ExecutionState,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task_lambda import (
        StateTaskLambda,
    )
    from moto.stepfunctions.parser.asl.component.state.fail.cause_decl import CausePath
    from moto.stepfunctions.parser.asl.component.state.fail.error_decl import ErrorPath

    for handler in (DynamoHandler, DynamoDBStreamsHandler):
        patch(handler, "call_action", _serialised)
    patch_static(ExecutionState, "_construct_error_output_value", _timeouts_without_cause)
    patch(CausePath, "_eval_body", lambda o: _selecting_a_string(o, "CausePath"))
    patch(ErrorPath, "_eval_body", lambda o: _selecting_a_string(o, "ErrorPath"))
    patch(StateTaskLambda, "_from_error", _lambda_service_errors_by_name)


def _serialised(original: Any) -> Any:
    def call_action(self: Any) -> Any:
        back = dynamodb_latency.before_request(self)
        try:
            with REQUEST_LOCK:
                return original(self)
        finally:
            dynamodb_latency.after_request(back)

    return call_action


def _timeouts_without_cause(original: Any) -> Any:
    def _construct_error_output_value(failure_event: Any) -> Any:
        output = original(failure_event=failure_event)
        details = next(iter(failure_event.event_details.values()), None) or {}
        if output.get("Error") in TIMEOUT_ERRORS and "cause" not in details:
            output.pop("Cause", None)
        return output

    return _construct_error_output_value


def _selecting_a_string(original: Any, field: str) -> Any:
    def _eval_body(self: Any, env: Any) -> None:
        from moto.stepfunctions.parser.asl.component.common.string.string_expression import (
            StringIntrinsicFunction,
        )

        original(self, env)
        if isinstance(self.string_expression, StringIntrinsicFunction):
            return  # moto admits only the intrinsics that return a string here
        value = env.stack[-1]
        if not isinstance(value, str):
            env.stack.pop()
            raise _runtime_error(
                env,
                f"The JSONPath '{self.string_expression.literal_value}' specified for the "
                f"field '{field}' selected a value that is not a string: {_json(value)}",
            )

    return _eval_body


def _runtime_error(env: Any, cause: str) -> Exception:
    from moto.stepfunctions.parser.api import HistoryEventType, TaskFailedEventDetails
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEvent,
        FailureEventException,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import (
        StatesErrorName,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
        StatesErrorNameType,
    )

    runtime = StatesErrorNameType.StatesRuntime
    details: Any = {
        "taskFailedEventDetails": TaskFailedEventDetails(error=runtime.to_name(), cause=cause)
    }
    return FailureEventException(
        failure_event=FailureEvent(
            env=env,
            error_name=StatesErrorName(typ=runtime),
            event_type=HistoryEventType.TaskFailed,
            event_details=details,
        )
    )


def _json(value: Any) -> str:
    from moto.stepfunctions.parser.asl.utils.encoding import to_json_str

    return str(to_json_str(value))


def _lambda_service_errors_by_name(original: Any) -> Any:
    def _from_error(self: Any, env: Any, ex: Exception) -> Any:
        from botocore.exceptions import ClientError
        from moto.stepfunctions.parser.api import (
            HistoryEventType,
            LambdaFunctionFailedEventDetails,
        )
        from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import (
            CustomErrorName,
        )
        from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
            FailureEvent,
        )

        if not isinstance(ex, ClientError):
            return original(self, env, ex)
        error, cause = lambda_service_error(ex)
        details: Any = {
            "lambdaFunctionFailedEventDetails": LambdaFunctionFailedEventDetails(
                error=error, cause=cause
            )
        }
        return FailureEvent(
            env=env,
            error_name=CustomErrorName(error),
            event_type=HistoryEventType.LambdaFunctionFailed,
            event_details=details,
        )

    return _from_error


def lambda_service_error(error: Any) -> tuple[str, str]:
    """(error, cause) for a failed Invoke, as Step Functions reports an error of the
    Lambda service: the error named Lambda.<code>, the cause as the service's SDK words it."""
    code = str(error.response["Error"]["Code"])
    message = str(error.response["Error"].get("Message", ""))
    metadata = error.response.get("ResponseMetadata", {})
    details = "; ".join(
        [
            "Service: AWSLambda",
            f"Status Code: {metadata.get('HTTPStatusCode')}",
            f"Error Code: {code}",
            f"Request ID: {metadata.get('RequestId')}",
            "Proxy: null",
        ]
    )
    return f"Lambda.{code}", f"{message} ({details})"
