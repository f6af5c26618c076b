"""Powertools logger, tracer and metrics, one of each per process.

template.yaml sets the service name and metric namespace for every function; the
defaults here only matter where this module is imported before that environment
exists (a test collecting modules), so metrics never go out without a namespace.
"""

from __future__ import annotations

import os
import warnings

from aws_lambda_powertools import Logger, Metrics, Tracer

SERVICE = os.getenv("POWERTOOLS_SERVICE_NAME", "order-saga")
NAMESPACE = os.getenv("POWERTOOLS_METRICS_NAMESPACE", "OrderSaga")

# A step that counts nothing on its path (a refund with nothing to refund) is normal.
warnings.filterwarnings("ignore", message="No application metrics to publish")

logger = Logger(service=SERVICE)
tracer = Tracer(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
