"""A speed shortcut in the SDK's configuration (botocore's public client config, not a
patch of its code): the session every boto3 client of the process is built from, the
handlers' among them.

1. Unsigned requests with a fixed User-Agent. moto checks no signatures, so the clients
   sign nothing (SigV4 signing is skipped as for any UNSIGNED client), and they send a
   fixed User-Agent instead of rebuilding botocore's twice per request: together a fifth
   of every request's CPU. Every other step of the SDK (serialising, sending, parsing,
   retrying) runs as on AWS. Its pools keep a connection to the Lambda server for every
   saga in flight (botocore keeps 10).
"""

from __future__ import annotations

import boto3
import botocore.session
from botocore import UNSIGNED
from botocore.config import Config


def install() -> None:
    """Make the lean session boto3's default (boto3.client builds from it)."""
    boto3.setup_default_session(botocore_session=lean_session())


def lean_session() -> botocore.session.Session:
    session = botocore.session.get_session()
    session.set_default_client_config(
        Config(
            signature_version=UNSIGNED,
            user_agent="order-saga-local-runtime",
            max_pool_connections=256,
        )
    )
    return session
