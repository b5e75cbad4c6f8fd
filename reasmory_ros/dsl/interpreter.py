"""Running a validated program over a frozen memory snapshot, and the Answer it produces.

`run` always parses and validates first, so nothing executes unless the whole program is known
to be well formed and well typed for this memory. Evaluation is a walk over the (depth-bounded)
AST: names are looked up in the program's own bindings, calls are dispatched through the
operation registry, fields are read through the `ATTRIBUTES` whitelist. Any failure becomes a
DslRuntimeError at the position of the call that failed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..memory.snapshot import MemorySnapshot
from .context import ExecContext, Touched
from .errors import DslError, DslInternalError, DslRuntimeError, OperationError
from .registry import REQUIRED
from .syntax import (
    DEFAULT_LIMITS,
    Assign,
    Attr,
    BoolLit,
    Call,
    Limits,
    ListExpr,
    Name,
    Node,
    NumberLit,
    Program,
    TextLit,
    parse,
)
from .types import ATTRIBUTES, Number, to_plain, to_text, type_of
from .validator import TypedProgram, validate


@dataclass(frozen=True)
class Answer:
    """The result of a program.

    value: plain Python (number, text, bool, list, dict; an Image's rgb array).
    kind: the DSL type ("Number", "Text", "List[Text]", "Object", ...). unit: for numbers.
    text: a short rendering. raw: the DSL value itself (Path, Direction, Image, ...).
    touched: objects, cameras, views, segments, direction arrows, paths the program used.
    notes: caveats worth telling the user (e.g. a route that fell back to straight segments).
    """

    value: object
    kind: str
    unit: str
    text: str
    touched: Touched
    program: str
    notes: tuple[str, ...] = ()
    raw: object = None

    def to_dict(self) -> dict:
        """JSON-friendly summary (arrays as lists; images as their shape)."""
        value = self.value
        if isinstance(value, np.ndarray):
            value = {"image_shape": list(value.shape)}
        touched = self.touched
        return {
            "value": value, "kind": self.kind, "unit": self.unit, "text": self.text,
            "program": self.program, "notes": list(self.notes),
            "touched": {
                "object_ids": list(touched.object_ids),
                "cameras": [{"frame": c.frame, "pose": c.pose.tolist()} for c in touched.cameras],
                "views": [{"position": v.position.tolist(), "heading": v.heading}
                          for v in touched.views],
                "segments": [[s.start.tolist(), s.end.tolist()] for s in touched.segments],
                "directions": [[d.start.tolist(), d.end.tolist()] for d in touched.directions],
                "paths": [p.tolist() for p in touched.paths],
                "points": [p.tolist() for p in touched.points],
                "positions": [p.tolist() for p in touched.positions],
                "goals": [{"position": g.position.tolist(), "heading": g.heading}
                          for g in touched.goals],
            },
        }


class _Interpreter:
    def __init__(self, typed: TypedProgram, ctx: ExecContext):
        self.typed = typed
        self.ctx = ctx
        self.env: dict[str, object] = {}

    def run(self) -> object:
        for statement in self.typed.program.statements:
            if isinstance(statement, Assign):
                self.env[statement.target] = self.evaluate(statement.value)
        return self.evaluate(self.typed.answer)

    def evaluate(self, node: Node) -> object:
        if isinstance(node, NumberLit):
            return Number(node.value)
        if isinstance(node, (TextLit, BoolLit)):
            return node.value
        if isinstance(node, Name):
            return self.env[node.name]
        if isinstance(node, ListExpr):
            return tuple(self.evaluate(item) for item in node.items)
        if isinstance(node, Attr):
            target = self.evaluate(node.target)
            try:
                return ATTRIBUTES[type_of(target).name][node.name].get(target)
            except OperationError as err:  # an attribute with no value here (a place with no goal)
                raise DslRuntimeError(f".{node.name}: {err.message}", node.line, node.column, err.hint) from None
        assert isinstance(node, Call)
        return self.call(node)

    def call(self, node: Call) -> object:
        bound = self.typed.calls[id(node)]
        op = bound.op
        values = []
        for param in op.params:
            if param.name in bound.args:
                value = self.evaluate(bound.args[param.name])
            else:
                value = None if param.default is REQUIRED else param.default
            values.append(value)
        try:
            for param, value in zip(op.params, values):
                if value is not None:
                    param.check_choice(value)
            return op.impl(self.ctx, *values)
        except OperationError as err:
            where = bound.args.get(err.param, node) if err.param else node
            raise DslRuntimeError(f"{op.name}(): {err.message}", where.line, where.column,
                                  err.hint) from None
        except DslError:
            raise
        except Exception as err:  # an operation bug must still reach the model as an error
            raise DslInternalError(f"{op.name}() failed unexpectedly: {type(err).__name__}: {err}",
                                   node.line, node.column,
                                   "this is a fault of the DSL, not of the program; try another "
                                   "formulation") from err


def execute(typed: TypedProgram, snapshot: MemorySnapshot) -> Answer:
    """Run an already validated program (validated against this snapshot) and build the Answer."""
    ctx = ExecContext(snapshot)
    try:
        value = _Interpreter(typed, ctx).run()
    except DslError as err:
        raise err.at(None, None, typed.program.text) from None
    ctx.trace.value(value)
    return Answer(
        value=to_plain(value),
        kind=str(type_of(value)),
        unit=value.unit if isinstance(value, Number) else "",
        text=to_text(value),
        touched=ctx.trace.freeze(),
        program=typed.program.text,
        notes=tuple(ctx.notes),
        raw=value,
    )


def check(program: str | Program, snapshot: MemorySnapshot,
          limits: Limits = DEFAULT_LIMITS) -> TypedProgram:
    """Parse (if text) and validate against this snapshot's labels and frame count."""
    if not isinstance(program, Program):
        program = parse(program, limits)
    return validate(program, snapshot.label_counts(), snapshot.stream_frames, limits)


def run(program: str | Program, snapshot: MemorySnapshot,
        limits: Limits = DEFAULT_LIMITS) -> Answer:
    """Parse, validate against the snapshot, then execute; every failure is a DslError."""
    try:
        return execute(check(program, snapshot, limits), snapshot)
    except DslError:
        raise
    except Exception as err:  # a fault of the parser or validator, still reported as a DslError
        raise DslInternalError(f"unexpected {type(err).__name__}: {err}", None, None,
                               "this is a fault of the DSL, not of the program") from err
