"""Inputs validated at every entrypoint (API, saga steps, stream consumers): a bad one
is refused with InvalidRequest naming each field and why, before anything runs."""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel, ValidationError

from order_saga.errors import InvalidRequest

C = TypeVar("C", bound=BaseModel)


def parse(model: type[C], payload: object) -> C:
    """Validate an input; a bad one raises InvalidRequest naming each field and why."""
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        raise InvalidRequest(describe(exc)) from None


MAX_PROBLEMS = 10
"""Problems named in one error: a hostile input can have thousands, and an error's cause
travels on (Step Functions takes 32 KB of it, a log line should stay a line)."""


def describe(exc: ValidationError) -> str:
    errors = exc.errors(include_url=False, include_input=False)
    problems = [
        f"{'.'.join(str(part) for part in error['loc'])[:200] or 'input'}: {error['msg']}"
        for error in errors[:MAX_PROBLEMS]
    ]
    more = f"; and {len(errors) - MAX_PROBLEMS} more" if len(errors) > MAX_PROBLEMS else ""
    return "invalid input: " + "; ".join(problems) + more
