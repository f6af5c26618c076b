"""How the API answers what went wrong: every error as an ErrorBody with a stable name,
the fields at fault in ``details``, and nothing of the internals."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)

from order_saga.entrypoints.field_mapping import field_name, problems_for
from order_saga.entrypoints.response_models import ErrorBody, Problem
from order_saga.entrypoints.statuses import status_for
from order_saga.errors import SagaError
from order_saga.observability import logger

JSON = content_types.APPLICATION_JSON


def install(app: APIGatewayRestResolver) -> None:
    """Register the API's exception handlers and its not-found answer on ``app``."""

    @app.exception_handler(RequestValidationError)
    def invalid_request(error: RequestValidationError) -> Response[Any]:
        problems = error.errors()
        if any(problem.get("type") == "json_invalid" for problem in problems):
            return error_response(400, "MalformedJson", "the body is not valid JSON")
        details = [
            Problem(field=field_name(tuple(p["loc"])), reason=_reason(p))
            for p in problems
            if not _follows_from_an_item(p, problems)
        ]
        message = "; ".join(f"{d.field}: {d.reason}" for d in details)
        return error_response(422, "InvalidRequest", f"invalid request: {message}", details)

    @app.exception_handler(RequestUnsupportedContentType)
    def unsupported_content_type(error: RequestUnsupportedContentType) -> Response[Any]:
        return error_response(415, "UnsupportedMediaType", f"send the body as {JSON}")

    @app.exception_handler(SagaError)
    def refused(error: SagaError) -> Response[Any]:
        status = status_for(error)
        if status == 500:
            return unexpected(error)
        request = app.context.get("order_request")  # set by POST /orders once parsed
        return error_response(
            status, type(error).__name__, str(error), problems_for(error, request)
        )

    @app.exception_handler(Exception)
    def unexpected(error: Exception) -> Response[Any]:
        # Logged whole here; the caller only learns that it failed, not how.
        logger.exception("unexpected error in the API")
        return error_response(500, "InternalError", "the request failed; it has been logged")

    @app.not_found
    def no_route(error: Exception) -> Response[Any]:
        event = app.current_event
        return error_response(404, "NotFound", f"no route {event.http_method} {event.path}")


def error_response(
    status: int, name: str, message: str, details: list[Problem] | None = None
) -> Response[Any]:
    return Response(
        status_code=status,
        content_type=JSON,
        body=ErrorBody(error=name, message=message, details=details or []).model_dump(),
    )


def _reason(problem: dict[str, Any]) -> str:
    return str(problem.get("msg", "invalid")).removeprefix("Value error, ")


def _follows_from_an_item(problem: dict[str, Any], problems: Sequence[Any]) -> bool:
    """pydantic also calls a list "too short" when one of its items failed: the item's
    own error says it better."""
    loc = tuple(problem["loc"])
    return problem.get("type") == "too_short" and any(
        len(other["loc"]) > len(loc) and tuple(other["loc"][: len(loc)]) == loc
        for other in problems
    )
