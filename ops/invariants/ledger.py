"""The payment gateway's side of the money: what it charged and refunded, by order."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from order_saga.adapters.payment_gateway import SimulatedPaymentGateway

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class LedgerLine:
    """What the payment gateway moved for one order."""

    charged: Decimal = ZERO
    refunded: Decimal = ZERO

    @property
    def net(self) -> Decimal:
        return self.charged - self.refunded


Ledger = dict[str, LedgerLine]
"""Order id -> what the gateway charged and refunded for it."""


def gateway_ledger(gateway: SimulatedPaymentGateway) -> Ledger:
    """The simulated gateway's ledger by order (its idempotency keys are ``<order id>:<op>``)."""
    charged: dict[str, Decimal] = {}
    refunded: dict[str, Decimal] = {}
    for key, charge in dict(gateway.charges).items():
        order_id = key.rsplit(":", 1)[0]
        charged[order_id] = charged.get(order_id, ZERO) + charge.amount
    for key, refund in dict(gateway.refunds).items():
        order_id = key.rsplit(":", 1)[0]
        refunded[order_id] = refunded.get(order_id, ZERO) + refund.amount
    return {
        order_id: LedgerLine(charged.get(order_id, ZERO), refunded.get(order_id, ZERO))
        for order_id in {*charged, *refunded}
    }
