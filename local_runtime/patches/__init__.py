"""Every change the local runtime makes to third-party code, in one package.

    versions.py     the library versions the patches were tested on; checked first
    correctness.py  fixes without which moto answers wrongly under load (the request lock)
    hooks.py        what the runtime adds on purpose (the time scale, an execution's end)
    speed/          shortcuts that change no answer, only what one costs

``apply()`` puts them all on, once per process (each patch is marked, so a second call
changes nothing), after checking that moto is a version they were tested on.
"""

from __future__ import annotations

from local_runtime.patches import correctness, hooks, versions
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
    hooks.apply()
    dynamodb_writes.apply()
    dynamodb_reads.apply()
    stepfunctions.apply()
    events.apply()
    moto_core.apply()
