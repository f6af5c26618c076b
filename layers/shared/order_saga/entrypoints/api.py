"""The order API: a Powertools REST resolver whose routes take and give the models of
``request_models`` and ``response_models``, and the Lambda handler around it.

Before a route runs, ``gate`` refuses a request with no caller identity (401), a body
over 64 KB (413) or one that is not JSON (415, 400); Powertools then validates path, query,
header and body against the route's signature (422 naming each bad field). So a refused
request writes nothing and starts no saga. ``error_responses`` gives every error one
shape, ErrorBody.
"""

from __future__ import annotations

import os
from http import HTTPStatus
from typing import TYPE_CHECKING, Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from order_saga import bootstrap
from order_saga.adapters.read_model import OrderQuery, summary_json
from order_saga.domain.commands import CreateOrder, RequestCancellation, ShipOrder
from order_saga.domain.order_status import OrderStatus
from order_saga.domain.values import SafeId
from order_saga.entrypoints import error_responses, gate, identity
from order_saga.entrypoints.idempotent_create import IDEMPOTENCY_PREFIX, place_once
from order_saga.entrypoints.identity import Caller
from order_saga.entrypoints.order_list import (
    CURSOR_PATTERN,
    DEFAULT_PAGE,
    ListedStatus,
    OrderPage,
    check_parameters,
)
from order_saga.entrypoints.parsing import parse
from order_saga.entrypoints.request_models import (
    CancelOrderRequest,
    CreateOrderRequest,
    IdempotencyKey,
    QueryInt,
)
from order_saga.entrypoints.response_models import (
    OrderAccepted,
    OrderEvents,
    OrderView,
    ProductPage,
    ProductView,
)
from order_saga.entrypoints.route_docs import OrderId, ProductId, answers
from order_saga.errors import Forbidden, IdempotencyKeyInProgress, OrderNotFound
from order_saga.observability import logger, metrics, tracer
from order_saga.service_layer import orders, views
from order_saga.service_layer.dependencies import ApiDependencies
from order_saga.service_layer.ids import order_id_for
from order_saga.service_layer.order_summaries import MANUAL_REVIEW

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import BasePersistenceLayer

JSON = content_types.APPLICATION_JSON
MAX_PAGE = 100

app = APIGatewayRestResolver(enable_validation=True)
DEPENDENCIES = bootstrap.Wired(ApiDependencies)
"""Checked at the Api function's init (functions/api/app.py), not on import here: the
OpenAPI command line imports the routes with no function's environment."""
error_responses.install(app)

# -- orders ------------------------------------------------------------------------------------


@app.post(
    "/orders",
    summary="Place an order",
    description=(
        "Prices every item from the catalog (a unit_price sent that differs is refused "
        "with 409), records the order and starts its saga. The same Idempotency-Key with "
        "the same body answers as the first time and starts nothing new; with another "
        "body it is refused (422). Keys are kept 24 hours, per customer."
    ),
    tags=["orders"],
    responses=answers(
        202,
        OrderAccepted,
        "Accepted: the saga runs; follow Location for the order's status.",
        400,
        409,
        413,
        415,
        headers={"Location": {"description": "/orders/{order_id}", "schema": {"type": "string"}}},
    ),
)
def create_order(
    request: Annotated[CreateOrderRequest, Body()],
    idempotency_key: Annotated[
        IdempotencyKey | None,
        Header(
            alias="Idempotency-Key",
            description="Makes a retried POST safe: 1 to 128 letters, digits, _ or -.",
        ),
    ] = None,
) -> Response[OrderAccepted]:
    customer_id = _caller().customer_id
    app.append_context(order_request=request)  # lets a catalog refusal name its fields
    if idempotency_key is None:
        accepted = _place(request, customer_id, None)
    else:
        try:
            accepted = OrderAccepted.model_validate(
                place_once(
                    attempt={
                        "customer_id": customer_id,
                        "key": idempotency_key,
                        "body": request.model_dump(mode="json"),
                    },
                    place=_place_attempt,
                    store=_idempotency_store(),
                    context=app.lambda_context,
                )
            )
        except IdempotencyKeyInProgress:
            # The first request under this key is still running, or its process died
            # and its record has not expired yet. Its order's id is this one's: placing it
            # here is safe (one of the two writes wins, the other finds the same order),
            # so the caller gets the same 202 rather than a 409 for their own order.
            accepted = _place(request, customer_id, idempotency_key)
    return Response(
        status_code=HTTPStatus.ACCEPTED,
        content_type=JSON,
        body=accepted,
        headers={"Location": f"/orders/{accepted.order_id}"},
    )


def _place(request: CreateOrderRequest, customer_id: str, key: str | None) -> OrderAccepted:
    """The order's id is the server's: derived from the customer and the Idempotency-Key
    (the same for every retry), or new when there is no key."""
    deps = DEPENDENCIES.get()
    command = parse(
        CreateOrder,
        {
            **request.model_dump(),
            "order_id": deps.new_id() if key is None else order_id_for(customer_id, key),
            "customer_id": customer_id,
        },
    )
    placed = orders.place_order(command, deps)
    order = placed.order
    if placed.created:
        metrics.add_metric(name="OrdersCreated", unit=MetricUnit.Count, value=1)
    if not placed.saga_started:
        # Accepted all the same: the saga starter on the event store's stream starts it.
        metrics.add_metric(name="SagaStartsDeferred", unit=MetricUnit.Count, value=1)
        logger.info("saga start deferred to the stream", extra={"order_id": order.order_id})
    return OrderAccepted(order_id=order.order_id, status=order.status, total=order.total)


def _place_attempt(attempt: dict[str, Any]) -> dict[str, Any]:
    request = CreateOrderRequest.model_validate(attempt["body"])
    return _place(request, attempt["customer_id"], attempt["key"]).model_dump(mode="json")


def _idempotency_store() -> BasePersistenceLayer:
    # The composition root's stores, as the stream consumers use them: one persistence
    # layer per key prefix, on the function's own DynamoDB client.
    return DEPENDENCIES.get().idempotency.for_consumer(IDEMPOTENCY_PREFIX)


@app.get(
    "/orders",
    summary="List orders",
    description=(
        "The caller's orders, newest first, a page at a time (follow next_cursor). "
        "Operators may add customer_id= to list any customer's, or give status= alone to "
        "list every customer's orders of that status (MANUAL_REVIEW: orders whose "
        "compensation gave up). Read from the read model, which follows the event store "
        "through its stream, a moment behind (docs/api.md); GET /orders/{order_id} reads "
        "the store itself."
    ),
    tags=["orders"],
    responses=answers(200, OrderPage, "A page of orders.", 403),
)
def list_orders(
    limit: Annotated[
        int, Query(ge=1, le=MAX_PAGE, description="Orders per page (decimal digits only).")
    ] = DEFAULT_PAGE,
    cursor: Annotated[
        str | None, Query(pattern=CURSOR_PATTERN, description="next_cursor of the page before.")
    ] = None,
    status: Annotated[
        ListedStatus | None, Query(description="Only orders of this status (or MANUAL_REVIEW).")
    ] = None,
    customer_id: Annotated[
        SafeId | None, Query(description="Operators: this customer's orders.")
    ] = None,
) -> OrderPage:
    caller = _caller()
    check_parameters(app.current_event.raw_event)
    if customer_id is not None and customer_id != caller.customer_id and not caller.operator:
        raise Forbidden("listing another customer's orders needs the operator role")
    if status == MANUAL_REVIEW and not caller.operator:
        raise Forbidden("listing the orders in manual review needs the operator role")
    if caller.operator and customer_id is None and status is not None:
        query = OrderQuery(status=str(status))  # every customer's orders of that status
    else:
        query = OrderQuery(
            customer_id=customer_id or caller.customer_id,
            status=str(status) if status is not None else None,
        )
    page = DEPENDENCIES.get().read_model.page(query, limit, cursor)
    return OrderPage.model_validate(
        {"orders": [summary_json(s) for s in page.summaries], "next_cursor": page.next_cursor}
    )


@app.get(
    "/orders/<order_id>",
    summary="Read an order",
    description="Status, items, total, payment and reservation ids, built from its events.",
    tags=["orders"],
    responses=answers(200, OrderView, "The order.", 404),
)
def get_order(order_id: OrderId) -> OrderView:
    return OrderView.model_validate(_visible_order(order_id, _caller()))


@app.get(
    "/orders/<order_id>/events",
    summary="An order's history",
    description="Every event of the order, oldest first: its audit trail.",
    tags=["orders"],
    responses=answers(200, OrderEvents, "The order's events.", 404),
)
def get_order_events(order_id: OrderId) -> OrderEvents:
    caller = _caller()
    _visible_order(order_id, caller)
    events = views.order_events(DEPENDENCIES.get().store, order_id, audience=_audience(caller))
    return OrderEvents.model_validate({"order_id": order_id, "events": events})


@app.post(
    "/orders/<order_id>/cancel",
    summary="Cancel an order",
    description=(
        "Before confirmation the saga stops at its next step and compensates: the charge "
        "is refunded, the stock released, then the order is CANCELLED (202; watch the "
        "order). A cancelled order answers 200 as it is. Confirmed or shipped: 409."
    ),
    tags=["orders"],
    responses={
        **answers(202, OrderView, "Cancellation requested; the saga compensates.", 400, 404),
        **answers(200, OrderView, "Already cancelled.", 409, 413, 415),
    },
)
def cancel_order(
    order_id: OrderId, request: Annotated[CancelOrderRequest | None, Body()] = None
) -> Response[OrderView]:
    caller = _caller()
    view = _visible_order(order_id, caller)
    if view["status"] != OrderStatus.CANCELLED:
        orders.request_cancellation(
            RequestCancellation(
                order_id=order_id,
                requested_by=caller.customer_id,
                requested_by_role="operator" if caller.operator else "customer",
                reason=request.reason if request else "",
            ),
            DEPENDENCIES.get(),
        )
        view = views.order_view(DEPENDENCIES.get().store, order_id, audience=_audience(caller))
    cancelled = view["status"] == OrderStatus.CANCELLED
    return Response(
        status_code=HTTPStatus.OK if cancelled else HTTPStatus.ACCEPTED,
        content_type=JSON,
        body=OrderView.model_validate(view),
    )


@app.post(
    "/orders/<order_id>/ship",
    summary="Ship an order (operators)",
    description="CONFIRMED becomes SHIPPED (records OrderShipped); any other status is 409.",
    tags=["orders"],
    responses=answers(200, OrderView, "Shipped.", 403, 404, 409),
)
def ship_order(order_id: OrderId) -> OrderView:
    if not _caller().operator:
        raise Forbidden("shipping an order needs the operator role")
    deps = DEPENDENCIES.get()
    orders.ship_order(ShipOrder(order_id=order_id), deps)
    return OrderView.model_validate(views.order_view(deps.store, order_id))


def _audience(caller: Caller) -> views.Audience:
    """Operators are shown who did what; a customer that the shop did it."""
    return "operator" if caller.operator else "customer"


def _visible_order(order_id: str, caller: Caller) -> dict[str, Any]:
    """The order's view if the caller may see it: its customer, or an operator. Anyone
    else is told it does not exist, so order ids reveal nothing."""
    view = views.order_view(DEPENDENCIES.get().store, order_id, audience=_audience(caller))
    if not caller.operator and view["customer_id"] != caller.customer_id:
        raise OrderNotFound(f"no order {order_id}")
    return view


# -- products ----------------------------------------------------------------------------------


@app.get(
    "/products",
    summary="The catalog",
    description="Products with their price and the units in stock, a page at a time.",
    tags=["products"],
    responses=answers(200, ProductPage, "A page of products."),
)
def list_products(
    limit: Annotated[QueryInt, Query(ge=1, le=MAX_PAGE, description="Products per page.")] = 50,
    cursor: Annotated[SafeId | None, Query(description="next_cursor of the page before.")] = None,
) -> ProductPage:
    _caller()
    return ProductPage.model_validate(views.catalog_page(DEPENDENCIES.get(), limit, cursor))


@app.get(
    "/products/<product_id>",
    summary="A product",
    tags=["products"],
    responses=answers(200, ProductView, "The product.", 404),
)
def get_product(product_id: ProductId) -> ProductView:
    _caller()
    return ProductView.model_validate(views.product_view(DEPENDENCIES.get(), product_id))


@app.get("/openapi.json", include_in_schema=False)
def openapi() -> dict[str, Any]:
    # Imported at the first request for it, not at init: its Powertools OpenAPI models cost
    # the cold start. It imports nothing of this module (the resolver is handed in).
    from order_saga.entrypoints.openapi.document import document

    return document(app)


def _caller() -> Caller:
    return identity.caller(app.current_event.raw_event, os.environ)


# -- the Lambda handler ------------------------------------------------------------------------


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    refusal = gate.refuse_early(event)
    if refusal is not None:
        return refusal
    return app.resolve(event, context)
