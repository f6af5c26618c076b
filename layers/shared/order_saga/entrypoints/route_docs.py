"""What each route of the order API answers, as its OpenAPI document says: its success
model, then its errors, each in ErrorBody; and the path parameters' descriptions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from aws_lambda_powertools.event_handler import content_types
from aws_lambda_powertools.event_handler.openapi.params import Path

from order_saga.domain.values import SafeId
from order_saga.entrypoints.response_models import ErrorBody

if TYPE_CHECKING:
    from pydantic import BaseModel

JSON = content_types.APPLICATION_JSON


ERRORS: dict[int, str] = {
    400: "The body is not JSON.",
    401: "No caller identity. On AWS the authorizer refuses first; locally send X-Customer-Id.",
    403: "The caller may not do this (shipping needs the operator role).",
    404: "No such order or product; another customer's order is not found either.",
    409: "The request conflicts with the current state (see the error name).",
    413: "The body is over 64 KB; it was not read.",
    415: "The body is not application/json.",
    422: "A field is missing, unknown or out of bounds; `details` names each and why.",
    503: "The store or the state machine was briefly unavailable; try again.",
}


def answers(
    status: int,
    model: type[BaseModel],
    description: str,
    *errors: int,
    headers: dict[str, Any] | None = None,
) -> dict[int, Any]:
    """The OpenAPI responses of a route: its success, then its errors in ErrorBody."""
    success: dict[str, Any] = {"description": description, "content": {JSON: {"model": model}}}
    if headers:
        success["headers"] = headers
    documented: dict[int, Any] = {status: success}
    for code in sorted({*errors, 401, 422, 503}):
        documented[code] = {"description": ERRORS[code], "content": {JSON: {"model": ErrorBody}}}
    return documented


OrderId = Annotated[SafeId, Path(description="The order's id (letters, digits, _ and -).")]
ProductId = Annotated[SafeId, Path(description="The product's id (letters, digits, _ and -).")]
