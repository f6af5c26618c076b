"""The state machine as a graph, read from its ASL definition, and that graph as Mermaid.

The console draws it and `make diagram` writes it into the README, so the picture is
always the ASL's own: every state (Task, Pass, Choice, Wait, Succeed, Fail, Parallel,
Map) is a node, and every transition an edge: ``Next``, each ``Choices`` rule and the
``Default``, each ``Catch`` (labelled with its ``ErrorEquals``), and an edge to the end
marker from every state that ends the execution. Retries stay inside their state, as in
the Step Functions console. The states inside a Parallel's branches or a Map's iterator
are not drawn; the saga has none.

A state is on the *compensation* branch when only a ``Catch`` leads to it: it is not
reachable from ``StartAt`` through ``Next``, ``Choices`` and ``Default`` alone.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

START = "Start"
END = "End"
TERMINAL_TYPES = ("Succeed", "Fail")
SHAPES = {
    # ASL type -> Mermaid node shape (opening, closing)
    "Task": ('["', '"]'),
    "Pass": ('("', '")'),
    "Choice": ('{"', '"}'),
    "Wait": ('[/"', '"/]'),
    "Parallel": ('[["', '"]]'),
    "Map": ('[["', '"]]'),
    "Succeed": ('(["', '"])'),
    "Fail": ('(["', '"])'),
    "marker": ('(("', '"))'),
}
STATUS_STYLES = {
    # A state's part in one execution -> how the console paints it.
    "succeeded": "fill:#d4edda,stroke:#2e7d32,stroke-width:2px,color:#1b3e20",
    "failed": "fill:#f8d7da,stroke:#c62828,stroke-width:2px,color:#5f1111",
    "compensating": "fill:#ffe5b4,stroke:#e07b00,stroke-width:2px,color:#5a3300",
    "running": "fill:#d6e9ff,stroke:#1565c0,stroke-width:2px,color:#0d2e57",
    "notentered": "fill:#f1f1f1,stroke:#b0b0b0,stroke-width:1px,color:#8a8a8a",
}
TAKEN_EDGE_STYLE = "stroke:#37474f,stroke-width:3px"
# Words that end or open a statement in a flowchart: never usable as a node id.
MERMAID_KEYWORDS = frozenset(
    {"end", "graph", "flowchart", "subgraph", "style", "class", "classdef", "click"}
    | {"linkstyle", "default", "direction", "call", "href", "interpolate"}
)
SAFE_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


class InvalidDefinition(ValueError):
    """The ASL definition cannot be drawn: no StartAt, or a transition to no state."""


@dataclass(frozen=True)
class Node:
    id: str
    """The Mermaid node id: the state's name when that is a safe id."""
    name: str
    kind: str
    """"state", or "start" / "end" for the markers."""
    type: str | None = None
    """The ASL state type; None for the markers."""
    branch: str = "forward"
    """"forward", or "compensation" when only a Catch leads to the state."""


@dataclass(frozen=True)
class Edge:
    source: str
    """Node id."""
    target: str
    kind: str
    """"start", "next", "choice", "default", "catch" or "end"."""
    label: str = ""
    errors: tuple[str, ...] = ()
    """A Catch's ErrorEquals."""


@dataclass(frozen=True)
class Graph:
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]

    @property
    def states(self) -> list[Node]:
        return [node for node in self.nodes if node.kind == "state"]

    def node(self, state_name: str) -> Node | None:
        return next((n for n in self.states if n.name == state_name), None)

    def start(self) -> Node:
        return next(node for node in self.nodes if node.kind == "start")

    def end(self) -> Node:
        return next(node for node in self.nodes if node.kind == "end")

    def as_json(self) -> dict[str, Any]:
        return {
            "nodes": [
                {"id": n.id, "name": n.name, "kind": n.kind, "type": n.type, "branch": n.branch}
                for n in self.nodes
            ],
            "edges": [
                {"index": i, "source": e.source, "target": e.target, "kind": e.kind}
                | {"label": e.label}
                for i, e in enumerate(self.edges)
            ],
        }


def graph_of(definition: Mapping[str, Any]) -> Graph:
    """The graph of one ASL definition (the top level of it)."""
    states: Mapping[str, Any] = definition.get("States") or {}
    start_at = definition.get("StartAt")
    if not isinstance(start_at, str) or start_at not in states:
        raise InvalidDefinition(f"StartAt {start_at!r} names no state of {sorted(states)}")
    ids = _node_ids(list(states))
    start_id, end_id = _marker_id("Start", ids), _marker_id("End", ids)

    edges = [Edge(start_id, ids[start_at], "start")]
    for name, state in states.items():
        edges.extend(_edges_from(name, state, ids, end_id))

    forward = _reachable(ids[start_at], [e for e in edges if e.kind != "catch"])
    nodes = [Node(start_id, START, "start")]
    nodes += [
        Node(
            ids[name],
            name,
            "state",
            str(state.get("Type")),
            "forward" if ids[name] in forward else "compensation",
        )
        for name, state in states.items()
    ]
    nodes.append(Node(end_id, END, "end"))
    return Graph(tuple(nodes), tuple(edges))


def _node_ids(names: list[str]) -> dict[str, str]:
    ids: dict[str, str] = {}
    for index, name in enumerate(names):
        safe = SAFE_ID.match(name) and name.lower() not in MERMAID_KEYWORDS
        ids[name] = name if safe else f"state_{index}"
    # A safe name may equal another state's generated id ("state_3"); make each unique.
    taken: set[str] = set()
    for name, node_id in ids.items():
        unique, n = node_id, 1
        while unique in taken:
            unique, n = f"{node_id}_{n}", n + 1
        ids[name] = unique
        taken.add(unique)
    return ids


def _marker_id(word: str, ids: Mapping[str, str]) -> str:
    candidate = f"saga{word}"
    while candidate in ids.values():
        candidate += "_"
    return candidate


def _target(name: str, target: object, ids: Mapping[str, str], where: str) -> str:
    if not isinstance(target, str) or target not in ids:
        raise InvalidDefinition(f"{name}: {where} leads to {target!r}, which is no state")
    return ids[target]


def _edges_from(
    name: str, state: Mapping[str, Any], ids: Mapping[str, str], end: str
) -> list[Edge]:
    source = ids[name]
    edges = []
    if state.get("Type") == "Choice":
        for rule in state.get("Choices") or []:
            target = _target(name, rule.get("Next"), ids, "a Choices rule")
            edges.append(Edge(source, target, "choice", _shorten(describe_rule(rule))))
        if "Default" in state:
            target = _target(name, state["Default"], ids, "Default")
            edges.append(Edge(source, target, "default", "Default"))
    if "Next" in state:
        edges.append(Edge(source, _target(name, state["Next"], ids, "Next"), "next"))
    for catcher in state.get("Catch") or []:
        errors = tuple(str(error) for error in catcher.get("ErrorEquals") or [])
        target = _target(name, catcher.get("Next"), ids, "a Catch")
        edges.append(Edge(source, target, "catch", ", ".join(errors), errors))
    if state.get("End") is True or state.get("Type") in TERMINAL_TYPES:
        edges.append(Edge(source, end, "end"))
    return edges


def _reachable(start: str, edges: list[Edge]) -> set[str]:
    seen, todo = {start}, [start]
    while todo:
        current = todo.pop()
        for edge in edges:
            if edge.source == current and edge.target not in seen:
                seen.add(edge.target)
                todo.append(edge.target)
    return seen


COMPARISONS = {
    "Equals": "==",
    "LessThan": "<",
    "GreaterThan": ">",
    "LessThanEquals": "<=",
    "GreaterThanEquals": ">=",
    "Matches": "matches",
}


def describe_rule(rule: Mapping[str, Any]) -> str:
    """A Choice rule in a few words: ``$.total > 100``, ``not $.paid``."""
    if "Condition" in rule:  # JSONata
        return str(rule["Condition"]).strip("{%} ")
    for combinator in ("And", "Or"):
        if combinator in rule:
            parts = (describe_rule(r) for r in rule[combinator])
            return f" {combinator.lower()} ".join(parts)
    if "Not" in rule:
        return f"not {describe_rule(rule['Not'])}"
    variable = rule.get("Variable", "?")
    for key, value in rule.items():
        if key in ("Variable", "Next"):
            continue
        if key.startswith("Is"):
            return f"{variable} {key[2:].lower()} is {str(value).lower()}"
        operator = next((op for suffix, op in COMPARISONS.items() if suffix in key), key)
        shown = value if key.endswith("Path") else repr(value)
        return f"{variable} {operator} {shown}"
    return str(variable)


def _shorten(text: str, limit: int = 48) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _text(label: str) -> str:
    """A label inside Mermaid's double quotes: entity codes for what would end it."""
    return label.replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")


def mermaid(
    graph: Graph,
    painted: Mapping[str, str] | None = None,
    taken: Collection[int] = (),
) -> str:
    """The graph as a Mermaid flowchart, top to bottom.

    ``painted`` maps node ids to a key of STATUS_STYLES (one execution's path); with it,
    every other state is painted "notentered". ``taken`` holds the indexes of the edges
    the execution went along, drawn heavier.
    """
    lines = ["flowchart TD"]
    for node in graph.nodes:
        opening, closing = SHAPES["marker" if node.kind != "state" else str(node.type)]
        lines.append(f"    {node.id}{opening}{_text(node.name)}{closing}")
    for edge in graph.edges:
        arrow = "-.->" if edge.kind == "catch" else "-->"
        label = f'|"{_text(edge.label)}"|' if edge.label else ""
        lines.append(f"    {edge.source} {arrow}{label} {edge.target}")
    if painted is not None:
        for status, style in STATUS_STYLES.items():
            lines.append(f"    classDef {status} {style}")
        by_status: dict[str, list[str]] = {}
        for node in graph.states:
            by_status.setdefault(painted.get(node.id, "notentered"), []).append(node.id)
        for status, node_ids in by_status.items():
            if status not in STATUS_STYLES:
                raise ValueError(f"no style for {status!r}; one of {sorted(STATUS_STYLES)}")
            lines.append(f"    class {','.join(node_ids)} {status}")
    if taken:
        lines.append(f"    linkStyle {','.join(str(i) for i in sorted(taken))} {TAKEN_EDGE_STYLE}")
    return "\n".join(lines) + "\n"
