"""The one table of operations: signatures, docs and implementations.

The validator checks calls against it, the interpreter dispatches through it, and the reference
text for language-model prompts and the operation table of docs/dsl.md are generated from it, so
the language cannot drift between what is documented, what is checked and what runs.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from .errors import OperationError
from .types import ANY, ATTRIBUTES, DslType, Number, describe_types, format_number, to_text


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED = _Required()
"""Default of a parameter that must be given."""


@dataclass(frozen=True)
class Param:
    """One parameter: accepted types, default (REQUIRED, None = optional and absent, or a value)."""

    name: str
    types: tuple[DslType, ...]
    doc: str
    default: object = REQUIRED
    choices: tuple[str, ...] = ()

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    def check_choice(self, value: object) -> None:
        """Refuse a text outside `choices` (used on constants before running, on values while running)."""
        if self.choices and value not in self.choices:
            raise OperationError(
                f"{self.name}={value!r} is not allowed",
                "use one of " + ", ".join(repr(c) for c in self.choices), self.name)

    def render(self) -> str:
        text = f"{self.name}: {describe_types(self.types)}"
        if self.choices:
            text = f"{self.name}: " + " | ".join(f'"{c}"' for c in self.choices)
        if self.default is None:
            return text.replace(":", "?:", 1)
        if self.default is not REQUIRED:
            text += " = " + _literal(self.default)
        return text


def _literal(value: object) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, Number):
        return format_number(value.value) + (f" {value.unit}" if value.unit else "")
    return to_text(value)


@dataclass(frozen=True)
class StaticArg:
    """What the validator knows about an argument: its type and, for literals, its value."""

    type: DslType
    constant: object = None
    known: bool = False


@dataclass(frozen=True)
class StaticContext:
    """What a static check may consult: the memory's labels and frame count (None = unknown)."""

    labels: Counter | None = None
    frame_count: int | None = None


StaticCheck = Callable[[dict[str, StaticArg], StaticContext], None]


@dataclass(frozen=True)
class Operation:
    """An operation of the DSL. `impl(ctx, **args)` gets absent optional parameters as None."""

    name: str
    params: tuple[Param, ...]
    returns: DslType
    doc: str
    category: str
    impl: Callable[..., object] = field(repr=False)
    unit: str = ""
    check: StaticCheck | None = field(default=None, repr=False)

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)

    def signature(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        params = ", ".join(p.render() for p in self.params)
        return f"{self.name}({params}) -> {self.returns}{unit}"


OPERATIONS: dict[str, Operation] = {}
"""name -> Operation, filled by the modules of `reasmory_ros.dsl.ops` when they are imported."""

CATEGORIES = ("objects", "measures", "relations", "places", "cameras", "views", "room and routes", "changes",
              "program")


def operation(name: str, *, params: list[Param], returns: DslType, doc: str, category: str,
              unit: str = "", check: StaticCheck | None = None):
    """Decorator registering an implementation under `name` with its signature and doc."""
    assert category in CATEGORIES, category

    def register(impl: Callable[..., object]) -> Callable[..., object]:
        assert name not in OPERATIONS, f"operation {name} registered twice"
        OPERATIONS[name] = Operation(name, tuple(params), returns, doc, category, impl, unit, check)
        return impl

    return register


@operation("answer", params=[Param("value", (ANY,), "the result to return")], returns=ANY,
           category="program",
           doc="Return a value as the program's answer; exactly once, as the last statement.")
def _answer(ctx, value):
    return value


def _first_sentence(doc: str) -> str:
    return re.split(r"(?<=[a-z)\]])\.\s+(?=[A-Z])", doc, maxsplit=1)[0].rstrip(".")


def reference_text(full_docs: bool = False) -> str:
    """A reference of the language for a language-model prompt, built from the registry:
    one line per operation (its first doc sentence, or the whole doc with full_docs)."""
    lines = [
        "Write a program: lines of `name = operation(args)`, ending with exactly one `answer(expr)`.",
        'Values: numbers, "text", [lists], True/False, names, and `.field` of results. '
        "No operators, loops, conditionals or functions.",
        "Conventions: metres, world z up; frames count from 1; a View faces horizontally;"
        ' angles in degrees, 0 = ahead, positive = to the LEFT; "left" is as seen from the view.',
        "",
        "Operations:",
    ]
    for category in CATEGORIES:
        for op in (o for o in OPERATIONS.values() if o.category == category):
            doc = op.doc if full_docs else _first_sentence(op.doc)
            lines.append(f"  {op.signature()}  # {doc}")
    lines.append("")
    lines.append("Fields:")
    for type_name, fields in ATTRIBUTES.items():
        listed = ", ".join(f".{name} ({attr.type})" for name, attr in fields.items())
        lines.append(f"  {type_name}: {listed}")
    lines += [
        "",
        "Example:",
        '  sofa = the(objects("sofa"))',
        '  tv = the(objects("tv"))',
        '  answer(distance(sofa, tv, mode="closest"))',
    ]
    return "\n".join(lines)


def _cell(text: str) -> str:
    """Escape a markdown table cell (type unions contain '|')."""
    return text.replace("|", "\\|")


def operations_markdown() -> str:
    """The operation and field tables of docs/dsl.md (a test keeps the file in sync)."""
    out = []
    for category in CATEGORIES:
        out.append(f"### {category.capitalize()}\n")
        out.append("| operation | meaning |")
        out.append("| --- | --- |")
        for op in (o for o in OPERATIONS.values() if o.category == category):
            out.append(f"| `{_cell(op.signature())}` | {_cell(op.doc)} |")
        out.append("")
    out.append("### Fields of results\n")
    out.append("| type | field | type of field | meaning |")
    out.append("| --- | --- | --- | --- |")
    for type_name, fields in ATTRIBUTES.items():
        for name, attr in fields.items():
            out.append(f"| {type_name} | `.{name}` | {_cell(str(attr.type))} | {_cell(attr.doc)} |")
    return "\n".join(out) + "\n"
