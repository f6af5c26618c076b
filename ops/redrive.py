"""Re-drive the manual-review queue: run the rest of each order's compensation again.

A message lands on the queue when a compensation step still failed after its retries
(statemachine/order_saga.asl.json, RequestManualReview). It names the order, the step
that gave up and the compensation's functions, in order. Re-driving invokes the failed
step and the ones after it through the Lambda API, the very functions the saga calls;
each is idempotent and a no-op when its work is done. A fully compensated order's
message is deleted; one that fails again stays, and after five receives the queue moves
it to its dead-letter queue.

    python -m ops.redrive --stack order-saga-dev           # the stack's queue
    python -m ops.redrive --queue-url https://sqs...       # any queue
    runtime.redrive()                                       # inside the local runtime
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from typing import Any

import boto3
from pydantic import BaseModel, ConfigDict, ValidationError

CONFIRMED_AFTER_ALL = "OrderConfirmedAfterAll"


class CompensationStep(BaseModel):
    model_config = ConfigDict(extra="forbid")
    step: str
    function: str


class ManualReviewItem(BaseModel):
    """The message body the state machine sends; extra fields are kept for operators."""

    model_config = ConfigDict(extra="allow")
    order_id: str
    failed_step: str
    error: dict[str, Any]
    original_error: dict[str, Any]
    execution_arn: str
    compensation: list[CompensationStep]

    def remaining(self) -> list[CompensationStep]:
        names = [step.step for step in self.compensation]
        if self.failed_step not in names:
            raise ValueError(f"failed step {self.failed_step!r} is not one of {names}")
        return self.compensation[names.index(self.failed_step) :]


@dataclass
class Outcome:
    order_id: str
    done: bool
    steps: list[str] = field(default_factory=list)
    """What happened, one line per step run."""


def redrive(queue_url: str, *, sqs: Any = None, lambda_client: Any = None) -> list[Outcome]:
    """Handle every message on the queue once; returns what happened to each order."""
    sqs = sqs or boto3.client("sqs")
    lambda_client = lambda_client or boto3.client("lambda")
    outcomes: list[Outcome] = []
    seen: set[str] = set()
    while True:
        received = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0, VisibilityTimeout=60
        ).get("Messages", [])
        fresh = [message for message in received if message["MessageId"] not in seen]
        if not fresh:
            return outcomes
        for message in fresh:
            seen.add(message["MessageId"])
            outcome = _compensate(message["Body"], lambda_client)
            outcomes.append(outcome)
            if outcome.done:
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


def _compensate(body: str, lambda_client: Any) -> Outcome:
    try:
        item = ManualReviewItem.model_validate_json(body)
        steps = item.remaining()
    except (ValidationError, ValueError) as exc:
        return Outcome(order_id="?", done=False, steps=[f"unreadable message: {exc}"])
    outcome = Outcome(order_id=item.order_id, done=False)
    for step in steps:
        payload: dict[str, Any] = {"order_id": item.order_id}
        if step.step == "CancelOrder":
            payload["error"] = item.original_error
        response = lambda_client.invoke(
            FunctionName=step.function, Payload=json.dumps(payload).encode()
        )
        answer = json.loads(response["Payload"].read() or b"null")
        if response.get("FunctionError"):
            error = answer.get("errorType") if isinstance(answer, dict) else answer
            if error == CONFIRMED_AFTER_ALL:
                outcome.steps.append(f"{step.step}: the order was confirmed after all")
                outcome.done = True
                return outcome
            outcome.steps.append(f"{step.step} failed again: {error}")
            return outcome
        outcome.steps.append(f"{step.step} ok")
    outcome.done = True
    return outcome


def stack_queue_url(stack: str, cloudformation: Any = None) -> str:
    cloudformation = cloudformation or boto3.client("cloudformation")
    (described,) = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    for output in described.get("Outputs", []):
        if output["OutputKey"] == "ManualReviewQueueUrl":
            return str(output["OutputValue"])
    raise SystemExit(f"stack {stack} has no ManualReviewQueueUrl output")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--stack", help="a deployed stack; its ManualReviewQueueUrl output")
    where.add_argument("--queue-url", help="the manual-review queue's URL")
    args = parser.parse_args(argv)
    queue_url = args.queue_url or stack_queue_url(args.stack)
    outcomes = redrive(queue_url)
    for outcome in outcomes:
        state = "compensated" if outcome.done else "still in review"
        print(f"{outcome.order_id}: {state} ({'; '.join(outcome.steps)})")
    print(f"{len(outcomes)} message(s), {sum(o.done for o in outcomes)} compensated")
    return 0 if all(outcome.done for outcome in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
