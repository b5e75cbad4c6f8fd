"""The spatial DSL: grammar, parser, validator and interpreter (no ROS).

A language model answers a spatial question by writing a short program::

    sofa = the(objects("sofa"))
    tv = the(objects("tv"))
    answer(distance(sofa, tv, mode="closest"))

`parse` turns text into a Program, `validate` checks it against the memory's labels before
anything runs, `run` does both and executes it over a MemorySnapshot. Every failure is a
`DslError` with line, column and a hint (`format()` renders it for the model).
"""

from .context import CameraMark, Segment, Touched, ViewMark
from .errors import DslError, DslInternalError, DslRuntimeError, DslSyntaxError, DslValidationError
from .interpreter import Answer, check, execute, run
from .registry import OPERATIONS, Operation, Param, operations_markdown, reference_text
from .syntax import DEFAULT_LIMITS, GRAMMAR, Limits, Program, parse
from .validator import TypedProgram, validate

__all__ = [
    "Answer", "CameraMark", "DEFAULT_LIMITS", "DslError", "DslInternalError", "DslRuntimeError",
    "DslSyntaxError", "DslValidationError", "GRAMMAR", "Limits", "OPERATIONS", "Operation",
    "Param", "Program", "Segment", "Touched", "TypedProgram", "ViewMark", "check", "execute",
    "operations_markdown", "parse", "reference_text", "run", "validate",
]
