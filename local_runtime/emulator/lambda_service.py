"""The Lambda Invoke API on 127.0.0.1, answered by the real handlers in-process.

moto runs no Lambda code without Docker, so the state machine's Lambda calls are sent
here (AWS_ENDPOINT_URL_LAMBDA). Errors are answered as Lambda answers them: status 200,
header X-Amz-Function-Error, body {"errorType": <class name>, "errorMessage": ...},
so the ASL's Retry and Catch match on the exception's class name exactly as on AWS.
An invocation Lambda refuses (throttled) is an error of the Invoke API itself, not of
the function: status 429, header x-amzn-ErrorType: TooManyRequestsException, the
handler never run.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import threading
import time
import uuid
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from local_runtime.emulator.clock import scaled
from local_runtime.emulator.faults import (
    Fault,
    FunctionTimedOut,
    ProcessExit,
    ProcessExited,
    Throttled,
    dies_at_start,
    invoking,
)
from local_runtime.patches.dynamodb_latency import undelayed

if TYPE_CHECKING:
    from collections.abc import Callable
    from types import ModuleType

    from local_runtime.emulator.metrics_tap import MetricsTap
    from local_runtime.emulator.template import FunctionSpec

INVOKE_PATH = "/2015-03-31/functions/"
MAX_PAYLOAD_BYTES = 6 * 1024 * 1024
"""The largest request a synchronous Invoke takes (Lambda's quota)."""


class LambdaContext:
    """What the Lambda runtime hands a handler, as far as Powertools reads it."""

    def __init__(self, spec: FunctionSpec, deadline_ms: int) -> None:
        self.function_name = spec.logical_id
        self.function_version = "$LATEST"
        self.invoked_function_arn = spec.arn
        self.memory_limit_in_mb = 256
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{spec.logical_id}"
        self.log_stream_name = "local"
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return self._deadline_ms


THROTTLED = "TooManyRequestsException"
"""What Functions.invoke returns in place of X-Amz-Function-Error when Lambda refused
the invocation: an error of the Invoke API, not of the function."""


class Functions:
    """Function name or ARN -> the handler template.yaml names, imported once.

    Invocations run on many threads at once, as many Lambda instances would, except for
    the functions in ``one_at_a_time``.
    """

    def __init__(self, specs: dict[str, FunctionSpec]) -> None:
        self.specs = specs
        self._modules: dict[str, ModuleType] = {}
        self._lock = threading.Lock()
        self.invocations: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.throttles: Counter[str] = Counter()
        self.faults: dict[str, list[Fault]] = {}
        self.metrics: MetricsTap | None = None
        """Where the handlers' EMF output goes, as CloudWatch would read it."""
        self.holds: dict[str, list[tuple[Callable[[Any], bool], threading.Event]]] = {}
        self.fired: Counter[str] = Counter()
        """Invocations a fault changed, by the fault's label (or kind)."""
        self.one_at_a_time: dict[str, threading.Lock] = {}
        """Functions whose handler keeps the request in module state (Powertools' API
        resolver holds the current event on its app object): on AWS an execution
        environment serves one request at a time, so here their invocations take turns."""

    def take_turns(self, function: str) -> None:
        """Run ``function``'s invocations one at a time (see ``one_at_a_time``)."""
        self.spec(function)
        self.one_at_a_time.setdefault(function, threading.Lock())

    def inject(self, function: str, fault: Fault) -> None:
        """Queue a fault for the next invocations of ``function`` (its logical id)."""
        self.spec(function)
        with self._lock:
            self.faults.setdefault(function, []).append(fault)

    def hold(self, function: str, when: Callable[[Any], bool] = lambda _: True) -> threading.Event:
        """Make the next invocation of ``function`` whose payload passes ``when`` wait,
        before its handler runs, until the returned event is set (at most the function's
        timeout): a test can act while its saga sits at a given step."""
        self.spec(function)
        release = threading.Event()
        with self._lock:
            self.holds.setdefault(function, []).append((when, release))
        return release

    def _next_hold(self, function: str, payload: Any) -> threading.Event | None:
        with self._lock:
            queue = self.holds.get(function, [])
            for index, (when, release) in enumerate(queue):
                if when(payload):
                    del queue[index]
                    return release
        return None

    def clear_faults(self) -> int:
        """Drop every fault not yet spent (the outage is over); returns how many."""
        with self._lock:
            left = sum(len(queue) for queue in self.faults.values())
            self.faults.clear()
            return left

    def _next_fault(self, function: str, payload: Any) -> Fault | None:
        """The first queued fault aimed at this invocation, spending one of its times."""
        with self._lock:
            queue = self.faults.get(function, [])
            for index, fault in enumerate(queue):
                if fault.aims_at(payload):
                    fault.times -= 1
                    if fault.times <= 0:
                        del queue[index]
                    self.fired[fault.label or fault.kind] += 1
                    return fault
            return None

    def spec(self, name_or_arn: str) -> FunctionSpec:
        name = name_or_arn.rsplit(":function:", 1)[-1].split(":", 1)[0]
        if name not in self.specs:
            raise KeyError(f"no function {name} in template.yaml")
        return self.specs[name]

    def handler(self, spec: FunctionSpec) -> Any:
        module_name, _, attribute = spec.handler.rpartition(".")
        path = spec.code_dir / f"{module_name.replace('.', '/')}.py"
        with self._lock:
            module = self._modules.get(str(path))
            if module is None:
                unique = f"lambda_{spec.code_dir.name}_{module_name}".replace(".", "_")
                loader = importlib.util.spec_from_file_location(unique, path)
                if loader is None or loader.loader is None:
                    raise ImportError(f"cannot load {path}")
                module = importlib.util.module_from_spec(loader)
                sys.modules[unique] = module
                loader.loader.exec_module(module)
                self._modules[str(path)] = module
        return getattr(module, attribute)

    def invoke(self, name_or_arn: str, payload: Any) -> tuple[Any, str | None]:
        """Run the handler; returns (result, None), (error document, "Unhandled"), or
        (the Invoke API's error body, THROTTLED) when Lambda refused the invocation."""
        spec = self.spec(name_or_arn)
        with self._lock:
            self.invocations[spec.logical_id] += 1
        fault = self._next_fault(spec.logical_id, payload) or Fault()
        if self.metrics is not None:
            self.metrics.install()
        held = self._next_hold(spec.logical_id, payload)
        if held is not None:
            held.wait(timeout=spec.timeout)
        turn = self.one_at_a_time.get(spec.logical_id)
        if turn is None:
            return self._run(spec, payload, fault)
        # One invocation at a time stands for AWS's environment per request in flight: a
        # modelled DynamoDB latency there would queue every request behind the others'.
        with turn, undelayed():
            return self._run(spec, payload, fault)

    def _run(self, spec: FunctionSpec, payload: Any, fault: Fault) -> tuple[Any, str | None]:
        try:
            if fault.hang_seconds:
                _hang(spec, fault.hang_seconds)
            if fault.error is not None and not fault.after_handler:
                raise fault.error
            handler = self.handler(spec)
            dies_at_start(fault.exit_at_start)
            invoking(spec.logical_id)
            try:
                result = handler(payload, LambdaContext(spec, spec.timeout * 1000))
            except ProcessExit as exit_:
                raise ProcessExited(str(exit_)) from None
            finally:
                dies_at_start(False)
                invoking("")
            if fault.duplicate:
                result = handler(payload, LambdaContext(spec, spec.timeout * 1000))
            if fault.error is not None:
                raise fault.error
        except Throttled as exc:  # the service refused: the handler never ran
            with self._lock:
                self.throttles[spec.logical_id] += 1
            return {"Type": "User", "message": str(exc), "Reason": exc.reason}, THROTTLED
        except Exception as exc:  # reported to the caller as Lambda does, never swallowed
            with self._lock:
                self.errors[spec.logical_id] += 1
            error_type = getattr(exc, "error_type", type(exc).__name__)
            return {"errorType": error_type, "errorMessage": str(exc)}, "Unhandled"
        return result, None


def _hang(spec: FunctionSpec, seconds: float) -> None:
    if seconds >= spec.timeout:
        time.sleep(scaled(spec.timeout))
        raise FunctionTimedOut(f"Task timed out after {spec.timeout:.2f} seconds")
    time.sleep(scaled(seconds))


class _InvokeHandler(BaseHTTPRequestHandler):
    server: LambdaServer
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        if not (self.path.startswith(INVOKE_PATH) and self.path.endswith("/invocations")):
            self._send(404, {"message": f"unknown path {self.path}"})
            return
        name = unquote(self.path[len(INVOKE_PATH) : -len("/invocations")])
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if len(raw) > MAX_PAYLOAD_BYTES:
            message = (
                f"Request must be smaller than {MAX_PAYLOAD_BYTES} bytes "
                "for the InvokeFunction operation"
            )
            self._refuse(413, "RequestTooLargeException", message)
            return
        try:
            payload = json.loads(raw) if raw else {}
        except (ValueError, RecursionError):  # RecursionError: nested past any parser's depth
            self._refuse(
                400, "InvalidRequestContentException", "Could not parse request body into json"
            )
            return
        try:
            result, function_error = self.server.functions.invoke(name, payload)
        except KeyError as exc:
            self._refuse(404, "ResourceNotFoundException", str(exc))
            return
        if function_error == THROTTLED:
            self._send(429, result, {"x-amzn-ErrorType": THROTTLED})
            return
        headers = {"X-Amz-Function-Error": function_error} if function_error else {}
        self._send(200, result, headers)

    def _refuse(self, status: int, error_type: str, message: str) -> None:
        """An error of the Invoke API itself (the function never ran), as Lambda names it."""
        self._send(status, {"Type": "User", "message": message}, {"x-amzn-ErrorType": error_type})

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Amz-Executed-Version", "$LATEST")
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the handlers log for themselves


class LambdaServer(ThreadingHTTPServer):
    # The default backlog of 5 resets connections under a few hundred executions.
    request_queue_size = 1024
    daemon_threads = True

    def __init__(self, functions: Functions, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__((host, port), _InvokeHandler)
        self.functions = functions
        self._thread = threading.Thread(target=self.serve_forever, daemon=True, name="lambda")

    @property
    def endpoint(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> LambdaServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
