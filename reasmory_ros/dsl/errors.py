"""Errors of the DSL: every failure a program can meet, with a position and a fix hint.

A language model writes the programs, so an error is feedback, not a crash: `format()` renders
the stage, the position, the offending line with a caret and a hint the model can act on. No
Python traceback ever reaches the caller of `parse`, `validate` or `run`.
"""

from __future__ import annotations


class DslError(Exception):
    """Base class: a message, a 1-based position (when known) and a hint on how to fix it."""

    stage = "error"

    def __init__(
        self,
        message: str,
        line: int | None = None,
        column: int | None = None,
        hint: str | None = None,
        source_line: str | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column
        self.hint = hint
        self.source_line = source_line

    def at(self, line: int | None, column: int | None, source: str | None) -> DslError:
        """Attach a position (and the program text to quote) unless one is already set."""
        if self.line is None and line is not None:
            self.line, self.column = line, column
        if self.source_line is None and source is not None and self.line is not None:
            lines = source.splitlines()
            if 1 <= self.line <= len(lines):
                self.source_line = lines[self.line - 1]
        return self

    def format(self) -> str:
        """A compact multi-line report meant to be fed back to a language model."""
        where = f" at line {self.line}, column {self.column}" if self.line is not None else ""
        parts = [f"{self.stage}{where}: {self.message}"]
        if self.source_line is not None and self.column is not None:
            shown, caret = _excerpt(self.source_line, max(self.column - 1, 0))
            parts.append(f"  {shown}")
            parts.append("  " + " " * caret + "^")
        if self.hint:
            parts.append(f"hint: {self.hint}")
        return "\n".join(parts)

    def __str__(self) -> str:
        return self.format()


QUOTE_WIDTH = 100
"""Characters of the offending line quoted around the error: the report stays short however long
the line (a program may be one 4000-character line)."""


def _excerpt(line: str, caret: int) -> tuple[str, int]:
    """The part of `line` around `caret` (0-based) and the caret's position in it."""
    if len(line) <= QUOTE_WIDTH:
        return line, caret
    start = min(max(caret - QUOTE_WIDTH // 2, 0), len(line) - QUOTE_WIDTH)
    prefix = "..." if start > 0 else ""
    suffix = "..." if start + QUOTE_WIDTH < len(line) else ""
    return prefix + line[start:start + QUOTE_WIDTH] + suffix, caret - start + len(prefix)


class DslSyntaxError(DslError):
    """The text is not a program of the grammar (or exceeds a size limit while being read)."""

    stage = "syntax error"


class DslValidationError(DslError):
    """The program parses but cannot run: unknown name, wrong type, absent label, bad answer."""

    stage = "validation error"


class DslRuntimeError(DslError):
    """The program is valid but the memory cannot answer it (empty set, frame out of range...)."""

    stage = "runtime error"


class DslInternalError(DslRuntimeError):
    """An operation failed in an unexpected way: a bug of the DSL, reported without a traceback."""

    stage = "internal error"


class OperationError(Exception):
    """Raised inside an operation; the validator or interpreter adds the call's position.

    `param` names the argument at fault so the error can point at it rather than at the call.
    """

    def __init__(self, message: str, hint: str | None = None, param: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.param = param
