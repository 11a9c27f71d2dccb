"""A flow definition: `parse_definition` reads the JSON a user saves (`name`, `trigger`,
`priority`, `nodes`, `edges`), checks all of it and raises `DefinitionInvalid` with every problem
found; a `Definition` is the checked flow, asked what follows a node's exit (`next`) and stored and
shown as its normalized JSON (`as_json`, which parses back to the same definition).

Keys an editor keeps for itself (`ui` on the flow; `position`, `label`, `ui` on nodes; `id`,
`label`, `ui` on edges) are kept as they are; any other unknown key is a problem (a misspelt
setting would otherwise be silently ignored)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .conditions import condition_exits
from .graph import Edge, check_edges, read_edges
from .node_settings import parse_node
from .nodes import EXITS, NODE_TYPES, Node
from .problems import DefinitionInvalid, Problem
from .triggers import Trigger, parse_trigger

__all__ = ["Definition", "DefinitionInvalid", "Problem", "parse_definition", "MAX_NODES"]

MAX_NODES, MAX_EDGES, MAX_NAME, MAX_PRIORITY = 2000, 20_000, 200, 1_000_000
TOP_LEVEL = frozenset({"name", "description", "trigger", "priority", "nodes", "edges", "ui"})


@dataclass(frozen=True)
class Definition:
    name: str
    priority: int
    trigger: Trigger
    nodes: dict[str, Node]
    start: str
    edges: tuple[Edge, ...] = ()
    description: str | None = None
    ui: Any = None
    _by_exit: dict[tuple[str, str | None], str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_exit", {(e.source, e.exit): e.target for e in self.edges})

    def next(self, node_id: str, exit: str | None = None) -> str | None:
        """The node that exit of `node_id` leads to (None: the default exit); None if it has none."""
        return self._by_exit.get((node_id, exit))

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name}
        if self.description is not None:
            out["description"] = self.description
        out.update(trigger=self.trigger.as_json(), priority=self.priority,
                   nodes=[node.as_json() for node in self.nodes.values()],
                   edges=[edge.as_json() for edge in self.edges])
        return out if self.ui is None else {**out, "ui": self.ui}


def parse_definition(body: Any) -> Definition:
    """The checked definition; DefinitionInvalid listing every problem otherwise."""
    if not isinstance(body, Mapping):
        raise DefinitionInvalid([Problem(None, "a flow definition must be a JSON object.")])
    problems = [Problem(None, f"`{key}` is not part of a flow definition; it has {', '.join(sorted(TOP_LEVEL))}.")
                for key in body if key not in TOP_LEVEL]
    name, description, priority = _header(body, problems)
    trigger, trigger_problems = parse_trigger(body.get("trigger"))
    problems += [Problem(None, p) for p in trigger_problems]
    nodes, types, exits, start = _nodes(body.get("nodes"), problems)
    raw_edges = body.get("edges")
    if isinstance(raw_edges, list) and len(raw_edges) > MAX_EDGES:
        problems.append(Problem(None, f"the flow has {len(raw_edges)} edges; at most {MAX_EDGES} are allowed."))
    edges, edge_problems = read_edges(raw_edges, types)
    by_exit, graph_problems = check_edges(edges, types, exits, start)
    problems += edge_problems + graph_problems
    if problems:
        raise DefinitionInvalid(problems)
    kept = tuple(edge for edge in edges if by_exit.get((edge.source, edge.exit)) is edge)
    return Definition(name, priority, trigger, nodes, start, kept, description, body.get("ui"))


def _header(body: Mapping[str, Any], problems: list[Problem]) -> tuple[str, str | None, int]:
    name = body.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME:
        problems.append(Problem(None, f"a flow needs a `name`, a text of 1 to {MAX_NAME} characters."))
    description = body.get("description")
    if description is not None and (not isinstance(description, str) or len(description) > 2000):
        problems.append(Problem(None, "`description` must be a text of at most 2000 characters."))
    priority = body.get("priority", 0)
    if isinstance(priority, bool) or not isinstance(priority, int) or abs(priority) > MAX_PRIORITY:
        problems.append(Problem(None, f"`priority` must be a whole number from -{MAX_PRIORITY} to "
                                      f"{MAX_PRIORITY} (higher wins when several flows match), not {priority!r}."))
    return name, description, priority


def _nodes(raw_nodes: Any, problems: list[Problem]):
    """The parsed nodes, every node's type and exits by id (also those with bad settings, for the
    edge checks), and the start node's id."""
    nodes: dict[str, Node] = {}
    types: dict[str, str] = {}
    exits: dict[str, tuple[str | None, ...]] = {}
    if not isinstance(raw_nodes, list) or not raw_nodes:
        problems.append(Problem(None, "a flow needs `nodes`, a non-empty list of nodes, one of them of type start."))
        raw_nodes = []
    if len(raw_nodes) > MAX_NODES:
        problems.append(Problem(None, f"the flow has {len(raw_nodes)} nodes; at most {MAX_NODES} are allowed."))
    valid = _identified(raw_nodes, problems)
    http_nodes = {node_id for node_id, raw in valid if raw.get("type") == "http"}
    for node_id, raw in valid:
        types[node_id] = raw.get("type") if raw.get("type") in NODE_TYPES else "unknown"
        if types[node_id] == "unknown":
            exits[node_id] = None  # its edges are not checked: the type is the problem
            continue
        exits[node_id] = condition_exits(raw) if raw["type"] == "condition" else EXITS[raw["type"]]
        node, node_problems = parse_node(raw, raw["type"], http_nodes)
        problems += [Problem(node_id, p) for p in node_problems]
        if node is not None:
            nodes[node_id] = node
    starts = [node_id for node_id, node_type in types.items() if node_type == "start"]
    if len(starts) != 1:
        problems.append(Problem(None, "the flow has no start node; add exactly one node of type start." if not starts
                                else f"the flow has {len(starts)} start nodes ({', '.join(starts)}); keep exactly one."))
    return nodes, types, exits, starts[0] if len(starts) == 1 else None


def _identified(raw_nodes: list[Any], problems: list[Problem]) -> list[tuple[str, dict[str, Any]]]:
    """(id, JSON) of the nodes with a unique id; problems for the others and for unknown types."""
    seen: dict[str, int] = {}
    out = []
    for index, raw in enumerate(raw_nodes):
        node_id = raw.get("id") if isinstance(raw, dict) else None
        if not isinstance(node_id, str) or not node_id.strip() or len(node_id) > 200:
            problems.append(Problem(None, f"node #{index + 1} needs an `id`, a non-empty text of at most 200 characters."))
            continue
        seen[node_id] = seen.get(node_id, 0) + 1
        if seen[node_id] == 2:
            problems.append(Problem(node_id, f"more than one node has the id {node_id!r}; node ids must be unique."))
        if seen[node_id] > 1:
            continue
        if raw.get("type") not in NODE_TYPES:
            problems.append(Problem(node_id, f"{node_id!r} has the type {raw.get('type')!r}; a node's type is one of "
                                             f"{', '.join(NODE_TYPES)}."))
        out.append((node_id, raw))
    return out
