"""Powertools logger, tracer and metrics, one of each per process.

template.yaml sets the service name and metric namespace for every function; the
defaults here only matter where this module is imported before that environment
exists (a test collecting modules), so metrics never go out without a namespace.
"""

from __future__ import annotations

import os
import warnings
from contextlib import asynccontextmanager, contextmanager
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.tracing.base import BaseProvider, BaseSegment

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, Generator, Sequence

SERVICE = os.getenv("POWERTOOLS_SERVICE_NAME", "order-saga")
NAMESPACE = os.getenv("POWERTOOLS_METRICS_NAMESPACE", "OrderSaga")

# A step that counts nothing on its path (a refund with nothing to refund) is normal.
warnings.filterwarnings("ignore", message="No application metrics to publish")


class _Untraced(BaseSegment):
    """The segment of a trace nobody records."""

    def close(self, end_time: int | None = None) -> None: ...
    def add_subsegment(self, subsegment: Any) -> None: ...
    def remove_subsegment(self, subsegment: Any) -> None: ...
    def put_annotation(self, key: str, value: Any) -> None: ...
    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None: ...
    def add_exception(self, exception: BaseException, stack: Any, remote: bool = False) -> None: ...


class NoTracing(BaseProvider):
    """The tracer's provider when tracing is off: it records nothing, so the X-Ray SDK
    (and what it imports) is never loaded. Powertools' own X-Ray provider would be
    imported, and would patch nothing, just to be switched off: a fifth of a step's
    import-and-init (bench/coldstart.py)."""

    @contextmanager
    def in_subsegment(self, name: str | None = None, **kwargs: Any) -> Generator[BaseSegment]:
        yield _Untraced()

    @asynccontextmanager
    async def in_subsegment_async(
        self, name: str | None = None, **kwargs: Any
    ) -> AsyncGenerator[BaseSegment]:
        yield _Untraced()

    def put_annotation(self, key: str, value: Any) -> None: ...
    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None: ...
    def patch(self, modules: Sequence[str]) -> None: ...
    def patch_all(self) -> None: ...


def _tracer() -> Tracer:
    # Off by Powertools' own rule: POWERTOOLS_TRACE_DISABLED, or not running in Lambda.
    if Tracer._is_tracer_disabled():
        return Tracer(service=SERVICE, disabled=True, auto_patch=False, provider=NoTracing())
    return Tracer(service=SERVICE)


logger = Logger(service=SERVICE)
tracer = _tracer()
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
