"""Docs, prompt reference and grammar are generated from, and agree with, the one registry."""

from __future__ import annotations

import re
from pathlib import Path

from lark import Lark

from reasmory_ros.dsl import GRAMMAR, OPERATIONS, parse, reference_text
from reasmory_ros.dsl.docgen import with_generated_tables
from reasmory_ros.dsl.types import ATTRIBUTES

DOC = Path(__file__).resolve().parents[2] / "docs" / "dsl.md"


def test_docs_tables_match_the_registry():
    text = DOC.read_text()
    assert with_generated_tables(text) == text, \
        "run: python -m reasmory_ros.dsl.docgen docs/dsl.md"
    for name in OPERATIONS:
        assert f"`{name}(" in text


def test_reference_text_lists_every_operation_and_field():
    reference = reference_text()
    for op in OPERATIONS.values():
        assert op.signature() in reference
    for fields in ATTRIBUTES.values():
        for name in fields:
            assert f".{name} " in reference
    assert len(reference_text(full_docs=True)) > len(reference)


def test_grammar_alone_accepts_one_statement_per_line_programs():
    """GRAMMAR is self-contained for constrained decoding (no post-lexer needed)."""
    plain = Lark(GRAMMAR, parser="lalr")
    doc = DOC.read_text()
    for block in re.findall(r"```dsl\n(.*?)```", doc, re.S):
        plain.parse(block)
        parse(block)


def test_documented_grammar_is_the_grammar():
    documented = DOC.read_text().split("start: ", 1)[1].split("```", 1)[0]
    for line in ("start: " + documented).strip().splitlines():
        assert line in GRAMMAR, line
