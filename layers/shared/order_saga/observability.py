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


TRACED_MODULES = ("botocore",)
"""What the tracer patches: every AWS call goes through botocore, and the code calls
nothing else worth a subsegment. Powertools' default, the X-Ray SDK's patch_all, would
also try a dozen other libraries (sqlite3, requests, pymongo...) on every cold start."""


def _tracer() -> Tracer:
    # Off by Powertools' own rule: POWERTOOLS_TRACE_DISABLED, or not running in Lambda.
    if Tracer._is_tracer_disabled():
        return Tracer(service=SERVICE, disabled=True, auto_patch=False, provider=NoTracing())
    traced = Tracer(service=SERVICE, auto_patch=False)
    # Patched as botocore is imported (at once if it already is), not before: importing
    # botocore only to patch it was most of a step's X-Ray cost at import, and a step
    # imports it anyway when it first builds its clients (bootstrap.ports), before any
    # AWS call. The X-Ray SDK brings wrapt, whose post-import hooks do this. The hook is
    # on botocore.session, which every client is made through: once it has run,
    # botocore.client is complete and an attribute of botocore, as the patch expects.
    import wrapt

    wrapt.when_imported("botocore.session")(lambda _: traced.patch(TRACED_MODULES))
    return traced


logger = Logger(service=SERVICE)
tracer = _tracer()
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
