"""Prompts for model planners: the DSL reference, worked examples, the memory, the question.

Both the local and the remote planner send the same messages, so a model behaves the same
wherever it runs. The worked examples are written by the rule-based planner on a small example
memory, so they always use the DSL exactly as the current planner and validator expect.
"""

from __future__ import annotations

import functools

from reasmory_ros.planning.base import NotUnderstood, PlanningContext, PlanRequest
from reasmory_ros.planning.rules import RuleBasedPlanner

SYSTEM_INSTRUCTIONS = """You answer spatial questions about a 3D memory of a scene by writing a short program
in a small DSL. Write only the program: one statement per line (`name = expression`), ending with
`answer(expression)`. Use only the operations listed below and only object labels the memory holds.
Distances are in metres, areas in square metres; the caller converts units and maps options."""

_EXAMPLE_CONTEXT = PlanningContext({"sofa": 1, "tv": 1, "chair": 3, "bed": 1, "table": 1, "lamp": 1}, 300)
_EXAMPLE_QUESTIONS = (
    ("How many chairs are in the room?", None),
    ("How far apart are the sofa and the tv, in centimetres?", None),
    ("How tall is the lamp?", None),
    ("Which is closest to the bed: the sofa, the tv or the lamp?", None),
    ("If I am standing by the sofa and facing the tv, is the lamp to my left or right?", ["left", "right"]),
    ("How far did the camera move between frame 10 and frame 40?", None),
)


@functools.cache
def few_shot_examples() -> tuple[tuple[str, str], ...]:
    """(question, program) pairs written by the rule-based planner on an example memory."""
    planner = RuleBasedPlanner(embedder=None)
    examples = []
    for question, options in _EXAMPLE_QUESTIONS:
        try:
            examples.append((question, planner.interpret(question, options, _EXAMPLE_CONTEXT).program))
        except NotUnderstood:  # an example the rules no longer read is skipped, never invented
            continue
    return tuple(examples)


def dsl_reference() -> str:
    """The DSL's own description of its operations (from the dsl package)."""
    from reasmory_ros.dsl import reference_text

    return reference_text()


def user_message(request: PlanRequest) -> str:
    """The question with its options and the memory summary."""
    parts = [request.context.summary(), "", f"Question: {request.question}"]
    if request.options:
        parts.append("Options: " + " | ".join(request.options))
        parts.append("(Compute the value; the caller picks the matching option.)")
    return "\n".join(parts)


def build_messages(request: PlanRequest) -> list[dict[str, str]]:
    """Chat messages: system (instructions + reference), examples, question, then repair turns.

    Each earlier failed attempt becomes an assistant turn with its program and a user turn with
    the validator's formatted error, so the model repairs its own program.
    """
    system = f"{SYSTEM_INSTRUCTIONS}\n\n{dsl_reference()}"
    messages = [{"role": "system", "content": system}]
    for question, program in few_shot_examples():
        example = PlanRequest(question, None, _EXAMPLE_CONTEXT)
        messages.append({"role": "user", "content": user_message(example)})
        messages.append({"role": "assistant", "content": program})
    messages.append({"role": "user", "content": user_message(request)})
    for attempt in request.context.previous_attempts:
        messages.append({"role": "assistant", "content": attempt.program})
        messages.append(
            {"role": "user", "content": f"That program failed:\n{attempt.error}\nWrite a corrected program."}
        )
    return messages


def messages_as_text(messages: list[dict[str, str]]) -> str:
    """A plain transcript for tokenizers without a chat template; ends where the program starts."""
    lines = [f"### {m['role']}\n{m['content']}\n" for m in messages]
    return "\n".join(lines) + "\n### assistant\n"
