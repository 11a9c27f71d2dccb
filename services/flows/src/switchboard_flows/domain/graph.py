"""The edges of a flow checked against its nodes (`check_edges`): each edge joins existing nodes by
an exit its source has (the default exit, no `exit`, only for single-exit nodes), one edge per
exit, every exit of every node connected, nothing back into the start, every node reachable from
the start, and no loop that never waits (one that passes no wait_for_reply or delay node would
run, and send, without end)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from .problems import Problem, a

EDGE_KEYS = frozenset({"from", "to", "exit", "id", "label", "ui"})  # id, label, ui: kept for an editor
WAITING = frozenset({"delay", "wait_for_reply"})


class Edge(NamedTuple):
    source: str
    exit: str | None
    target: str
    extra: Mapping[str, Any] = {}

    def as_json(self) -> dict[str, Any]:
        out = {"from": self.source, "to": self.target}
        return {**out, "exit": self.exit, **self.extra} if self.exit is not None else {**out, **self.extra}


def _exit_phrase(exit: str | None) -> str:
    return "" if exit is None else f" (exit {exit!r})"


def read_edges(raw_edges: Any, types: Mapping[str, str]) -> tuple[list[Edge], list[Problem]]:
    """The well-formed edges between existing nodes, and the problems of the others."""
    if not isinstance(raw_edges, list):
        return [], [Problem(None, "a flow needs `edges`, a list of {\"from\", \"to\", \"exit\"} objects.")]
    edges, problems = [], []
    for index, raw in enumerate(raw_edges):
        source = raw.get("from") if isinstance(raw, dict) else None
        target, exit = (raw.get("to"), raw.get("exit")) if isinstance(raw, dict) else (None, None)
        if not isinstance(source, str) or not isinstance(target, str) or not (exit is None or isinstance(exit, str)):
            problems.append(Problem(source if isinstance(source, str) else None,
                                    f"edge #{index + 1} must be an object with `from` and `to` (node ids) "
                                    "and, for a node with several exits, `exit` (a name)."))
            continue
        if unknown := sorted(set(raw) - EDGE_KEYS):
            problems.append(Problem(source, f"the edge from {source!r} to {target!r} has unknown keys "
                                            f"{', '.join(unknown)}; an edge has from, to and exit."))
        if source not in types:
            problems.append(Problem(source, f"an edge leaves {source!r}, but the flow has no node {source!r}."))
        elif target not in types:
            problems.append(Problem(source, f"the edge from {source!r}{_exit_phrase(exit)} goes to {target!r}, "
                                            f"but the flow has no node {target!r}."))
        else:
            edges.append(Edge(source, exit, target, {k: v for k, v in raw.items() if k in EDGE_KEYS - {"from", "to", "exit"}}))
    return edges, problems


def check_edges(edges: list[Edge], types: Mapping[str, str], exits: Mapping[str, tuple[str | None, ...] | None],
                start: str | None) -> tuple[dict[tuple[str, str | None], Edge], list[Problem]]:
    """The edges by (source, exit), and every problem of the graph."""
    problems: list[Problem] = []
    by_exit: dict[tuple[str, str | None], Edge] = {}
    for edge in edges:
        if exits[edge.source] is None:  # a node of unknown type (reported as such)
            by_exit.setdefault((edge.source, edge.exit), edge)
            continue
        problem = _exit_problem(edge, types[edge.source], exits[edge.source])
        if problem is not None:
            problems.append(Problem(edge.source, problem))
            continue
        if (edge.source, edge.exit) in by_exit:
            first = by_exit[(edge.source, edge.exit)].target
            problems.append(Problem(edge.source, f"{edge.source!r} has more than one edge for "
                                    f"{'its exit ' + repr(edge.exit) if edge.exit else 'its one exit'} "
                                    f"(to {first!r} and {edge.target!r}); an exit leads to exactly one node."))
            continue
        if start is not None and edge.target == start:
            problems.append(Problem(edge.source, f"the edge from {edge.source!r} goes into the start node "
                                                 f"{start!r}; nothing may lead back to the start."))
        by_exit[(edge.source, edge.exit)] = edge
    for node_id, node_exits in exits.items():
        for exit in node_exits or ():
            if (node_id, exit) not in by_exit:
                problems.append(Problem(node_id, _unconnected(node_id, types[node_id], exit)))
    if start is not None:
        problems += _unreachable(types, by_exit, start)
    problems += _loops_that_never_wait(types, by_exit)
    return by_exit, problems


def _exit_problem(edge: Edge, node_type: str, exits: tuple[str | None, ...]) -> str | None:
    if not exits:
        return (f"{edge.source!r} is {a(node_type)}, which ends the flow: nothing may follow it, so "
                f"remove its edge to {edge.target!r}.")
    if edge.exit in exits:
        return None
    if exits == (None,):
        return (f"{edge.source!r} is {a(node_type)} with a single exit: leave `exit` out of its edge "
                f"to {edge.target!r} (got {edge.exit!r}).")
    names = ", ".join(str(e) for e in exits)
    if edge.exit is None:
        return (f"the edge from {edge.source!r} to {edge.target!r} needs an `exit`: {edge.source!r} "
                f"is {a(node_type)} with the exits {names}.")
    return f"{edge.source!r} ({a(node_type)}) has no exit {edge.exit!r}; its exits are {names}."


def _unconnected(node_id: str, node_type: str, exit: str | None) -> str:
    if exit is None:
        return (f"{node_id!r} ({a(node_type)}) leads nowhere: add an edge from it to the node that "
                "comes next (an end node to stop there).")
    return (f"{node_id!r} ({a(node_type)}) has no edge for its exit {exit!r}: connect it to the node "
            "that should follow (an end node to stop there).")


def _unreachable(types: Mapping[str, str], by_exit: Mapping[tuple[str, str | None], Edge], start: str) -> list[Problem]:
    following: dict[str, list[str]] = {}
    for (source, _), edge in by_exit.items():
        following.setdefault(source, []).append(edge.target)
    seen, todo = {start}, [start]
    while todo:
        for target in following.get(todo.pop(), ()):
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return [Problem(node_id, f"{node_id!r} cannot be reached from the start node: connect it to the "
                             "flow or remove it.") for node_id in types if node_id not in seen]


def _loops_that_never_wait(types: Mapping[str, str], by_exit: Mapping[tuple[str, str | None], Edge]) -> list[Problem]:
    """One problem per loop found among the nodes that move on at once (not delay / wait_for_reply)."""
    following: dict[str, list[str]] = {}
    for (source, _), edge in by_exit.items():
        if types[source] not in WAITING and types[edge.target] not in WAITING:
            following.setdefault(source, []).append(edge.target)
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    problems: list[Problem] = []
    for root in following:
        if root in state:
            continue
        path, stack = [root], [iter(following.get(root, ()))]
        state[root] = 1
        while stack:
            target = next(stack[-1], None)
            if target is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(target) == 1:
                loop = path[path.index(target):] + [target]
                problems.append(Problem(target, f"the nodes {' → '.join(map(repr, loop))} form a loop that "
                                                "never waits; put a wait_for_reply or delay node in it."))
            elif target not in state:
                state[target] = 1
                path.append(target)
                stack.append(iter(following.get(target, ())))
    return problems
