"""Optimistic concurrency, the writer's side: a use case that lost a race decides again."""

from __future__ import annotations

from functools import wraps
from typing import TYPE_CHECKING, ParamSpec, TypeVar

from order_saga.errors import ConcurrencyError

if TYPE_CHECKING:
    from collections.abc import Callable

P = ParamSpec("P")
R = TypeVar("R")
CONFLICT_ATTEMPTS = 5


def retry_on_conflict(use_case: Callable[P, R]) -> Callable[P, R]:
    """A popular product's stream is contended: reload and decide again a few times
    before handing the conflict to the state machine's Retry."""

    @wraps(use_case)
    def attempt(*args: P.args, **kwargs: P.kwargs) -> R:
        for _ in range(CONFLICT_ATTEMPTS - 1):
            try:
                return use_case(*args, **kwargs)
            except ConcurrencyError:
                continue
        return use_case(*args, **kwargs)

    return attempt
