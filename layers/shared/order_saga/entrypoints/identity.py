"""Who is calling the API: read from what API Gateway's authorizer put in the event.

AUTH_MODE (a template parameter) says which authorizer guards the API:

- COGNITO: the customer is the user pool subject (``claims.sub``); members of the
  ``operators`` group (``claims["cognito:groups"]``) are operators.
- IAM: the customer is the calling IAM principal (``identity.userArn``, a role's sessions
  counting as the role); sessions of OPERATOR_ROLE_ARN are operators.

Locally there is no authorizer: the local runtime sets LOCAL_IDENTITY_HEADERS=true and the
headers X-Customer-Id and X-Role: operator stand in for it. The template never sets that
variable, so on AWS the headers are ignored and cannot impersonate anyone.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from order_saga.errors import Unauthenticated

if TYPE_CHECKING:
    from collections.abc import Mapping

CUSTOMER_HEADER = "X-Customer-Id"
ROLE_HEADER = "X-Role"
OPERATOR_ROLE = "operator"
OPERATORS_GROUP = "operators"
LOCAL_HEADERS_FLAG = "LOCAL_IDENTITY_HEADERS"
_SAFE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_ROLE_ARN = re.compile(r"arn:[a-z-]+:iam::(?P<account>[0-9]{12}):role/(?:.*/)?(?P<name>[^/]+)")
_SESSION_ARN = re.compile(r"arn:[a-z-]+:sts::(?P<account>[0-9]{12}):assumed-role/(?P<name>[^/]+)/")


@dataclass(frozen=True)
class Caller:
    customer_id: str
    operator: bool = False


def caller(event: Mapping[str, Any], env: Mapping[str, str]) -> Caller:
    """The caller of an API Gateway REST proxy event; raises Unauthenticated."""
    context = event.get("requestContext") or {}
    local = env.get(LOCAL_HEADERS_FLAG) == "true"
    if local:
        found = _from_headers(event.get("headers") or {})
        if found is not None:
            return found
    if env.get("AUTH_MODE", "COGNITO") == "IAM":
        found = _from_iam(context.get("identity") or {}, env.get("OPERATOR_ROLE_ARN", ""))
    else:
        found = _from_cognito((context.get("authorizer") or {}).get("claims") or {})
    if found is None:
        hint = f": send the {CUSTOMER_HEADER} header" if local else ""
        raise Unauthenticated(f"no caller identity{hint}")
    return found


def _from_headers(headers: Mapping[str, str]) -> Caller | None:
    by_name = {str(key).lower(): value for key, value in headers.items()}
    customer = by_name.get(CUSTOMER_HEADER.lower())
    if customer is None:
        return None
    if not _SAFE_ID.fullmatch(customer):
        raise Unauthenticated(f"{CUSTOMER_HEADER} must be 1 to 64 letters, digits, '_' or '-'")
    role = (by_name.get(ROLE_HEADER.lower()) or "").strip().lower()
    return Caller(customer, operator=role == OPERATOR_ROLE)


def _from_cognito(claims: Mapping[str, Any]) -> Caller | None:
    subject = claims.get("sub")
    if not isinstance(subject, str) or not _SAFE_ID.fullmatch(subject):
        return None
    return Caller(subject, operator=OPERATORS_GROUP in _groups(claims.get("cognito:groups")))


def _groups(value: object) -> set[str]:
    """REST API authorizers hand claims over as strings: "operators", "operators,staff"
    or "[operators staff]", depending on the token; a list is taken as it is."""
    if isinstance(value, list):
        return {str(item) for item in value}
    if not isinstance(value, str):
        return set()
    return {part for part in re.split(r"[\s,\[\]]+", value) if part}


def _from_iam(identity: Mapping[str, Any], operator_role_arn: str) -> Caller | None:
    arn = identity.get("userArn")
    if not isinstance(arn, str) or not arn:
        return None
    session = _SESSION_ARN.match(arn)
    principal = f"{session['account']}:role/{session['name']}" if session else arn
    # A principal ARN holds characters ids may not, so the customer id is a digest of it.
    customer_id = "iam-" + hashlib.sha256(principal.encode()).hexdigest()[:32]
    operator_role = _ROLE_ARN.fullmatch(operator_role_arn)
    operator = bool(
        session
        and operator_role
        and (session["account"], session["name"])
        == (operator_role["account"], operator_role["name"])
    )
    return Caller(customer_id, operator=operator)
