"""Who the caller is, from what API Gateway's authorizer puts in the event; the local
headers count only where the local runtime says so."""

from __future__ import annotations

from typing import Any

import pytest

from order_saga.entrypoints.identity import Caller, caller
from order_saga.errors import Unauthenticated

LOCAL = {"LOCAL_IDENTITY_HEADERS": "true"}
COGNITO = {"AUTH_MODE": "COGNITO"}
OPERATOR_ROLE = "arn:aws:iam::123456789012:role/ops/OrderOperators"
IAM = {"AUTH_MODE": "IAM", "OPERATOR_ROLE_ARN": OPERATOR_ROLE}


def event(
    headers: dict[str, str] | None = None,
    claims: dict[str, Any] | None = None,
    user_arn: str | None = None,
) -> dict[str, Any]:
    context: dict[str, Any] = {"identity": {"sourceIp": "10.0.0.1", "userArn": user_arn}}
    if claims is not None:
        context["authorizer"] = {"claims": claims}
    return {"headers": headers or {}, "requestContext": context}


def session(role: str, name: str = "s1", account: str = "123456789012") -> str:
    return f"arn:aws:sts::{account}:assumed-role/{role}/{name}"


def test_locally_the_headers_name_the_customer_and_the_role() -> None:
    found = caller(event({"X-Customer-Id": "cust-1", "X-Role": "operator"}), LOCAL)

    assert found == Caller("cust-1", operator=True)


def test_locally_header_names_are_case_insensitive() -> None:
    assert caller(event({"x-customer-id": "cust-1"}), LOCAL) == Caller("cust-1")


def test_on_aws_the_headers_are_ignored_so_they_cannot_impersonate() -> None:
    with pytest.raises(Unauthenticated):
        caller(event({"X-Customer-Id": "cust-1", "X-Role": "operator"}), COGNITO)


def test_on_aws_the_headers_do_not_override_the_authorizer() -> None:
    forged = event({"X-Customer-Id": "victim", "X-Role": "operator"}, claims={"sub": "me"})

    assert caller(forged, COGNITO) == Caller("me")


def test_locally_without_the_header_the_authorizer_claims_still_count() -> None:
    assert caller(event(claims={"sub": "cust-sample"}), LOCAL) == Caller("cust-sample")


@pytest.mark.parametrize("customer", ["", "has space", "x" * 65, "a/b", "é"])
def test_a_customer_header_outside_the_safe_alphabet_is_refused(customer: str) -> None:
    with pytest.raises(Unauthenticated, match="X-Customer-Id"):
        caller(event({"X-Customer-Id": customer}), LOCAL)


def test_no_identity_at_all_is_refused_with_a_hint_only_locally() -> None:
    with pytest.raises(Unauthenticated, match="send the X-Customer-Id header"):
        caller(event(), LOCAL)
    with pytest.raises(Unauthenticated) as refused:
        caller(event(), COGNITO)
    assert "X-Customer-Id" not in str(refused.value)


@pytest.mark.parametrize(
    ("groups", "operator"),
    [
        (None, False),
        ("operators", True),
        ("staff,operators", True),
        ("[staff operators]", True),
        (["operators"], True),
        ("operatorsX", False),
        ("staff", False),
    ],
)
def test_cognito_operators_are_the_members_of_the_operators_group(
    groups: Any, operator: bool
) -> None:
    claims: dict[str, Any] = {"sub": "5f2c1a9e-1c2b-4d3e-8f90-123456789abc"}
    if groups is not None:
        claims["cognito:groups"] = groups

    found = caller(event(claims=claims), COGNITO)

    assert found == Caller("5f2c1a9e-1c2b-4d3e-8f90-123456789abc", operator=operator)


def test_iam_callers_are_their_principal_and_a_roles_sessions_are_one_customer() -> None:
    first = caller(event(user_arn=session("OrderService", "a")), IAM)
    second = caller(event(user_arn=session("OrderService", "b")), IAM)
    other = caller(event(user_arn=session("ReportingService")), IAM)

    assert first == second
    assert first.customer_id.startswith("iam-") and len(first.customer_id) <= 64
    assert other.customer_id != first.customer_id
    assert not first.operator


def test_iam_operators_are_sessions_of_the_operator_role_in_its_account() -> None:
    assert caller(event(user_arn=session("OrderOperators")), IAM).operator
    assert not caller(
        event(user_arn=session("OrderOperators", account="999999999999")), IAM
    ).operator
    assert not caller(event(user_arn=session("OrderOperators")), {"AUTH_MODE": "IAM"}).operator


def test_an_iam_request_without_a_caller_is_refused() -> None:
    with pytest.raises(Unauthenticated):
        caller(event(), IAM)
