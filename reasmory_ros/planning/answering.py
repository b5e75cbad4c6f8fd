"""The repair loop: plan, parse, validate, run; feed errors back; fall back to rules; format.

A model's program is never trusted: every attempt goes through the DSL's parser and validator,
then the semantic check (does it answer the question asked? `semantics.py`), then the interpreter,
and its formatted error goes back to the same planner for a bounded number of retries. When the model never gets it right the deterministic rule-based planner gets the last
word, and when that cannot read the question either, the result says so instead of guessing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from reasmory_ros import dsl
from reasmory_ros.dsl.errors import DslError
from reasmory_ros.dsl.types import Path
from reasmory_ros.memory.snapshot import MemorySnapshot
from reasmory_ros.planning.base import (
    Attempt,
    NotUnderstood,
    Planner,
    PlanningContext,
    PlanningError,
    PlanRequest,
    QuestionResult,
    context_from_snapshot,
)
from reasmory_ros.planning.formatting import answer_fields, format_answer
from reasmory_ros.planning.language import requested_unit
from reasmory_ros.planning.rules import Interpretation, RuleBasedPlanner
from reasmory_ros.planning.semantics import Reading, check, context_objects, program_facts

MAX_QUESTION_CHARS = 2000
"""Longer questions are refused before any planner reads them (bounded work per question; the
longest benchmark questions, routes with numbered steps, have well under 1000 characters)."""


def execute(program: str, snapshot: MemorySnapshot) -> dsl.Answer:
    """Parse, validate against the snapshot's labels and frames, run; raises DslError on any fault."""
    return dsl.run(program, snapshot)


class SemanticError(Exception):
    """A valid program that does not answer the question; the message says what it misses."""


def answer_question(
    question: str,
    options: Sequence[str] | None,
    snapshot: MemorySnapshot,
    planner: Planner | None = None,
    max_attempts: int = 3,
    rules: RuleBasedPlanner | None = None,
    context: PlanningContext | None = None,
) -> QuestionResult:
    """Answer one question; `planner` None means the rule-based planner alone.

    `max_attempts` bounds the tries of a model planner (first try plus repairs) before the
    rule-based fallback. `context` lets a caller add rendered views; it is built from the snapshot
    otherwise.
    """
    options = list(options) if options else None
    refused = _refusal(question, options)
    if refused:
        return QuestionResult(question=question, options=options, ok=False, error=refused)
    rules = rules or RuleBasedPlanner()
    context = context or context_from_snapshot(snapshot)
    result = QuestionResult(question=question, options=options, ok=False)
    try:
        reading = rules.read(question, options, context)
    except NotUnderstood as err:  # e.g. "frame 40 of 32": no planner can use it
        result.error = f"not understood: {err}"
        return result
    interpretation, not_understood = _interpret(rules, question, options, context, reading)

    model_tries = 0 if planner is None or isinstance(planner, RuleBasedPlanner) else max_attempts
    for _ in range(model_tries):
        attempt = Attempt(planner=planner.name, program="")
        result.attempts.append(attempt)
        try:
            attempt.program = planner.plan(PlanRequest(question, options, context))
        except PlanningError as err:  # the planner itself failed: there is no program to repair
            prefix = "not understood: " if isinstance(err, NotUnderstood) else ""
            attempt.error, attempt.stage = f"{prefix}{err}", "planning"
            break
        if _run_attempt(attempt, result, snapshot, options, interpretation, question, reading, context):
            return result
        context = context.with_attempt(attempt.program, attempt.error or "")

    fallback = Attempt(planner=rules.name, program="")
    result.attempts.append(fallback)
    if interpretation is None:
        fallback.error, fallback.stage = f"not understood: {not_understood}", "planning"
    else:
        fallback.program = interpretation.program
        if _run_attempt(fallback, result, snapshot, options, interpretation, question, reading, context):
            return result
    result.error, result.program = fallback.error, fallback.program
    return result


def _refusal(question, options) -> str | None:
    """Why a question is not even planned (empty, not text, too long), or None."""
    if not isinstance(question, str):
        return f"the question must be text, got {type(question).__name__}"
    if not question.strip():
        return "the question is empty"
    size = len(question) + sum(len(o) for o in options or [] if isinstance(o, str))
    if size > MAX_QUESTION_CHARS:
        return (f"the question (with its options) has {size} characters, more than {MAX_QUESTION_CHARS}: "
                "ask a shorter question")
    if options and not all(isinstance(o, str) for o in options):
        return "options must be text"
    return None


def _interpret(rules, question, options, context, reading) -> tuple[Interpretation | None, str]:
    try:
        return rules.interpret(question, options, context, reading), ""
    except NotUnderstood as err:
        return None, str(err)


def _run_attempt(attempt, result, snapshot, options, interpretation, question, reading: Reading,
                 context: PlanningContext) -> bool:
    """Check and execute one attempt's program and format its answer; record the error and return
    False on failure.

    A program passes the semantic check before it runs (the rules' own programs passed it while
    planning). A route asked as numbered steps with blanks is compared on the turns the blanks
    stand for.
    """
    try:
        typed = dsl.check(attempt.program, snapshot)
        facts = program_facts(typed, context.labels)
        if interpretation is None or attempt.program != interpretation.program:
            problems = check(reading, facts, context)
            if problems:
                raise SemanticError("; ".join(problems))
        dsl_answer = dsl.execute(typed, snapshot)
    except DslError as err:
        attempt.error, attempt.stage = err.format(), err.stage
        return False
    except SemanticError as err:
        attempt.error = f"the program does not answer the question: {err} (understood: {reading.summary()})"
        attempt.stage = "semantic"
        return False
    by_rules = interpretation is not None and attempt.program == interpretation.program
    unit = interpretation.unit if interpretation is not None else requested_unit(question)
    value = dsl_answer.raw
    if interpretation is not None and interpretation.turn_slots is not None and isinstance(value, Path):
        value = replace(value, turns=tuple(value.turns[i] for i in interpretation.turn_slots if i < len(value.turns)))
    try:
        formatted = format_answer(value, unit, options)
    except ValueError as err:
        attempt.error, attempt.stage = f"answer error: {err}", "format"
        return False
    result.answer, result.unit = formatted.value, formatted.unit
    fields = answer_fields(value, dsl_answer.touched.object_ids, {o.id: o.label for o in snapshot.objects})
    result.position, result.stamp, result.goal, result.objects = fields.position, fields.stamp, fields.goal, fields.objects
    result.program, result.planner, result.dsl_answer = attempt.program, attempt.planner, dsl_answer
    shown = formatted.display
    result.text = interpretation.sentence.format(answer=shown) if by_rules else f"Answer: {shown}."
    if reading.aside:
        result.text += f" (Not objects in memory, read as context: {', '.join(repr(m.phrase) for m in reading.aside)}.)"
    context_only = context_objects(reading, facts)
    if context_only:
        result.text += f" (Named around the question, read as context: {', '.join(repr(m.phrase) for m in context_only)}.)"
    for word, described in reading.modifiers:
        result.text += f" ({word.phrase!r} read as describing the {described.phrase}, the only one in memory.)"
    result.ok, result.error = True, None
    return True
