"""Question -> validated DSL program: rule-based, local transformers and remote planners (no ROS).

`answer_question` is the entry point: it plans, parses, validates and runs, repairs with the
validator's messages, falls back to the rules and formats the answer. The model planners are
imported lazily by name so that rule-based use needs neither torch nor llguidance.
"""

from reasmory_ros.planning.answering import answer_question, execute
from reasmory_ros.planning.base import (
    Attempt,
    NotUnderstood,
    Planner,
    PlanningContext,
    PlanningError,
    PlanRequest,
    PreviousAttempt,
    QuestionResult,
    context_from_snapshot,
)
from reasmory_ros.planning.rules import Interpretation, RuleBasedPlanner

__all__ = [
    "Attempt",
    "Interpretation",
    "NotUnderstood",
    "Planner",
    "PlanningContext",
    "PlanningError",
    "PlanRequest",
    "PreviousAttempt",
    "QuestionResult",
    "RuleBasedPlanner",
    "answer_question",
    "context_from_snapshot",
    "execute",
]
