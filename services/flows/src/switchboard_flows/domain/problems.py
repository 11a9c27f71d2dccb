"""What is wrong with a flow definition: `Problem`s (the node they are about, or None for the flow
as a whole, and a sentence saying what to change) and `DefinitionInvalid`, which carries them all."""

from __future__ import annotations

from typing import NamedTuple


class Problem(NamedTuple):
    node: str | None
    message: str

    def as_json(self) -> dict[str, str | None]:
        return {"node": self.node, "message": self.message}


class DefinitionInvalid(ValueError):
    """A definition with problems, every one of them (`problems`, in the order found)."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        lines = [f"{p.node}: {p.message}" if p.node is not None else p.message for p in self.problems]
        count = len(lines)
        super().__init__(f"the flow definition has {count} problem{'s' if count != 1 else ''}: "
                         + "; ".join(lines))


def a(word: str) -> str:
    """`a message node`, `an http node`."""
    return ("an " if word[0] in "aeiou" else "a ") + word.replace("_", " ") + " node"
