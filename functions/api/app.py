"""The order API: create an order (which starts its saga) and read it back."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.logging import correlation_paths

from order_saga import bootstrap
from order_saga.domain.commands import CreateOrder
from order_saga.entrypoints.http import CreateOrderRequest, customer_id, status_for
from order_saga.entrypoints.step import parse
from order_saga.errors import SagaError
from order_saga.observability import logger, metrics, tracer
from order_saga.service_layer import orders, views

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

app = APIGatewayRestResolver()


@app.post("/orders")
@tracer.capture_method(capture_response=False)
def create_order() -> Response:
    try:
        body = json.loads(app.current_event.body or "")
    except ValueError:
        return _error(400, "InvalidJson", "the body is not valid JSON")
    request = parse(CreateOrderRequest, body)
    ports = bootstrap.ports()
    command = parse(
        CreateOrder,
        {
            **request.model_dump(exclude={"order_id"}),
            "order_id": request.order_id or ports.new_id(),
            "customer_id": customer_id(app.current_event),
        },
    )
    order = orders.create_order(command, ports)
    metrics.add_metric(name="OrdersCreated", unit="Count", value=1)
    return Response(
        status_code=202,
        content_type=content_types.APPLICATION_JSON,
        body={"order_id": order.order_id, "status": order.status.value, "total": str(order.total)},
        headers={"Location": f"/orders/{order.order_id}"},
    )


@app.get("/orders/<order_id>")
@tracer.capture_method(capture_response=False)
def get_order(order_id: str) -> dict[str, Any] | Response:
    view = views.order_view(bootstrap.ports().store, order_id)
    if view["customer_id"] != customer_id(app.current_event):
        return _error(404, "OrderNotFound", f"no order {order_id}")  # never reveal others' ids
    return view


@app.exception_handler(SagaError)
def handle_saga_error(error: SagaError) -> Response:
    status = status_for(error)
    if status >= 500:
        raise error
    return _error(status, type(error).__name__, str(error))


def _error(status: int, error: str, message: str) -> Response:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body={"error": error, "message": message},
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
