"""The verdict on the whole store: its totals, the orders in manual review, the violations."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from ops.invariants.ledger import ZERO, LedgerLine


@dataclass(frozen=True)
class ReviewItem:
    """An order waiting for manual review, and what it still holds."""

    order_id: str
    status: str
    failed_step: str
    error: str
    money_held: Decimal
    stock_held: dict[str, int]
    ledger_held: Decimal | None


@dataclass
class InvariantReport:
    orders: int = 0
    products: int = 0
    by_status: Counter[str] = field(default_factory=Counter)
    manual_review: list[ReviewItem] = field(default_factory=list)
    charged: Decimal = ZERO
    refunded: Decimal = ZERO
    kept: Decimal = ZERO
    """Totals of the CONFIRMED and SHIPPED orders."""
    review_held: Decimal = ZERO
    ledger: LedgerLine | None = None
    stock_added: int = 0
    stock_available: int = 0
    stock_kept: int = 0
    stock_in_review: int = 0
    violations: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations

    def summary(self) -> str:
        statuses = ", ".join(f"{s} {n}" for s, n in sorted(self.by_status.items())) or "none"
        lines = [
            f"orders          {self.orders} ({statuses})",
            f"money           charged {self.charged} - refunded {self.refunded} = "
            f"{self.charged - self.refunded}; kept orders {self.kept}, "
            f"in manual review {self.review_held}",
        ]
        if self.ledger is not None:
            lines.append(
                f"gateway ledger  charged {self.ledger.charged} - refunded "
                f"{self.ledger.refunded} = {self.ledger.net}"
            )
        lines += [
            f"stock           {self.products} products: added {self.stock_added} = available "
            f"{self.stock_available} + kept {self.stock_kept} + in manual review "
            f"{self.stock_in_review}",
            f"manual review   {len(self.manual_review)} order(s)"
            + "".join(
                f"\n                {r.order_id} ({r.status}, {r.failed_step}: {r.error}) holds "
                f"{r.money_held} and stock {r.stock_held}"
                for r in self.manual_review
            ),
            f"violations      {len(self.violations)}"
            + "".join(f"\n                {v}" for v in self.violations),
        ]
        return "\n".join(lines)
