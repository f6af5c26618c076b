"""Powertools logger, tracer and metrics, one of each per process."""

from __future__ import annotations

import warnings

from aws_lambda_powertools import Logger, Metrics, Tracer

# A step that counts nothing on its path (a refund with nothing to refund) is normal.
warnings.filterwarnings("ignore", message="No application metrics to publish")

logger = Logger()
tracer = Tracer()
metrics = Metrics()
