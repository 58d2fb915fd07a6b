"""The tree drawn in bot.errors' docstring is the real class hierarchy, every class and parent."""

from __future__ import annotations

import re

from bot import errors

# One level of the drawing: a branch (`├── `, `└── `) or what runs past one (`│   `, `    `).
_LEVEL = 4
_NODE = re.compile(r"(?P<indent>(?:[│ ]   )*)(?:[├└]── )?(?P<name>[A-Za-z]+)")


def drawn_parents(docstring: str) -> dict[str, str | None]:
    """Each class named in the drawing, with the class drawn above it (None for the root)."""
    lines = docstring.split("\n\n", 1)[1].split("\n\n", 1)[0].splitlines()
    parents: dict[str, str | None] = {}
    path: list[str] = []
    for line in lines:
        node = _NODE.match(line)
        assert node, f"not a line of the tree: {line!r}"
        depth = len(node["indent"]) // _LEVEL + (0 if line[0].isalpha() else 1)
        del path[depth:]
        parents[node["name"]] = path[-1] if path else None
        path.append(node["name"])
    return parents


def real_parents() -> dict[str, str | None]:
    """Each BotError class bot.errors defines, with its base class (None for BotError)."""
    kinds = [
        value
        for value in vars(errors).values()
        if isinstance(value, type) and issubclass(value, errors.BotError)
    ]
    return {
        kind.__name__: None if kind is errors.BotError else kind.__base__.__name__ for kind in kinds
    }


def test_the_drawing_is_the_hierarchy():
    assert errors.__doc__ is not None
    assert drawn_parents(errors.__doc__) == real_parents()


def test_every_subclass_is_defined_in_bot_errors():
    def walk(kind: type[errors.BotError]) -> set[type[errors.BotError]]:
        below = set(kind.__subclasses__())
        return below.union(*(walk(sub) for sub in below))

    assert {kind.__module__ for kind in walk(errors.BotError)} <= {"bot.errors"}


def test_the_drawing_parser_sees_depth():
    drawing = "Root.\n\nA\n├── B\n│   └── C\n└── D\n    └── E\n\nrest"
    assert drawn_parents(drawing) == {"A": None, "B": "A", "C": "B", "D": "A", "E": "D"}
