"""Speed shortcuts for moto's Step Functions interpreter. None changes what an execution
does; each removes work the interpreter repeats for every execution or every state.

1. One Lambda client per service, not one per Task state. moto's interpreter builds a
   new boto3 client (and a new connection to the Lambda server) for every Lambda
   invocation; building a client costs more CPU than the invocation's round trip.
2. The state machine parsed once, not once per execution. moto's interpreter parses
   the ASL with ANTLR at the start of every execution; the parsed program holds no
   state of its own (each execution's state lives in its Environment), except a key
   each component draws lazily for its scratch space, which is drawn here up front
   so two executions starting at once cannot draw different ones.
3. A JSONPath parsed once. The interpreter parses every path of every state each time
   it evaluates one, and the parser builds its tables (yacc) every time.
"""

from __future__ import annotations

import threading
from typing import Any

from local_runtime.patches.patching import cached, patch

_lock = threading.Lock()
_clients: dict[tuple[str, str], Any] = {}
_programs: dict[str, Any] = {}


def apply() -> None:
    """Put the shortcuts on (once), and forget clients built for an earlier mock: each
    runtime has its own Lambda endpoint."""
    from moto.stepfunctions.parser.asl.component.common.path import result_path
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import (
        lambda_eval_utils,
    )
    from moto.stepfunctions.parser.asl.utils import json_path
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    patch(lambda_eval_utils, "boto_client_for", _reused)
    patch(ExecutionWorker, "_get_evaluation_entrypoint", _parsed_once)
    patch(json_path, "parse", cached)
    patch(result_path, "parse", cached)
    with _lock:
        _clients.clear()
        _programs.clear()


def _reused(original: Any) -> Any:
    def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        # moto signs these with fixed local keys whatever the state's credentials.
        with _lock:
            client = _clients.get((region, service))
            if client is None:
                client = _clients[(region, service)] = original(region, service, state_credentials)
            return client

    return boto_client_for


def _parsed_once(original: Any) -> Any:
    def _get_evaluation_entrypoint(self: Any) -> Any:
        definition = self._evaluation_details.state_machine_details.definition
        with _lock:
            program = _programs.get(definition)
            if program is None:
                program = _programs[definition] = original(self)
                _draw_heap_keys(program, set())
            return program

    return _get_evaluation_entrypoint


def _draw_heap_keys(node: Any, seen: set[int]) -> None:
    from moto.stepfunctions.parser.asl.component.component import Component
    from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent

    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, EvalComponent):
        _ = node.heap_key
    if isinstance(node, Component):
        children: Any = vars(node).values()
    elif isinstance(node, list | tuple | set | frozenset):
        children = node
    elif isinstance(node, dict):
        children = node.values()
    else:
        return
    for child in children:
        _draw_heap_keys(child, seen)
