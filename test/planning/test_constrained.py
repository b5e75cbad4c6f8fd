"""The grammar completer finishes any cut-off prefix of a program into text the DSL parses."""

from __future__ import annotations

import pytest

from reasmory_ros import dsl
from reasmory_ros.planning.constrained import GrammarCompleter

PROGRAM = (
    'sofa = the(objects("sofa"))\nview = view_from(sofa, facing=the(objects(["tv", "lamp"])))\n'
    "answer(direction(view, 3.5e1).label)"
)


@pytest.fixture(scope="module")
def completer():
    return GrammarCompleter(dsl.GRAMMAR)


def test_every_prefix_of_a_program_completes_to_a_parseable_one(completer):
    for cut in range(1, len(PROGRAM) + 1):
        prefix = PROGRAM[:cut]
        suffix = completer.complete(prefix)
        assert suffix is not None, prefix
        dsl.parse(prefix + suffix)


def test_completion_is_short(completer):
    assert completer.complete('x = the(objects("so') == '"))'
    assert completer.complete("answer(x)") == ""
