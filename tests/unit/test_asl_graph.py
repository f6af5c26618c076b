"""The state machine graph is the ASL's: every state, every transition, every Catch."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from local_runtime.console.asl_graph import InvalidDefinition, describe_rule, graph_of, mermaid

ASL = json.loads(
    (Path(__file__).resolve().parents[2] / "statemachine" / "order_saga.asl.json").read_text()
)
# A Mermaid node declaration: id, then its shape's opening bracket and a quoted label.
DECLARATION = re.compile(r'^    (\w+)[\[\(\{/]+"(.*?)"[\]\)\}/]+$')
LINK = re.compile(r"^    (\w+) (-->|-\.->)(?:\|\"(.*?)\"\|)? (\w+)$")


def transitions(definition: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(state, next state or "End", how) for every transition the ASL spells out."""
    found = [("Start", definition["StartAt"], "start")]
    for name, state in definition["States"].items():
        for rule in state.get("Choices", []):
            found.append((name, rule["Next"], "choice"))
        if "Default" in state:
            found.append((name, state["Default"], "default"))
        if "Next" in state:
            found.append((name, state["Next"], "next"))
        for catcher in state.get("Catch", []):
            found.append((name, catcher["Next"], "catch: " + ", ".join(catcher["ErrorEquals"])))
        if state.get("End") or state["Type"] in ("Succeed", "Fail"):
            found.append((name, "End", "end"))
    return found


def drawn_transitions(graph_definition: dict[str, Any]) -> list[tuple[str, str, str]]:
    graph = graph_of(graph_definition)
    names = {node.id: node.name for node in graph.nodes}
    return [
        (
            names[edge.source],
            names[edge.target],
            f"catch: {edge.label}" if edge.kind == "catch" else edge.kind,
        )
        for edge in graph.edges
    ]


def test_the_graph_has_exactly_the_states_of_the_asl_file() -> None:
    graph = graph_of(ASL)

    assert [node.name for node in graph.states] == list(ASL["States"])
    assert [(n.name, n.type) for n in graph.states] == [
        (name, state["Type"]) for name, state in ASL["States"].items()
    ]
    assert [node.kind for node in graph.nodes if node.kind != "state"] == ["start", "end"]


def test_the_graph_has_every_transition_and_every_catch_of_the_asl_file() -> None:
    assert sorted(drawn_transitions(ASL)) == sorted(transitions(ASL))
    catches = sum(len(state.get("Catch", [])) for state in ASL["States"].values())
    assert len([e for e in graph_of(ASL).edges if e.kind == "catch"]) == catches


def test_the_states_only_a_catch_leads_to_are_the_compensation_branch() -> None:
    graph = graph_of(ASL)

    forward = [node.name for node in graph.states if node.branch == "forward"]

    assert forward == ["ProcessPayment", "ReserveInventory", "ConfirmOrder"]


def test_the_mermaid_text_declares_each_state_once_and_draws_each_edge() -> None:
    graph = graph_of(ASL)

    lines = mermaid(graph).splitlines()

    assert lines[0] == "flowchart TD"
    declared = [m.group(2) for line in lines if (m := DECLARATION.match(line))]
    assert declared == ["Start", *ASL["States"], "End"]
    links = [m.groups() for line in lines if (m := LINK.match(line))]
    assert len(links) == len(graph.edges)
    assert [arrow for _, arrow, _, _ in links].count("-.->") == len(
        [e for e in graph.edges if e.kind == "catch"]
    )
    assert ("ProcessPayment", "-.->", "PaymentDeclined", "CancelOrder") in links


def test_painting_a_path_classes_every_state_and_thickens_the_taken_edges() -> None:
    graph = graph_of(ASL)

    text = mermaid(graph, {"ProcessPayment": "succeeded", "ReserveInventory": "failed"}, [0, 1])

    assert "    class ProcessPayment succeeded" in text
    assert "    class ReserveInventory failed" in text
    not_entered = next(line for line in text.splitlines() if line.endswith(" notentered"))
    assert len(not_entered.split()[1].split(",")) == len(ASL["States"]) - 2
    assert "    linkStyle 0,1 " in text


def test_a_choice_state_draws_each_rule_and_its_default() -> None:
    definition = {
        "StartAt": "Check",
        "States": {
            "Check": {
                "Type": "Choice",
                "Choices": [
                    {"Variable": "$.total", "NumericGreaterThan": 100, "Next": "Review"},
                    {"Not": {"Variable": "$.paid", "BooleanEquals": True}, "Next": "Pay"},
                ],
                "Default": "Done",
            },
            "Review": {"Type": "Wait", "Seconds": 5, "Next": "Done"},
            "Pay": {"Type": "Pass", "End": True},
            "Done": {"Type": "Succeed"},
        },
    }

    edges = [(e.source, e.target, e.kind, e.label) for e in graph_of(definition).edges]

    assert edges == [
        ("sagaStart", "Check", "start", ""),
        ("Check", "Review", "choice", "$.total > 100"),
        ("Check", "Pay", "choice", "not $.paid == True"),
        ("Check", "Done", "default", "Default"),
        ("Review", "Done", "next", ""),
        ("Pay", "sagaEnd", "end", ""),
        ("Done", "sagaEnd", "end", ""),
    ]


def test_state_names_that_are_no_mermaid_id_get_one_and_keep_their_label() -> None:
    definition = {
        "StartAt": "end",
        "States": {
            "end": {"Type": "Pass", "Next": 'Say "hi" <now>'},
            'Say "hi" <now>': {"Type": "Pass", "Next": "state_0"},
            "state_0": {"Type": "Succeed"},
        },
    }

    graph = graph_of(definition)
    text = mermaid(graph)

    ids = [node.id for node in graph.states]
    assert len(set(ids)) == 3 and "end" not in ids
    assert "Say #quot;hi#quot; #lt;now#gt;" in text


def test_a_rule_reads_as_a_few_words() -> None:
    assert describe_rule({"Variable": "$.s", "StringEquals": "OK"}) == "$.s == 'OK'"
    assert describe_rule({"Variable": "$.n", "NumericLessThanPath": "$.m"}) == "$.n < $.m"
    assert describe_rule({"Variable": "$.x", "IsPresent": True}) == "$.x present is true"
    both = {
        "And": [{"Variable": "$.a", "BooleanEquals": True}, {"Variable": "$.b", "IsNull": False}]
    }
    assert describe_rule(both) == "$.a == True and $.b null is false"


@pytest.mark.parametrize(
    ("definition", "complaint"),
    [
        ({"StartAt": "Nowhere", "States": {"A": {"Type": "Succeed"}}}, "StartAt 'Nowhere'"),
        ({"StartAt": "A", "States": {}}, "names no state"),
        ({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}}}, "A: Next leads to 'B'"),
        (
            {
                "StartAt": "A",
                "States": {"A": {"Type": "Task", "End": True, "Catch": [{"Next": "Z"}]}},
            },
            "A: a Catch leads to 'Z'",
        ),
    ],
)
def test_a_definition_that_leads_nowhere_is_refused_by_name(
    definition: dict[str, Any], complaint: str
) -> None:
    with pytest.raises(InvalidDefinition, match=re.escape(complaint)):
        graph_of(definition)
