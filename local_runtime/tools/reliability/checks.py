"""What a reliability run checked: named expectations, passed or not."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Check:
    name: str
    passed: bool


@dataclass
class Run:
    checks: list[Check] = field(default_factory=list)

    def expect(self, name: str, passed: bool) -> None:
        self.checks.append(Check(name, passed))
