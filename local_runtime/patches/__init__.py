"""Every change the local runtime makes to third-party code, in one package.

    versions.py     the library versions the patches were tested on; checked first
    correctness.py  fixes without which moto answers otherwise than AWS: the request lock
                    (under load), a timeout's missing Cause, a Fail state's paths
                    selecting strings, Lambda service errors named Lambda.<code>
    express.py      Express workflows run as Step Functions runs them (moto runs them
                    as Standard ones): a correctness fix too
    dynamodb_latency.py  DynamoDB's latency and transaction conflicts, when asked for
    start_rate.py   StartExecution's token bucket and its ThrottlingException (moto has
                    no quota)
    one_process.py  Powertools' per-process metric set, safe for invocations at once (one
                    process hosts every function here)
    hooks.py        what the runtime adds on purpose (the time scale, an execution's end)
    speed/          shortcuts that change no answer, only what one costs

``apply()`` puts them all on, once per process (each patch is marked, so a second call
changes nothing), after checking that moto is a version they were tested on.
"""

from __future__ import annotations

from local_runtime.patches import (
    correctness,
    dynamodb_latency,
    express,
    hooks,
    one_process,
    start_rate,
    versions,
)
from local_runtime.patches.speed import (
    dynamodb_reads,
    dynamodb_writes,
    events,
    moto_core,
    stepfunctions,
)


def apply() -> None:
    """Check the versions, then apply every patch (once), forgetting what an earlier mock
    left behind: each runtime has its own Lambda endpoint and executions."""
    versions.check()
    correctness.apply()
    dynamodb_latency.apply()
    express.apply()
    start_rate.apply()
    start_rate.configure()
    hooks.apply()
    one_process.apply()
    dynamodb_writes.apply()
    dynamodb_reads.apply()
    stepfunctions.apply()
    events.apply()
    moto_core.apply()
