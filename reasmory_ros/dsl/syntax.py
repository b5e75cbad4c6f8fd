"""Grammar and parser: program text -> a small immutable AST with 1-based line/column positions.

The grammar is deliberately tiny (assignments, calls, names, literals, lists, `.field`): no
operators, loops, definitions or imports exist, so there is nothing to sandbox. Parsing is LALR
(linear time, no backtracking) and the AST is built without recursion, so hostile text cannot
exhaust the Python stack; the nesting depth is checked before anything recurses over the tree.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from lark import Lark, Token, Transformer_NonRecursive, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedToken, VisitError
from lark.lark import PostLex

from .errors import DslSyntaxError

GRAMMAR = r"""
start: _NL? (statement (_NL statement)* _NL?)?

?statement: NAME "=" expr            -> assign
          | expr                     -> expr_stmt

?expr: NAME "(" [arg ("," arg)* [","]] ")"   -> call
     | expr "." NAME                 -> attribute
     | "[" [expr ("," expr)* [","]] "]"      -> list
     | NAME                          -> name
     | NUMBER                        -> number
     | STRING                        -> string
     | "True"                        -> true
     | "False"                       -> false

?arg: expr
    | NAME "=" expr                  -> keyword

NAME: /[A-Za-z_][A-Za-z0-9_]*/
NUMBER: /[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?/
STRING: /"([^"\\\r\n]|\\.)*"/ | /'([^'\\\r\n]|\\.)*'/
COMMENT: /#[^\r\n]*/
_NL: (/[\r\n;][\t \f]*/ | COMMENT)+

%ignore /[\t \f]+/
%ignore COMMENT
"""
"""The lark grammar (LALR). Line breaks inside brackets are joined by the parser's post-lexer;
a constrained decoder using this grammar alone produces the single-line subset, which is valid."""


@dataclass(frozen=True)
class Limits:
    """Bounds on program size so that validation and execution do bounded work."""

    max_chars: int = 4000
    max_statements: int = 40
    max_depth: int = 12
    max_list_items: int = 32
    max_text_chars: int = 200
    max_abs_number: float = 1e6
    max_name_chars: int = 64


DEFAULT_LIMITS = Limits()


# ---------------------------------------------------------------------------------------------
# AST


@dataclass(frozen=True, eq=False)
class Node:
    line: int
    column: int


@dataclass(frozen=True, eq=False)
class NumberLit(Node):
    value: float


@dataclass(frozen=True, eq=False)
class TextLit(Node):
    value: str


@dataclass(frozen=True, eq=False)
class BoolLit(Node):
    value: bool


@dataclass(frozen=True, eq=False)
class Name(Node):
    name: str


@dataclass(frozen=True, eq=False)
class ListExpr(Node):
    items: tuple[Node, ...]


@dataclass(frozen=True, eq=False)
class Attr(Node):
    """`target.name`; the position is that of the field name."""

    target: Node
    name: str


@dataclass(frozen=True, eq=False)
class Keyword(Node):
    name: str
    value: Node


@dataclass(frozen=True, eq=False)
class Call(Node):
    op: str
    args: tuple[Node, ...]
    keywords: tuple[Keyword, ...]


@dataclass(frozen=True, eq=False)
class Assign(Node):
    target: str
    value: Node


@dataclass(frozen=True, eq=False)
class ExprStatement(Node):
    value: Node


@dataclass(frozen=True, eq=False)
class Program:
    statements: tuple[Node, ...]
    text: str


def child_nodes(node: Node) -> tuple[Node, ...]:
    """The direct sub-expressions of a node, for generic walks."""
    if isinstance(node, ListExpr):
        return node.items
    if isinstance(node, Attr):
        return (node.target,)
    if isinstance(node, Call):
        return node.args + tuple(k.value for k in node.keywords)
    if isinstance(node, (Assign, ExprStatement, Keyword)):
        return (node.value,)
    return ()


# ---------------------------------------------------------------------------------------------
# Parser


class _JoinBracketedLines(PostLex):
    """Drop line breaks inside () and [] so long calls may span lines, as in Python."""

    always_accept = ("_NL",)

    def process(self, stream: Iterator[Token]) -> Iterator[Token]:
        depth = 0
        for token in stream:
            if token.type in ("LPAR", "LSQB"):
                depth += 1
            elif token.type in ("RPAR", "RSQB"):
                depth = max(depth - 1, 0)
            elif token.type == "_NL" and depth:
                continue
            yield token


_PARSER = Lark(GRAMMAR, parser="lalr", propagate_positions=True, postlex=_JoinBracketedLines(),
               maybe_placeholders=True)

_ESCAPES = {"n": "\n", "t": "\t", "\\": "\\", '"': '"', "'": "'"}


def _unescape(quoted: str) -> str:
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), quoted[1:-1])


@v_args(meta=True)
class _BuildAst(Transformer_NonRecursive):
    """Lark tree -> AST, bottom-up without recursion, enforcing the nesting-depth limit."""

    def __init__(self, limits: Limits):
        super().__init__()
        self.limits = limits
        self.depth: dict[int, int] = {}

    def _node(self, node: Node, *children: Node) -> Node:
        depth = 1 + max((self.depth.get(id(c), 0) for c in children), default=0)
        if depth > self.limits.max_depth:
            raise DslSyntaxError(
                f"expression nested more than {self.limits.max_depth} levels deep",
                node.line, node.column,
                "assign inner results to names on earlier lines instead of nesting calls")
        self.depth[id(node)] = depth
        return node

    def start(self, meta, children):
        return [c for c in children if c is not None]

    def assign(self, meta, children):
        target, value = children
        return Assign(target.line, target.column, str(target), value)

    def expr_stmt(self, meta, children):
        (value,) = children
        return ExprStatement(value.line, value.column, value)

    def call(self, meta, children):
        op, *args = [c for c in children if c is not None]
        keywords = tuple(a for a in args if isinstance(a, Keyword))
        positional = tuple(a for a in args if not isinstance(a, Keyword))
        return self._node(Call(op.line, op.column, str(op), positional, keywords), *args)

    def keyword(self, meta, children):
        name, value = children
        return self._node(Keyword(name.line, name.column, str(name), value), value)

    def attribute(self, meta, children):
        target, name = children
        return self._node(Attr(name.line, name.column, target, str(name)), target)

    def list(self, meta, children):
        items = tuple(c for c in children if c is not None)
        return self._node(ListExpr(meta.line, meta.column, items), *items)

    def name(self, meta, children):
        (token,) = children
        return Name(token.line, token.column, str(token))

    def number(self, meta, children):
        (token,) = children
        return NumberLit(token.line, token.column, float(token))

    def string(self, meta, children):
        (token,) = children
        return TextLit(token.line, token.column, _unescape(str(token)))

    def true(self, meta, children):
        return BoolLit(meta.line, meta.column, True)

    def false(self, meta, children):
        return BoolLit(meta.line, meta.column, False)


_READABLE = {
    "NAME": "a name", "NUMBER": "a number", "STRING": 'a "text"', "_NL": "a new line",
    "LPAR": "'('", "RPAR": "')'", "LSQB": "'['", "RSQB": "']'", "COMMA": "','", "DOT": "'.'",
    "EQUAL": "'='", "TRUE": "True", "FALSE": "False", "$END": "the end of the program",
}

_PYTHON_KEYWORDS = {"for", "while", "if", "elif", "else", "def", "lambda", "import", "from",
                    "return", "class", "with", "try", "except", "print", "not", "and", "or", "in"}

_GENERAL_HINT = ('a program is lines of `name = operation(args, key=value)` ending with one '
                 '`answer(expr)`; values are names, numbers, "text", [lists], True/False and '
                 '`.field` of a result')


def _syntax_error(err: Exception, text: str) -> DslSyntaxError:
    """Turn lark's exception into a DslSyntaxError with a hint aimed at the usual mistakes."""
    if isinstance(err, UnexpectedCharacters):
        char = text[err.pos_in_stream] if err.pos_in_stream < len(text) else ""
        if char in "+-*/%<>!&|^~":
            hint = ("the DSL has no operators; use operations such as distance(...), "
                    "to_unit(...), count(...) and compare results in the answer's consumer")
        elif char in "\"'":
            hint = "close the text with the same quote on the same line"
        elif char in ":{}@":
            hint = "the DSL has no blocks, loops, dicts or decorators. " + _GENERAL_HINT
        else:
            hint = _GENERAL_HINT
        return DslSyntaxError(f"unexpected character {char!r}", err.line, err.column, hint)
    if isinstance(err, UnexpectedEOF):
        return DslSyntaxError("unexpected end of the program", None, None,
                              "close every '(' and '[' and finish the last statement")
    assert isinstance(err, UnexpectedToken)
    token = err.token
    expected = sorted({_READABLE.get(e, e) for e in err.expected})
    if token.type == "$END":
        line = text.count("\n") + 1
        return DslSyntaxError("unexpected end of the program", line,
                              len(text) - text.rfind("\n"),
                              "expected " + ", ".join(expected))
    line_text = text.splitlines()[token.line - 1] if text.splitlines() else ""
    first_word = line_text.strip().split(" ")[0].split("(")[0]
    if first_word in _PYTHON_KEYWORDS:
        hint = f"'{first_word}' is Python, not the DSL. " + _GENERAL_HINT
    else:
        hint = "expected " + ", ".join(expected)
    shown = "a line break" if token.type == "_NL" else repr(str(token))
    return DslSyntaxError(f"unexpected {shown}", token.line, token.column, hint)


def parse(text: str, limits: Limits = DEFAULT_LIMITS) -> Program:
    """Parse program text; raise DslSyntaxError (with position and hint) when it is not one."""
    if not isinstance(text, str):
        raise DslSyntaxError(f"a program is text, got {type(text).__name__}")
    if len(text) > limits.max_chars:
        raise DslSyntaxError(f"program has {len(text)} characters, more than {limits.max_chars}",
                             None, None, "write a shorter program: fewer, simpler statements")
    try:
        tree = _PARSER.parse(text)
        statements = _BuildAst(limits).transform(tree)
    except (UnexpectedCharacters, UnexpectedToken, UnexpectedEOF) as err:
        raise _syntax_error(err, text).at(None, None, text) from None
    except VisitError as err:
        if isinstance(err.orig_exc, DslSyntaxError):
            raise err.orig_exc.at(None, None, text) from None
        raise
    return Program(tuple(statements), text)
