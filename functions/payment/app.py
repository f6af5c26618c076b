"""Payment steps of the saga: charge the order, and refund it when compensating."""

from order_saga import bootstrap
from order_saga.domain.commands import ProcessPayment, RefundPayment
from order_saga.entrypoints.step import step_handler
from order_saga.errors import PaymentDeclined
from order_saga.service_layer import payments
from order_saga.service_layer.dependencies import PaymentDependencies

DEPENDENCIES = bootstrap.wire(PaymentDependencies)  # the event store and the payment gateway

process = step_handler(
    ProcessPayment,
    payments.process_payment,
    DEPENDENCIES,
    failure_metrics={PaymentDeclined: "PaymentFailures"},
)
refund = step_handler(RefundPayment, payments.refund_payment, DEPENDENCIES)
