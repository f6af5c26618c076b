"""The payment gateway port, and a simulated gateway whose outcome the input decides.

Card tokens follow Stripe's test tokens, so every scenario can be reproduced:

==========================  ====================================================
``tok_chargeDeclined``      declined: PaymentDeclined
``tok_gatewayUnavailable``  the gateway is down: GatewayUnavailable (transient)
any other token             charged (``tok_visa``, ``tok_mastercard``, ...)
==========================  ====================================================

An amount above ``CHARGE_LIMIT`` is declined whatever the token.
"""

from __future__ import annotations

import hashlib
import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass
from decimal import Decimal

from order_saga.errors import GatewayUnavailable, InvalidPaymentOperation, PaymentDeclined

CHARGE_LIMIT = Decimal("10000.00")
DECLINED_TOKEN = "tok_chargeDeclined"
UNAVAILABLE_TOKEN = "tok_gatewayUnavailable"


@dataclass(frozen=True)
class Charge:
    payment_id: str
    amount: Decimal
    idempotency_key: str


@dataclass(frozen=True)
class Refund:
    refund_id: str
    payment_id: str
    amount: Decimal
    idempotency_key: str


class PaymentGateway(ABC):
    """Both calls carry an idempotency key: the same key never moves money twice."""

    @abstractmethod
    def charge(self, *, idempotency_key: str, token: str, amount: Decimal) -> Charge: ...

    @abstractmethod
    def refund(self, *, idempotency_key: str, payment_id: str, amount: Decimal) -> Refund: ...

    @abstractmethod
    def find_charge(self, idempotency_key: str) -> Charge | None:
        """The charge made under this key, if any: settles a call whose answer was lost."""


class SimulatedPaymentGateway(PaymentGateway):
    """Keeps a ledger of what it charged and refunded, keyed by idempotency key."""

    def __init__(self) -> None:
        self.charges: dict[str, Charge] = {}
        self.refunds: dict[str, Refund] = {}
        self.declines = 0
        self.calls = 0
        self._outages = 0
        self._lost_answers = 0
        self._lock = threading.Lock()

    # -- faults, for tests and the demo ---------------------------------------------------

    def fail_next(self, calls: int) -> None:
        """The next ``calls`` charges or refunds find the gateway down (nothing happens)."""
        with self._lock:
            self._outages = calls

    def lose_next_answers(self, calls: int) -> None:
        """The next ``calls`` charges go through, but their answer never arrives."""
        with self._lock:
            self._lost_answers = calls

    def _outage(self) -> None:
        self.calls += 1
        if self._outages > 0:
            self._outages -= 1
            raise GatewayUnavailable("payment gateway unavailable (simulated outage)")

    # -- the gateway ----------------------------------------------------------------------

    def charge(self, *, idempotency_key: str, token: str, amount: Decimal) -> Charge:
        if token == UNAVAILABLE_TOKEN:
            raise GatewayUnavailable("payment gateway unavailable (simulated)")
        with self._lock:
            self._outage()
            if idempotency_key in self.charges:
                return self.charges[idempotency_key]
            if token == DECLINED_TOKEN:
                self.declines += 1
                raise PaymentDeclined("card declined")
            if amount > CHARGE_LIMIT:
                self.declines += 1
                raise PaymentDeclined(f"amount {amount} is over the limit of {CHARGE_LIMIT}")
            charge = Charge(_gateway_id("pay", idempotency_key), amount, idempotency_key)
            self.charges[idempotency_key] = charge
            if self._lost_answers > 0:
                self._lost_answers -= 1
                raise GatewayUnavailable("the charge went through but its answer was lost")
            return charge

    def refund(self, *, idempotency_key: str, payment_id: str, amount: Decimal) -> Refund:
        with self._lock:
            self._outage()
            if idempotency_key in self.refunds:
                return self.refunds[idempotency_key]
            charged = next((c for c in self.charges.values() if c.payment_id == payment_id), None)
            if charged is None:
                raise InvalidPaymentOperation(f"no charge {payment_id} to refund")
            already = sum(
                (r.amount for r in self.refunds.values() if r.payment_id == payment_id),
                Decimal("0"),
            )
            if already + amount > charged.amount:
                raise InvalidPaymentOperation(
                    f"refund of {amount} exceeds what is left of {payment_id}"
                )
            refund = Refund(_gateway_id("re", idempotency_key), payment_id, amount, idempotency_key)
            self.refunds[idempotency_key] = refund
            return refund

    def find_charge(self, idempotency_key: str) -> Charge | None:
        with self._lock:
            return self.charges.get(idempotency_key)

    def net_charged(self) -> Decimal:
        """Charged minus refunded, over the whole ledger."""
        return self.net_charged_for("")

    def net_charged_for(self, key_prefix: str) -> Decimal:
        """Charged minus refunded under idempotency keys that start with ``key_prefix``
        (keys start with the order id)."""
        with self._lock:
            charges = [c for k, c in self.charges.items() if k.startswith(key_prefix)]
            refunds = [r for k, r in self.refunds.items() if k.startswith(key_prefix)]
        charged = sum((c.amount for c in charges), Decimal("0.00"))
        return charged - sum((r.amount for r in refunds), Decimal("0.00"))


def _gateway_id(prefix: str, idempotency_key: str) -> str:
    return f"{prefix}_{hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]}"
