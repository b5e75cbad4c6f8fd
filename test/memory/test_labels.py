"""Label words: plurals and singulars agree (compounds of irregular plurals included), and a label's
synonym group is listed readable, itself first."""

from __future__ import annotations

import pytest

from reasmory_ros.memory.labels import plural, singular, synonyms_of


@pytest.mark.parametrize("word", ["chair", "shelf", "bookshelf", "box", "toolbox", "couch", "glass", "knife",
                                  "person", "party", "cabinet", "lamp"])
def test_the_plural_of_a_word_singularises_back_to_it(word):
    assert singular(plural(word)) == word


def test_irregular_plurals_and_their_compounds():
    assert plural("shelf") == "shelves" and plural("bookshelf") == "bookshelves" and plural("person") == "people"
    assert singular("bookshelves") == "bookshelf" and singular("toolboxes") == "toolbox"


def test_synonyms_of_a_label_start_with_it():
    assert synonyms_of("Potted_Plant")[0] == "potted plant" and "houseplant" in synonyms_of("potted plant")
    assert synonyms_of("television")[:2] == ("television", "tv")
    assert synonyms_of("stapler") == ("stapler",)
