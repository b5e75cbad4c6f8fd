"""Static checks: everything that can be known wrong before the program touches the memory.

One pass over the statements in order infers the type of every expression (names carry the type
of what was assigned to them), binds call arguments to parameters, checks literal values against
the memory (labels present, frame numbers in range) and the answer rule. The first problem found
is raised as a DslValidationError pointing at the offending token, with a hint.
"""

from __future__ import annotations

import difflib
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from . import ops  # noqa: F401  (registers the operations)
from .errors import DslError, DslValidationError, OperationError
from .registry import OPERATIONS, Operation, StaticArg, StaticContext
from .syntax import (
    DEFAULT_LIMITS,
    Assign,
    Attr,
    BoolLit,
    Call,
    ExprStatement,
    Limits,
    ListExpr,
    Name,
    Node,
    NumberLit,
    Program,
    TextLit,
)
from .types import ATTRIBUTES, BOOL, NUMBER, TEXT, DslType, Number, describe_types, fits_any

_CONVERSION_HINTS = {
    ("ObjectSet", "Object"): "pick one object with the(...), nearest(...), farthest(...), "
                             "largest(...), smallest(...) or object(id)",
    ("Object", "ObjectSet"): 'pass a set such as objects("label")',
    ("Text", "ObjectSet"): 'select objects first: objects("label")',
    ("Text", "Object"): 'select the object first: the(objects("label"))',
    ("Number", "Camera"): "make a camera with camera(frame=N) or camera(time=T)",
    ("Object", "View"): "make a view with view_from(object, facing=other)",
    ("Point", "View"): "make a view with view_from(point, facing=other)",
    ("Object", "Camera"): "use first_seen(object) for the camera that first saw it",
    ("Size", "Number"): "read one side: .length, .width or .height",
    ("Path", "Number"): "read the route's .length",
    ("Direction", "Text"): "read .label, .side, .front_back or .quadrant",
    ("Direction", "Number"): "read the direction's .angle or .distance",
    ("Camera", "Number"): "read the camera's .frame or .time",
}


@dataclass(frozen=True)
class BoundCall:
    """A call with its arguments matched to parameters (param name -> argument expression)."""

    op: Operation
    args: dict[str, Node]


@dataclass(frozen=True)
class TypedProgram:
    """A program that passed validation, with what the interpreter needs to run it."""

    program: Program
    types: dict[int, DslType]
    calls: dict[int, BoundCall]
    answer: Call

    @property
    def answer_type(self) -> DslType:
        """The static type of the value given to answer(...)."""
        return self.types[id(self.calls[id(self.answer)].args["value"])]

    def type_of(self, node: Node) -> DslType:
        return self.types[id(node)]


_NOT_CONSTANT = object()


def _is_answer(statement: Node) -> bool:
    return (isinstance(statement, ExprStatement) and isinstance(statement.value, Call)
            and statement.value.op == "answer")


class _Validator:
    def __init__(self, program: Program, context: StaticContext, limits: Limits):
        self.program = program
        self.context = context
        self.limits = limits
        self.env: dict[str, DslType] = {}
        self.defined_at: dict[str, int] = {}
        self.constants: dict[str, object] = {}
        self.types: dict[int, DslType] = {}
        self.calls: dict[int, BoundCall] = {}

    def error(self, node: Node, message: str, hint: str | None = None) -> DslValidationError:
        return DslValidationError(message, node.line, node.column, hint)

    # -- statements --------------------------------------------------------------------------

    def run(self) -> TypedProgram:
        statements = self.program.statements
        if not statements:
            raise DslValidationError("the program is empty", 1, 1,
                                     "write statements ending with answer(...)")
        if len(statements) > self.limits.max_statements:
            raise self.error(statements[self.limits.max_statements],
                             f"more than {self.limits.max_statements} statements",
                             "write a shorter program")
        answer = None
        for statement in statements:
            if answer is not None and _is_answer(statement):
                raise self.error(statement, "a program has exactly one answer(...)",
                                 f"keep only one; the first is on line {answer.line}")
            if answer is not None:
                raise self.error(answer, "answer(...) must be the last statement",
                                 f"move the statement on line {statement.line} before it")
            if isinstance(statement, Assign):
                self.assign(statement)
            else:
                answer = self.answer_statement(statement)
        if answer is None:
            last = statements[-1]
            raise self.error(last, "the program does not end with answer(...)",
                             f"add a last line answer({last.target})")
        return TypedProgram(self.program, self.types, self.calls, answer)

    def assign(self, statement: Assign) -> None:
        name = statement.target
        if name in OPERATIONS:
            raise self.error(statement, f"'{name}' is an operation and cannot be assigned to",
                             f"choose another name, e.g. {name}_result")
        if len(name) > self.limits.max_name_chars:
            raise self.error(statement, f"name longer than {self.limits.max_name_chars} "
                             "characters", "use a shorter name")
        self.env[name] = self.infer(statement.value)
        self.defined_at[name] = statement.line
        self.constants[name] = self.constant(statement.value)

    def answer_statement(self, statement: ExprStatement) -> Call:
        value = statement.value
        if not _is_answer(statement):
            raise self.error(value, "this result is not used",
                             "assign it (name = ...) or return it with answer(...)")
        self.infer(value, top_level_answer=True)
        return value

    # -- expressions -------------------------------------------------------------------------

    def infer(self, node: Node, top_level_answer: bool = False) -> DslType:
        found = self._infer(node, top_level_answer)
        self.types[id(node)] = found
        return found

    def _infer(self, node: Node, top_level_answer: bool) -> DslType:
        if isinstance(node, NumberLit):
            if not math.isfinite(node.value) or abs(node.value) > self.limits.max_abs_number:
                raise self.error(node, f"number out of range (|x| <= "
                                 f"{self.limits.max_abs_number:g})")
            return NUMBER
        if isinstance(node, TextLit):
            if len(node.value) > self.limits.max_text_chars:
                raise self.error(node, f"text longer than {self.limits.max_text_chars} "
                                 "characters")
            return TEXT
        if isinstance(node, BoolLit):
            return BOOL
        if isinstance(node, Name):
            return self.name(node)
        if isinstance(node, ListExpr):
            return self.list(node)
        if isinstance(node, Attr):
            return self.attribute(node)
        assert isinstance(node, Call)
        return self.call(node, top_level_answer)

    def name(self, node: Name) -> DslType:
        if node.name in self.env:
            return self.env[node.name]
        if node.name in OPERATIONS:
            raise self.error(node, f"'{node.name}' is an operation, not a value",
                             f"call it: {node.name}(...)")
        if node.name in ("true", "false", "None", "null"):
            raise self.error(node, f"'{node.name}' is not defined", "use True or False")
        near = difflib.get_close_matches(node.name, list(self.env), n=1)
        hint = f"did you mean '{near[0]}'?" if near else (
            f"assign it first, e.g. {node.name} = the(objects(\"{node.name}\"))")
        raise self.error(node, f"name '{node.name}' is not defined", hint)

    def list(self, node: ListExpr) -> DslType:
        if len(node.items) > self.limits.max_list_items:
            raise self.error(node, f"list longer than {self.limits.max_list_items} items")
        names = set()
        for item in node.items:
            item_type = self.infer(item)
            if item_type.name == "List":
                raise self.error(item, "lists cannot contain lists")
            names.add(item_type.name)
        return DslType("List", frozenset(names))

    def attribute(self, node: Attr) -> DslType:
        target = self.infer(node.target)
        fields = ATTRIBUTES.get(target.name, {})
        if node.name in fields:
            return fields[node.name].type
        if not fields:
            raise self.error(node, f"a {target} has no fields",
                             f"use the {target} directly")
        near = difflib.get_close_matches(node.name, list(fields), n=1)
        listing = ", ".join("." + f for f in fields)
        prefix = f"did you mean '.{near[0]}'? " if near else ""
        raise self.error(node, f"a {target} has no field '.{node.name}'",
                         f"{prefix}{target} fields: {listing}")

    def call(self, node: Call, top_level_answer: bool) -> DslType:
        op = OPERATIONS.get(node.op)
        if op is None:
            near = difflib.get_close_matches(node.op, list(OPERATIONS), n=3, cutoff=0.5)
            hint = ("did you mean " + " or ".join(f"'{n}'" for n in near) + "?") if near else \
                "see the list of operations in the DSL reference"
            raise self.error(node, f"unknown operation '{node.op}'", hint)
        if op.name == "answer" and not top_level_answer:
            raise self.error(node, "answer(...) can only be a statement of its own",
                             "assign the value to a name and answer(name) on the last line")
        bound = self.bind(node, op)
        static = {}
        for name, arg in bound.items():
            param = op.param(name)
            arg_type = self.infer(arg)
            if not fits_any(arg_type, param.types):
                raise self.error(arg, f"{op.name}() argument '{name}' must be "
                                 f"{describe_types(param.types)}, got {arg_type}",
                                 self.conversion_hint(arg_type, param.types, op))
            value = self.constant(arg)
            known = value is not _NOT_CONSTANT
            static[name] = StaticArg(arg_type, value if known else None, known)
            if known and param.choices:
                self.checked(lambda p=param, v=value: p.check_choice(v), arg, node)
        if op.check is not None:
            self.checked(lambda: op.check(static, self.context), None, node, bound)
        self.calls[id(node)] = BoundCall(op, bound)
        return op.returns

    def bind(self, node: Call, op: Operation) -> dict[str, Node]:
        names = ", ".join(p.name for p in op.params) or "no arguments"
        if len(node.args) > len(op.params):
            raise self.error(node.args[len(op.params)],
                             f"{op.name}() takes at most {len(op.params)} positional "
                             f"argument(s), got {len(node.args)}",
                             f"signature: {op.signature()}")
        bound = {param.name: arg for param, arg in zip(op.params, node.args)}
        for keyword in node.keywords:
            if op.param(keyword.name) is None:
                near = difflib.get_close_matches(keyword.name, [p.name for p in op.params], n=1)
                prefix = f"did you mean '{near[0]}'? " if near else ""
                raise self.error(keyword, f"{op.name}() has no argument '{keyword.name}'",
                                 f"{prefix}arguments: {names}")
            if keyword.name in bound:
                raise self.error(keyword, f"{op.name}() got argument '{keyword.name}' twice",
                                 "give each argument once")
            bound[keyword.name] = keyword.value
        missing = [p.name for p in op.params if p.required and p.name not in bound]
        if missing:
            raise self.error(node, f"{op.name}() is missing argument(s): {', '.join(missing)}",
                             f"signature: {op.signature()}")
        return bound

    def checked(self, check, arg: Node | None, call: Call,
                bound: dict[str, Node] | None = None) -> None:
        """Run a static check; an OperationError points at its argument (else at the call)."""
        try:
            check()
        except OperationError as err:
            where = arg or (bound or {}).get(err.param) or call
            raise self.error(where, err.message, err.hint) from None

    def conversion_hint(self, actual: DslType, expected: Iterable[DslType],
                        op: Operation) -> str:
        for e in expected:
            hint = _CONVERSION_HINTS.get((actual.name, e.name))
            if hint:
                return hint
        return f"signature: {op.signature()}"

    def constant(self, node: Node) -> object:
        """The value of a literal (or of a name bound to one), else _NOT_CONSTANT."""
        if isinstance(node, NumberLit):
            return Number(node.value)
        if isinstance(node, (TextLit, BoolLit)):
            return node.value
        if isinstance(node, Name):
            return self.constants.get(node.name, _NOT_CONSTANT)
        if isinstance(node, ListExpr):
            items = tuple(self.constant(item) for item in node.items)
            return _NOT_CONSTANT if _NOT_CONSTANT in items else items
        return _NOT_CONSTANT


def _label_context(labels: Iterable[str] | Counter | None, frame_count: int | None
                   ) -> StaticContext:
    return StaticContext(None if labels is None else Counter(labels), frame_count)


def validate(program: Program, labels: Iterable[str] | Counter | None = None,
             frame_count: int | None = None, limits: Limits = DEFAULT_LIMITS) -> TypedProgram:
    """Check a parsed program; raise DslValidationError with position and hint on the first fault.

    labels: the memory's object labels (a set or a Counter); None skips the label check.
    frame_count: frames seen so far; None skips the frame-range check.
    """
    try:
        return _Validator(program, _label_context(labels, frame_count), limits).run()
    except DslError as err:
        raise err.at(None, None, program.text) from None
