"""Phrasings that once produced a wrong program, found by replaying simulated rooms."""

from __future__ import annotations

import pytest

from reasmory_ros.planning import PlanningContext, RuleBasedPlanner, answer_question
from reasmory_ros.planning.base import NotUnderstood


@pytest.fixture(scope="module")
def planner():
    return RuleBasedPlanner(embedder=None)


@pytest.fixture
def context():
    return PlanningContext(label_counts={"chair": 3, "trash can": 1, "refrigerator": 1, "plant": 2},
                           frame_count=100)


@pytest.mark.parametrize("question", [
    "How many chairs can you see in the room?",
    "How many chairs can I find here?",
])
def test_the_verb_can_is_not_the_trash_can(planner, context, question):
    assert planner.interpret(question, None, context).program == 'answer(count(objects("chair")))'


def test_a_trash_can_is_still_found(planner, context):
    program = planner.interpret("How many trash cans can you see?", None, context).program
    assert program == 'answer(count(objects("trash can")))'


@pytest.mark.parametrize("question", [
    "How long is the longest side of the refrigerator, in cm?",
    "What is the largest dimension of the refrigerator?",
    "How big is the biggest side of the refrigerator?",
])
def test_longest_side_means_the_longest_of_all_three_dimensions(planner, context, question):
    assert "longest_dimension(" in planner.interpret(question, None, context).program


def test_length_alone_is_still_the_horizontal_length(planner, context):
    assert "size(x).length" in planner.interpret("How long is the refrigerator?", None, context).program


# Found by the second batch of tuning phrasings (issue 14, continued).

@pytest.mark.parametrize("question,op", [
    ("Out of chair, refrigerator, plant, which one is the most distant from the trash can?", "farthest"),
    ("Which of chair, refrigerator or plant has the greatest distance to the trash can?", "farthest"),
    ("Which one is least close to the trash can: chair, refrigerator or plant?", "farthest"),
    ("Which of chair, refrigerator or plant is nearest the trash can? (Measure between the closest points.)",
     "nearest"),
])
def test_far_end_wording_picks_the_farthest(planner, context, question, op):
    program = planner.interpret(question, None, context).program
    assert f"answer({op}(" in program


def test_semantic_check_refuses_the_wrong_end(context):
    from reasmory_ros.planning.language import LabelResolver
    from reasmory_ros.planning.semantics import Reading, check_program
    question = "Which of the refrigerator or the plant is the most distant from the trash can?"
    reading = Reading(question, None, LabelResolver(context.labels, None), context.frame_count)
    wrong = ('ref = the(objects("trash can"))\n'
             'answer(nearest(objects(["refrigerator", "plant"]), to=ref))')
    assert any("asks for the farthest" in p for p in check_program(wrong, reading, context))
    assert not check_program(wrong.replace("nearest(", "farthest("), reading, context)


@pytest.mark.parametrize("question", [
    "Give the missing turns for going from the chair to the refrigerator: 1. Go forward until the refrigerator.",
    "In centimetres, what is the greatest length of the refrigerator?",
])
def test_a_word_before_what_is_asked_is_not_an_unknown_object(planner, context, question):
    from reasmory_ros.planning.language import LabelResolver
    from reasmory_ros.planning.semantics import Reading
    reading = Reading(question, None, LabelResolver(context.labels, None), context.frame_count)
    assert not reading.unresolved


@pytest.mark.parametrize("question,axis,a,b", [
    ("In frame 5 of 32, relative to the camera, is chair [Near/Far] compared to refrigerator?", "depth",
     "chair", "refrigerator"),
    ("In frame 5 of 32, relative to refrigerator, is trash can to the [Left/Right]?", "horizontal",
     "trash can", "refrigerator"),
    ("At frame 12, is the trash can above or below the refrigerator in the image?", "vertical",
     "trash can", "refrigerator"),
])
def test_object_to_object_position_binds_a_b_and_the_axis(planner, question, axis, a, b):
    context = PlanningContext(label_counts={"chair": 1, "trash can": 1, "refrigerator": 1}, frame_count=100)
    program = planner.interpret(question, None, context).program
    assert f'axis="{axis}"' in program and "relative_position(a, b, cam" in program
    assert f'a = the(objects("{a}"))' in program and f'b = the(objects("{b}"))' in program


# Found by the third batch of tuning phrasings (issue 14: counting, closest-to, camera displacement).

def _reading(question, context, options=None):
    from reasmory_ros.planning.language import LabelResolver
    from reasmory_ros.planning.semantics import Reading
    return Reading(question, options, LabelResolver(context.labels, None), context.frame_count)


def _problems(program, question, context, options=None):
    from reasmory_ros.planning.semantics import check_program
    return check_program(program, _reading(question, context, options), context)


@pytest.mark.parametrize("question", [
    "How many objects are chairs?",
    "How many things in the room are chairs?",
    "How many items of the chair category are there?",
    "how many distinct chairs are in the kitchen",
    "How many objects of type chair are in the living room?",
    "How many chairs are there in this 2-bedroom flat?",
    "How many chairs are in the picture?",
    "How mani chairs are there?",
    "How many chairs are there around the room?",
    "How many chairs are there? The room is 5 by 4 meters.",
    # categories, notes and scopes (second batch)
    "How many objects are in the chair category?",
    "Count the items in the chair category.",
    "How many chair-type objects are there?",
    "How many objects with the label chair does the memory hold?",
    "How many pieces of furniture are chairs?",
    "How many chairs are there in the roooom?",
    "How many chairs are there? Ignore the plant.",
    "How many chairs are in the room? The video has 100 frames in total.",
    "Across frames 1 to 100, how many chairs are there?",
    "How many chairs appear in the video, from the first frame to the last?",
    "How many chairs did the camera see over the 30 s walk?",
    "How many chairs are in the captured indoor scene?",
    "How many chairs do you detect in this 3D scan of the RGB-D video?",
    "Are there 2 or more chairs? Give the exact number.",
    "How many chairs are there? Count the ones partly hidden too.",
    "How many chairs are there, not counting any piano?",
    "How many chairs are in the room? Please answer the question using a single word or phrase.",
])
def test_counted_objects_named_in_new_ways_are_counted(planner, context, question):
    assert planner.interpret(question, None, context).program == 'answer(count(objects("chair")))'


def test_things_related_to_an_object_are_still_not_counted_as_it(context):
    for question in ("How many things are on the refrigerator?", "How many objects are there next to the plant?"):
        label = "refrigerator" if "refrigerator" in question else "plant"
        assert any("counts things related" in p for p in _problems(f'answer(count(objects("{label}")))', question, context))


def test_a_left_out_object_is_not_counted(planner, context):
    question = "How many chairs are there in the room, excluding the refrigerator and the plant?"
    assert planner.interpret(question, None, context).program == 'answer(count(objects("chair")))'
    problems = _problems('answer(count(objects(["chair", "refrigerator"])))', question, context)
    assert any("leaves out 'refrigerator'" in p for p in problems)


@pytest.mark.parametrize("question", [
    "The trash can is closest to which of these: chair, refrigerator or plant?",
    "Which is the trash can nearest to, chair, refrigerator or plant?",
    "Nearest neighbour of the trash can: chair, refrigerator or plant?",
    "Standing by the trash can, which of these is nearest?",
])
def test_with_options_the_one_object_not_offered_is_the_reference(planner, context, question):
    program = planner.interpret(question, ["chair", "refrigerator", "plant"], context).program
    assert 'reference = the(objects("trash can"))' in program
    assert 'answer(nearest(objects(["chair", "refrigerator", "plant"]), to=reference' in program


@pytest.mark.parametrize("question,frames", [
    ("How far did the camera move from the 20th frame to the 45th?", (20, 45)),
    ("How far did the camera move during frames 20-45?", (20, 45)),
    ("Over frames 20–45, how far did the camera go?", (20, 45)),
    ("How far did the camera travel from frame 20 to frame 45 as the crow flies?", (20, 45)),
])
def test_both_ends_of_a_camera_displacement_are_read(planner, context, question, frames):
    program = planner.interpret(question, None, context).program
    assert program == f"answer(displacement(camera(frame={frames[0]}), camera(frame={frames[1]})))"


def test_the_current_camera_needs_a_question_that_says_now(context):
    program = 'answer(displacement(camera(frame=20), camera("current")))'
    assert any("current camera" in p for p in _problems(program, "How far did the camera move after frame 20?", context))
    assert not _problems(program, "How far has the camera moved since frame 20?", context)


def test_moving_between_two_frames_is_the_straight_line_not_the_path(context):
    program = "answer(travelled(camera(frame=20), camera(frame=45)))"
    assert any("path walked" in p for p in _problems(program, "How far did I move between frame 20 and frame 45?", context))
    assert not _problems(program, "How far did I walk between frame 20 and frame 45?", context)


def test_a_direction_is_answered_only_when_asked(context):
    program = "answer(movement_direction(camera(frame=20), camera(frame=45)))"
    problems = _problems(program, "What was the net movement of the camera between frames 20 and 45?", context)
    assert any("does not ask for a direction" in p for p in problems)
    assert not _problems(program, "Which way did the camera move between frames 20 and 45?", context)


def test_a_count_adds_up_listed_categories_only(planner, context):
    for question in ("How many chairs as well as plants are there?", "How many chairs (including plants) are there?"):
        assert planner.interpret(question, None, context).program == 'answer(count(objects(["chair", "plant"])))'
    problems = _problems('answer(count(objects(["chair", "refrigerator"])))', "How many chairs are around the refrigerator?",
                         context)
    assert any("relates 'chairs' to 'refrigerator'" in p for p in problems)


def test_part_of_the_recording_is_not_all_of_it(context):
    problems = _problems('answer(count(objects("chair")))', "Across frames 1 to 50, how many chairs are there?", context)
    assert any("names frame 50" in p for p in problems)


def test_a_count_compared_with_a_number_is_not_an_existence(context):
    problems = _problems('answer(exists("chair"))', "Are there more than 3 chairs?", context)
    assert any("compares a number of objects" in p for p in problems)
    assert not _problems('answer(exists("chair"))', "Is there a chair?", context)


# A count with a condition the program cannot express must not count every object of the category.

@pytest.mark.parametrize("question, condition", [
    ("How many chairs are taller than 1 meter?", "a comparison ('taller than')"),
    ("How many chairs are red?", "a colour ('red')"),
    ("How many chairs have 4 legs?", "a possession ('have 4 legs')"),
    ("How many chairs appear in 2 or more frames?", "a number of frames"),
    ("How many chairs were seen in more than one frame?", "a number of frames"),
    ("How many frames show a chair?", "not a count of objects ('how many frames')"),
    ("How many times does the camera see the refrigerator?", "not a count of objects ('how many times')"),
    ("What is the number of the frame where the chair appears first?", ""),  # refused, whichever intent tried
])
def test_a_count_with_a_condition_is_refused_naming_it(planner, context, question, condition):
    with pytest.raises(NotUnderstood) as refused:
        planner.interpret(question, None, context)
    assert condition in str(refused.value)


@pytest.mark.parametrize("question, program", [
    ("How many chairs were recorded? (Count each one once, even if it appears in 2 or more frames.)",
     'answer(count(objects("chair")))'),
    ("How many plants are in this video?", 'answer(count(objects("plant")))'),
    ("How many chairs are there in the room?", 'answer(count(objects("chair")))'),
])
def test_a_plain_count_and_its_notes_are_still_answered(planner, context, question, program):
    assert planner.interpret(question, None, context).program == program


# A misspelt object name is read as the one memory label it is closest to; never guessed between two.

@pytest.fixture
def furnished():
    return PlanningContext(label_counts={"chair": 3, "table": 1, "sofa": 1, "cabinet": 2, "bookshelf": 2, "tv": 1,
                                         "lamp": 1}, frame_count=100)


@pytest.mark.parametrize("question, label", [
    ("How many chiars are there?", "chair"),  # two letters swapped
    ("how many cabinents are there", "cabinet"),
    ("How many bookshleves are in the room?", "bookshelf"),  # an irregular plural, misspelt
    ("How many chairz?", "chair"),  # as close to 'chair' as to 'chairs': one word either way
    ("How many televsions are there?", "tv"),  # a synonym's words count too
])
def test_a_misspelt_object_is_read_as_the_one_label_it_is_closest_to(planner, furnished, question, label):
    assert planner.interpret(question, None, furnished).program == f'answer(count(objects("{label}")))'


@pytest.mark.parametrize("question, unknown", [
    ("How many tabels are there?", "tabels"),  # one edit from 'tables' and from 'labels': not guessed
    ("How many camps are there?", "camps"),  # an English word is never changed (here into 'lamps')
])
def test_a_word_that_could_be_two_things_or_is_english_stays_unknown(planner, furnished, question, unknown):
    with pytest.raises(NotUnderstood, match=f"no object in memory matches '{unknown}'"):
        planner.interpret(question, None, furnished)


# Issue 14, third batch of counting phrasings: asides and notes that are not objects, conditions a
# plain count would ignore, and descriptions of the recording or the room that are not conditions.

@pytest.mark.parametrize("question", [
    "Any idea how many chairs are in the room?",  # 'idea' after 'any' is not an object
    "How many chairs are in the room? Give your best estimate.",  # a word before 'estimate' modifies it
    "How many chairs are in the room? My guess is 3.",
    "How many chairs are there in the walkthrough?",  # a word for the recording
    "How many chairs are there, to your knowledge?",
    "How many chairs are in the video? The same chair seen twice counts once.",  # 'the same'
    "How many chairs are in the room. Answer with one word.",  # a note in a sentence of its own
    "How many chairs are in the 20 square meter room?",  # a stated area, not the unit asked
    "How many chairs appear across 100 frames?",  # every frame of the 100-frame recording
    "How many chairs are in the white room?",  # the colour of the room, not of the chairs
    "How many chairs are there? Each one counts once, even when seen in several frames.",  # an everyday cue in a note
    "How many chairs are there, apart from the fireplace?",  # left out, so it may be unknown
    "How many chairs are there besides the piano?",
    "How many chairs are there without counting the piano?",  # not 'with/without <a part>'
    "Based on your observations, how many chairs do you see in the vid?",
    "After looking around, how many chairs did you find?",  # 'around' is not about the chairs
    "How many chair/chairs are there?",  # one label twice is not a part of it
    "How many such chairs are there?",
    "How many physical chairs are there?",
    "How many chairs are there without double counting?",  # not 'without <a part>'
    "Based only on the recording, and without guessing, how many chairs are there?",
    "How many chairs are there? Explain your reasoning.",
    "How many chairs are there? They can be of any colour.",  # a note, not a colour condition
    "How many chairs are present in the captured frames?",  # a word describing the frames
    "How many chairs did the sensor see?",
    "How many chairs appear in at least one frame?",  # any frame: all of them
    "How many chairs are visible in one or more frames?",
    "How many chairs appear in the first 100 frames?",  # every frame of the 100-frame recording
    "How many chairs are still there?",  # a change cue, but the question asks how many
    "How many chairs are in the study?",  # a room's name says where, like 'the kitchen'
    "How many chairs are in the master bedroom?",  # a word before a room's name describes it
    "How many chairs are in the reading corner?",
    "Count the chairs; count a chair seen in several frames only once.",  # a note after ';'
    "How many chairs are there, not counting any chair twice?",  # not counting it twice is not leaving it out
    "How many chairs were recorded, counting each one once even if it appears in 2 or more frames?",  # a concession
    "How many chairs are there, including ones that appear in only 2 frames?",
    "How many chairs appear, regardless of how many frames they are in?",
])
def test_asides_and_descriptions_leave_a_plain_count(planner, context, question):
    assert planner.interpret(question, None, context).program == 'answer(count(objects("chair")))'


@pytest.mark.parametrize("question, condition", [
    ("How many chairs did you see in the first 10 frames?", "a part of the recording"),
    ("How many chairs appear in at least 2 frames?", "a number of frames"),
    ("How many chairs appear in only 2 frames, even if they are red?", "a number of frames"),  # before the concession
    ("How many chairs were moved?", "a change"),
    ("How many chairs with armrests are there?", "a part or property"),
    ("How many chairs without cushions are there?", "a part or property"),
    ("How many chairs are 2 m tall?", "a size"),
    ("How many chairs were seen twice?", "a number of sightings"),
    ("How many chairs are there per room?", "a grouping"),
    ("How many chair legs are there?", "counts 'chair legs'"),
])
def test_a_count_with_a_condition_or_of_something_else_is_refused(planner, context, question, condition):
    with pytest.raises(NotUnderstood) as refused:
        planner.interpret(question, None, context)
    assert condition in str(refused.value)


def test_a_noun_before_a_label_names_a_part_not_a_second_category(planner):
    kitchen = PlanningContext(label_counts={"cabinet": 3, "door": 1}, frame_count=100)
    with pytest.raises(NotUnderstood, match="counts 'cabinet doors'"):
        planner.interpret("How many cabinet doors are there?", None, kitchen)
    program = planner.interpret("How many cabinets and doors are there?", None, kitchen).program
    assert program == 'answer(count(objects(["cabinet", "door"])))'


def test_an_everyday_question_keeps_its_own_refusal(planner, context):
    """The fallback to the intents is only for questions that say what they ask ('how many')."""
    with pytest.raises(NotUnderstood, match="there are 3 objects matching 'chair'"):
        planner.interpret("Where is the chair?", None, context)


def test_a_stated_area_is_not_the_unit_asked():
    from reasmory_ros.planning.language import requested_unit
    assert requested_unit("How many chairs are in the 20 square meter room?") is None
    assert requested_unit("How big is the 20 square meter room in square feet?") == "ft2"
    assert requested_unit("How many chairs are in this 60-square-metre flat?") is None  # hyphenated, still stated
    assert requested_unit("How many chairs are in the 4-metre-wide room?") is None
    assert requested_unit("How far is the chair from the 2-m-tall plant, in centimetres?") == "cm"


def test_counting_every_object_for_an_unknown_category_fails_the_check(planner, context):
    """'How many objects are bins' was answered with the number of all objects."""
    from reasmory_ros.planning.language import LabelResolver
    from reasmory_ros.planning.semantics import Reading, check_program
    question = "How many objects in the scene are bins?"
    reading = Reading(question, None, LabelResolver(context.labels, None), context.frame_count)
    assert any("counts 'bins'" in p for p in check_program("answer(count(all_objects()))", reading, context))
    with pytest.raises(NotUnderstood):
        planner.interpret(question, None, context)
    plain = Reading("How many objects are there in total?", None, LabelResolver(context.labels, None), 100)
    assert not check_program("answer(count(all_objects()))", plain, context)


def test_a_count_of_a_category_is_not_a_count_of_the_objects_near_it(context):
    """'Suppose you walk around the room: how many chairs will you see?' was the number of objects
    near a chair; the check holds for every planner."""
    from reasmory_ros.planning.language import LabelResolver
    from reasmory_ros.planning.semantics import Reading, check_program
    near = 'x = the(objects("refrigerator"))\nanswer(count(filter(all_objects(), near=x)))'
    resolver = LabelResolver(context.labels, None)
    walk = Reading("After walking around, how many refrigerators did you see?", None, resolver, 100)
    assert any("counts 'refrigerators'" in p for p in check_program(near, walk, context))
    things = Reading("How many objects are around the refrigerator?", None, resolver, 100)
    assert not check_program(near, things, context)


@pytest.mark.parametrize("typo, word", [
    ("How many chairs are in the sceen?", "scene"),  # scene or seen: after 'the', the noun
    ("How many chairs appear in the ideo?", "video"),  # video or idea: 'idea' is no noun of the question
    ("How many thigs are chairs?", "things"),  # after 'many'
    ("How many chairs are in the houe?", "home"),  # house or home: both only say where (the first is taken)
])
def test_a_misspelt_word_after_a_determiner_is_read_as_the_noun(planner, context, typo, word):
    from reasmory_ros.planning.language import LabelResolver
    from reasmory_ros.planning.semantics import Reading
    reading = Reading(typo, None, LabelResolver(context.labels, None), context.frame_count)
    assert word in reading.words
    assert planner.interpret(typo, None, context).program == 'answer(count(objects("chair")))'


def test_a_misspelt_word_between_two_verbs_stays_unknown():
    from reasmory_ros.planning.language import correct_typos
    assert correct_typos("i sceen it", lambda w: False) == "i sceen it"  # scene or seen, no determiner


@pytest.mark.parametrize("question", [
    "Hw many chairs did you notice overall?",  # was `exists("chair")`: 'yes'
    "Hwo many chairs did you see?",
    "ow many chairs are there?",
    "How many instances of hte chair category are present?",  # the, not he: a determiner before a noun
])
def test_a_misspelt_how_or_the_still_counts(planner, context, question):
    assert planner.interpret(question, None, context).program == 'answer(count(objects("chair")))'


def test_an_existence_answer_never_answers_how_many(context):
    from reasmory_ros.planning.language import LabelResolver
    from reasmory_ros.planning.semantics import Reading, check_program
    reading = Reading("Hw many chairs did you notice?", None, LabelResolver(context.labels, None), 100)
    assert any("asks for a number" in p for p in check_program('answer(exists("chair"))', reading, context))


def test_a_typo_as_close_to_a_label_word_as_to_a_scene_word_stays_unknown(planner):
    """'sceen' is one edit from 'scene' and from 'screen' (a tv synonym): not guessed."""
    with_tv = PlanningContext(label_counts={"chair": 2, "tv": 1}, frame_count=100)
    with pytest.raises(NotUnderstood, match="'sceen'"):
        planner.interpret("How many chairs are in the sceen?", None, with_tv)


@pytest.mark.parametrize("question, label", [
    ("How many bookshelves are there?", "bookshelf"), ("How many book shelves are there?", "bookshelf"),
    ("How many bookcases are there?", "bookshelf"), ("How many shelves are there?", "shelf"),
    ("How many benches are there?", "bench"), ("How many boxes are in the room?", "box"),
    ("How many couches are there?", "sofa"), ("How many sofas and couches are there?", "sofa"),
    ("How many TVs are there?", "tv"), ("How many tv's are there?", "tv"), ("How many televisions are there?", "tv"),
    ("How many monitors are there?", "tv"), ("How many TV sets are there?", "tv"),
    ("How many potted plants are there?", "plant"), ("How many houseplants are there?", "plant"),
    ("How many trash bins are there?", "trash can"), ("how many trashcans r there", "trash can"),
    ("How many garbage cans are there?", "trash can"), ("How many cushions are there?", "pillow"),
])
def test_irregular_and_compound_plurals_and_synonyms_count_their_label(planner, question, label):
    home = PlanningContext(label_counts={"bookshelf": 2, "bench": 1, "box": 3, "sofa": 1, "tv": 2, "plant": 2,
                                         "trash can": 1, "pillow": 4, "shelf": 1}, frame_count=100)
    assert planner.interpret(question, None, home).program == f'answer(count(objects("{label}")))'


def test_how_many_objects_is_a_count_whatever_unit_a_note_names(context):
    """'How many bowls are there? Ignore sizes in cm.' was answered with the bowl's size."""
    from reasmory_ros.planning.language import LabelResolver
    from reasmory_ros.planning.semantics import Reading, check_program
    resolver = LabelResolver(context.labels, None)
    size = 'x = the(objects("refrigerator"))\nanswer(longest_dimension(x))'
    noted = Reading("How many refrigerators are there? Ignore sizes in cm.", None, resolver, 100)
    assert any("asks for a count" in p for p in check_program(size, noted, context))
    assert not check_program('answer(count(objects("refrigerator")))', noted, context)
    length = Reading("How many cm long is the refrigerator?", None, resolver, 100)
    assert not check_program('x = the(objects("refrigerator"))\nanswer(size(x).length)', length, context)


@pytest.mark.parametrize("question", [
    "How many chairs are there in the rom?",  # 'rom' is an English word, one edit from 'room'
    "how many chairs are in the vide",  # video, not 'side' or 'wide': a place follows 'in the'
    "How many chairs appear throughout the viedo?",
])
def test_a_misspelt_place_after_in_the_is_the_scene_even_when_it_is_a_word(planner, context, question):
    assert planner.interpret(question, None, context).program == 'answer(count(objects("chair")))'


def test_a_place_word_that_names_an_object_in_memory_or_not_a_place_is_not_read_as_the_scene():
    """'hose' is an object when the memory has one; 'near the boom' is no place phrase; 'sceen'
    is as close to the tv's 'screen' as to 'scene': none is guessed to be the room."""
    planner = RuleBasedPlanner(embedder=None)
    with_hose = PlanningContext(label_counts={"chair": 2, "hose": 1, "tv": 1}, frame_count=100)
    for question, unknown in (("How many chairs are near the boom?", "boom"),
                              ("How many chairs are in the sceen?", "sceen")):
        with pytest.raises(NotUnderstood, match=f"'{unknown}'"):
            planner.interpret(question, None, with_hose)
    with pytest.raises(NotUnderstood, match="'hose' -> hose"):
        planner.interpret("How many chairs are in the hose?", None, with_hose)


# Found by a development set written blind (a helper that saw no code or phrasing of this corpus).

@pytest.fixture(scope="module")
def ranked():
    """The planner as shipped: the packaged sentence embedder ranks the intents."""
    return RuleBasedPlanner()


@pytest.fixture
def room():
    return PlanningContext(label_counts={"chair": 1, "trash can": 1, "door": 1, "table": 1, "desk": 1, "vase": 1,
                                         "cabinet": 1}, frame_count=100)


@pytest.mark.parametrize("question", [
    "Please answer left or right: with me at the cabinet and the door straight ahead, where's the vase?",
    "Positioned at the cabinet with the door in front of me, in which direction is the vase: left, right or behind?",
    "I'm next to the cabinet with the door ahead of me. Is the vase ahead and to the left or behind and to the right?",
    "The vase: front-left, front-right, back-left or back-right, from the viewpoint of someone at the cabinet "
    "facing the door?",
    "pos cabinet, heading door. vase: left/right?",
    "pos cabinet, heading door. vase quadrant? (FL/FR/BL/BR)",
    "Would the vase be found on the left-hand or right-hand side of a person who stands at the cabinet facing in "
    "the direction of the door?",
    "If the cabinet is where I stand and the door is what I face, on which side is the vase, left or right?",
    "If the cabinet is my position and the door is in front of me, is the vase to the left, to the right, or in back?",
    "Which side would the vase be on, left or right, if I stood at the cabinet and looked at the door?",
    "I'm a tourist standing near the cabinet, and I'm looking at the door. Is the vase on my left or right?",
    "The person I'm helping is at the cabinet and faces the door. Is the vase in front of her or behind her, and on "
    "her left or her right? Answer as front-left, front-right, back-left or back-right.",
    "Facing the door from where the cabinet is, is the vase to the left or the right?",
    "You stand beside the cabinet, your gaze fixed on the door. Does the vase lie to your left or to your right?",
    "You stand at the cabinet, eyes on the door. Is the vase on your left, on your right, or behind you?",
    "Standing where the cabinet is, the door before my eyes, is the vase left, right or behind?",
    "Assume an observer at the cabinet oriented toward the door. State whether the vase is located front-left, "
    "front-right, back-left, or back-right of said observer.",
    "He's planted at the cabinet, eyes locked on the door. Is the vase off to his left or his right?",  # not a plant
    "When the door is faced from the cabinet, is the vase seen on the left or on the right?",
    "Assume your position is the cabinet and your heading points to the door. Is the vase on the left or right?",
    "If you were at the cabinet looking directly at the door, which side would the vase be on, left or right?",
])
def test_where_one_stands_and_what_one_faces_in_other_wordings(ranked, room, question):
    """Roles said after the object ('the door straight ahead', 'the cabinet is where I stand'), in
    shorthand ('pos cabinet, heading door') or of someone else."""
    program = ranked.interpret(question, None, room).program
    assert 'standpoint = the(objects("cabinet"))' in program and 'facing = the(objects("door"))' in program
    assert 'target = the(objects("vase"))' in program


@pytest.mark.parametrize("question", [
    "Beginning at the trash can looking at the door, I want to end up at the table. What should the blank steps "
    "be? 1. Go forward until the door 2. [please fill in] 3. Go forward until the table",
    "A robot starts at the trash can, oriented toward the door, and must go to the table. Supply the missing "
    "actions in the plan below. 1. Go forward until the door 2. [please fill in] 3. Go forward until the table",
    "Starting at the trash can and facing the door, how do I get to the table? Complete the turns in these steps: "
    "1. Go forward until the door 2. [please fill in] 3. Go forward until the table",
    "Here is a route with missing turns: 1. Go forward until the door 2. [please fill in] 3. Go forward until the "
    "table It starts at the trash can, facing the door, and ends at the table. What are the missing turns?",
    "The table is where I need to go. Right now I'm at the trash can, facing the door. Complete the turns in: "
    "1. Go forward until the door 2. [please fill in] 3. Go forward until the table",
    "route pls: start @ trash can facing door, dest. table. fill blanks w/ turn left/right/back: 1. Go forward "
    "until the door 2. [please fill in] 3. Go forward until the table",
    "Considering a navigation task in which the agent starts at the trash can, initially facing the door, and must "
    "arrive at the table, which turning actions should be placed in the blanks of the following plan? 1. Go "
    "forward until the door 2. [please fill in] 3. Go forward until the table",
    "I stand at the trash can with my face to the door. Which turns I must do in the empty places? 1. Go forward "
    "until the door 2. [please fill in] 3. Go forward until the table",
])
def test_a_routes_numbered_plan_is_its_legs_wherever_it_stands(ranked, room, question):
    """The plan's 'go forward until the door' is a leg, not the goal: the door was taken for the goal
    when the prose named the goal with 'end up at', after the plan, in shorthand ('dest. table')
    or before its cue ('the table is where I need to go'); a plan alone ends at its goal."""
    program = ranked.interpret(question, None, room).program
    assert 'start = the(objects("trash can"))' in program and 'goal = the(objects("table"))' in program
    assert 'facing = the(objects("door"))' in program


def test_square_footage_asks_square_feet(ranked, room):
    assert ranked.interpret("What's the approximate square footage of the room?", None, room).unit == "ft2"


def test_an_english_word_after_this_is_not_guessed_to_be_the_room(ranked, room):
    """'this hose' may be an object the memory lacks: unlike 'in the rom', it is not read as the
    room (the size of the room would be a confident wrong answer)."""
    with pytest.raises(NotUnderstood, match="'hose'"):
        ranked.interpret("How big is this hose, in square meters?", None, room)


def test_two_moments_it_could_not_read_are_refused_not_compared_with_themselves(ranked, room):
    """'cam motion 49->61' was answered by comparing the current camera with itself."""
    with pytest.raises(NotUnderstood, match="one moment with itself"):
        ranked.interpret("cam motion 49->61: fwd/back/left/right?", None, room)


@pytest.mark.parametrize("question", [
    "Do you know the area of the floor of this room? Please answer in m^2.",
    "how many sqare meters is this room's floor",  # the unit is read after the typo is corrected
])
def test_square_metres_written_otherwise(ranked, room, question):
    interpretation = ranked.interpret(question, None, room)
    assert interpretation.program == "answer(room_area())" and interpretation.unit == "m2"


def test_faced_is_what_one_faces(ranked, room):
    program = ranked.interpret("Do you know whether the vase would be on my left or right if I stood at the door "
                               "and faced the cabinet?", None, room).program
    assert 'standpoint = the(objects("door"))' in program and 'facing = the(objects("cabinet"))' in program


# Found by a third blind development set (operator shorthand, preambles, plans before their prose).

@pytest.mark.parametrize("question,program,unit", [
    ("cam disp frame 21 -> 45, m?", "answer(displacement(camera(frame=21), camera(frame=45)))", "m"),
    ("camera displacement 21st->45th frame, cm", "answer(displacement(camera(frame=21), camera(frame=45)))", "cm"),
    ("Roughly how far did the camera get moved between the 21st frame and the 45th frame? Direct distance, not the "
     "path.", "answer(displacement(camera(frame=21), camera(frame=45)))", "m"),
])
def test_operator_shorthand_and_arrows_name_the_camera_and_its_frames(ranked, room, question, program, unit):
    interpretation = ranked.interpret(question, None, room)
    assert interpretation.program == program and interpretation.unit == unit


def test_a_unit_after_a_frame_number_is_asked_not_stated(ranked, room):
    """'@ frame 67, cm': the number belongs to the frame, so cm is the unit asked (it was read as
    a stated 67 cm and the answer came in metres)."""
    interpretation = ranked.interpret("cam-to-vase distance @ frame 67, cm", None, room)
    assert interpretation.unit == "cm" and "camera(frame=67)" in interpretation.program
    assert 'objects("vase")' in interpretation.program


def test_a_quadrant_word_is_not_what_one_faces(ranked, room):
    """'The vase is in front-left ... of me': 'in front' of a quadrant made the vase what one faces."""
    with pytest.raises(NotUnderstood, match="what you face"):
        ranked.interpret("I stand on the place of the cabinet and my face goes to the door. The vase is in "
                         "front-left, front-right, back-left or back-right of me?", None, room)


def test_a_goal_the_plan_does_not_end_at_is_refused(ranked, room):
    with pytest.raises(NotUnderstood, match="plan ends at the table"):
        ranked.interpret("Start at the trash can facing the door and go to the vase. 1. Go forward until the door "
                         "2. [please fill in] 3. Go forward until the table", None, room)


def test_heading_to_a_place_is_where_one_goes_not_what_one_faces(ranked, room):
    program = ranked.interpret("I start at the trash can looking at the door, heading to the table. Fill in: 1. Go "
                               "forward until the door 2. [please fill in] 3. Go forward until the table",
                               None, room).program
    assert 'goal = the(objects("table"))' in program and 'facing = the(objects("door"))' in program


@pytest.mark.parametrize("question,aside", [
    ("My wedding starts next week. How many chairs are there altogether?", ["wedding starts"]),
    ("I'm planning a wedding and need to know how many chairs there are. Could you count them for me?",
     ["wedding"]),  # 'them' is plural: not the one wedding
    ("I need to move every chair out before the painting crew comes, so how many chairs are there?",
     ["painting crew"]),
    ("My flatmate asked me to check the furniture. How many chairs are there altogether?", []),  # people name no object
])
def test_unknown_words_in_a_statement_before_the_question_are_context(ranked, room, question, aside):
    reading = ranked.read(question, None, room)
    assert [m.phrase for m in reading.aside] == aside
    assert ranked.interpret(question, None, room, reading).program == 'answer(count(objects("chair")))'


@pytest.mark.parametrize("question", [
    "I bought a cover for the vase. What's its longest dimension, in centimetres?",
    "I want a hose like the one by the vase. How far is it from the door?",
    "How far is it from the door? It is the hose by the vase.",
])
def test_a_pronoun_that_may_point_to_the_unknown_word_keeps_it(ranked, room, question):
    """'its' may be the cover's (it exists: it was bought): the unknown word is not set aside, and the
    question is refused."""
    with pytest.raises(NotUnderstood, match="no object in memory matches"):
        ranked.interpret(question, None, room)


def test_an_answer_says_which_words_it_read_as_context(snapshot):
    result = answer_question("My wedding starts soon. How many chairs are there?", None, snapshot)
    assert result.ok and result.answer == 3
    assert "'wedding starts soon'" in result.text


def test_a_size_question_naming_two_objects_is_not_answered_with_their_distance(ranked, room):
    """Both were answered with the distance between the two objects (a length, like a size). The
    first asks the chair's size ('the door' comes after a preposition); the second is refused."""
    program = ranked.interpret("I want to know if the chair will fit through the door. How big is it along its "
                               "longest edge?", None, room).program
    assert program == 'x = the(objects("chair"))\nanswer(longest_dimension(x))'
    with pytest.raises(NotUnderstood, match="does not ask how far apart"):
        ranked.interpret("My vase is 20 cm wide, so I wonder how long the table is at its longest. What is that in cm?",
                         None, room)


def test_an_engineers_query_names_the_reference(ranked, room):
    program = ranked.interpret("Query: candidates = chair, vase, door; reference = table. Return the candidate whose "
                               "centre is farthest from the centre of the reference.", None, room).program
    assert program.startswith('reference = the(objects("table"))') and "farthest(" in program and 'mode="center"' in program


@pytest.mark.parametrize("question", [
    "For the contents inventory, please state how many chairs are present in the room.",
    "Documenting for a claim: what is the total number of chairs in the room?",
    "Do the needful and count the chairs in this room.",
    "For the avoidance of doubt, state the total number of chairs present in the room.",  # 'doubt state': one run
    "how many - wait, let me rephrase - what is the total number of chairs in the room?",
    "what's the headcount on chairs in here",
    "My daughter and I are playing a counting game - how many chairs are there altogether?",
    "How many chairs are there? I want to stick an asset label on each one.",  # a note after the question
    "As an architect I need the number of chairs for the drawings. How many are there?",
    "Please count the chairs in this room. My 7-year-old wants to know how many there are.",  # no question mark
])
def test_a_leading_purpose_or_label_is_context(ranked, room, question):
    assert ranked.interpret(question, None, room).program == 'answer(count(objects("chair")))'


def test_a_guess_to_check_is_not_an_object(ranked, room):
    program = ranked.interpret("I think the vase is on the right when you stand at the cabinet facing the door. Is that "
                               "correct, or is it on the left?", None, room).program
    assert 'standpoint = the(objects("cabinet"))' in program and 'target = the(objects("vase"))' in program


def test_how_long_an_objects_longest_side_is_never_which_object_is_largest(ranked, room):
    """It was answered 'chair', the larger of the chair and the door of the sentence before: the
    chair's own length is asked, and the door is context."""
    program = ranked.interpret("Suppose a robot has to carry the chair through a door. Approximately how long is the "
                               "chair's longest dimension?", None, room).program
    assert program == 'x = the(objects("chair"))\nanswer(longest_dimension(x))'


@pytest.mark.parametrize("question, measured", [
    ("Could you tell me how long the chair is at its longest? I'd like to know if it fits through my door.", "chair"),
    ("How tall is the door? I want to get the desk through it.", "door"),
    ("We want to carry the desk through a door. What is its longest dimension?", "desk"),  # a door in general
    ("There is a vase next to a cabinet. How tall is it?", "vase"),
    ("I'm planning the layout around the cabinet. How long is its longest side?", "cabinet"),  # a layout is no object
    ("The chair is next to the door. How tall is it?", "chair"),  # the subject, not the door after 'next to'
    ("I'm working out whether the desk fits in the boot of my hatchback. How long is its longest side?", "desk"),
    ("I've got a storage unit with 2 m tables. What's the longest dimension of the door?", "door"),
    ("Before I measure my own one at home, what is the longest side of the desk here?", "desk"),
])
def test_an_object_named_around_a_one_object_measure_is_context(ranked, room, question, measured):
    assert f'the(objects("{measured}"))' in ranked.interpret(question, None, room).program


@pytest.mark.parametrize("question", [
    "I walked from the door to the chair. How tall is it?",  # both after a preposition: 'it' may be either
    "I want to move the table and the chair. How big is it?",  # both objects of the verb
    "Look at the vase next to the cabinet. How tall is it?",  # 'at the vase' is after a preposition too
    "I put a cloth on the desk. How big is it?",  # 'it' may be the cloth, which memory does not hold
    "How tall is the chair? And the door?",  # a second question
    "How tall is the chair? Sorry, I meant the door.",  # a correction
    "How tall is the chair? Or rather the door.",
    "How tall is the chair? Compare it with the door.",  # a further request
    "Give me the height of the chair. Then the door.",
    "There are two tables. How tall is the one by the door?",  # 'the one' points back: not the door's height
    "How many chairs are there? Near the door, I mean.",  # a note may restrict a count
    "Put the vase on a table. How far is it from the door?",  # a distance between two objects takes both
])
def test_an_object_around_the_question_that_may_be_asked_about_is_not_set_aside(ranked, room, question):
    with pytest.raises(NotUnderstood):
        ranked.interpret(question, None, room)


def test_a_route_walked_before_a_size_question_is_not_a_distance(ranked, room):
    """'I walked from the door to the desk. How tall is it?' was answered with the door-desk distance:
    the preamble's 'from' passed for a distance word."""
    with pytest.raises(NotUnderstood):
        ranked.interpret("I walked from the door to the desk. How tall is it?", None, room)


def test_the_answer_says_which_objects_around_the_question_it_read_as_context(snapshot):
    result = answer_question("How tall is the lamp? I'd like to put it next to my sofa.", None, snapshot)
    assert result.ok and result.answer == pytest.approx(160, abs=5)
    assert "Named around the question, read as context: 'sofa'" in result.text


def test_the_largest_of_several_measures_named_is_the_longest_dimension(ranked, room):
    """'how tall or wide or long is the desk at most' was answered with the desk's height."""
    program = ranked.interpret("Roughly how tall or wide or long is the desk at most?", None, room).program
    assert program == 'x = the(objects("desk"))\nanswer(longest_dimension(x))'


def test_two_measures_asked_at_once_are_refused(ranked, room):
    with pytest.raises(NotUnderstood, match="asks for the height and the length at once"):
        ranked.interpret("What is the length and height of the desk?", None, room)


@pytest.mark.parametrize("question", [
    "Apologies for the basic question, but how many chairs are in the room?",  # a word before 'question'
    "How many times does a chair show up in the room, counting each distinct one only once?",
    "Survey log, entry 4: chairs. Quantity on site?",  # a quantity asked is a count
    "Out of everything that was filmed, how many chairs are there?",  # 'everything' names no object
    "Pray tell, good sir, how many chairs doth this chamber hold?",  # a chamber is a room
    "We're filming the space for a rental listing, and I'd like to know how many chairs there are.",
    "Since I report back with a complete inventory by Friday, how many chairs are there?",  # not chairs 'with' it
    "qty of chairs?",
    "How many chairs are there in total? Note: the video is about 30 seconds long.",  # a duration, not a moment
    "We're thinking of renting this place. How many chairs does it have?",  # 'of renting' is a verb
])
def test_words_about_the_asking_leave_a_plain_count(planner, context, question):
    assert planner.interpret(question, None, context).program == 'answer(count(objects("chair")))'


@pytest.mark.parametrize("question", [
    "I'm standing at the fridge. How many chairs are in the room?",
    "The plant is in the corner. How many chairs are there in total?",
    "I saw a chair by the fridge. How many chairs are in the whole video?",
])
def test_where_the_asker_is_does_not_restrict_a_count_of_the_whole_room(planner, context, question):
    assert planner.interpret(question, None, context).program == 'answer(count(objects("chair")))'


@pytest.mark.parametrize("question", [
    "I'm at the fridge. How many chairs are there?",  # 'there' may be at the fridge
    "How many chairs are in the room? Only near the fridge.",  # a note after the question may restrict it
    "I'm at the fridge. How many chairs are in the room by the window?",
])
def test_an_object_that_may_restrict_a_count_is_not_context(planner, context, question):
    with pytest.raises(NotUnderstood):
        planner.interpret(question, None, context)


def test_the_object_one_would_turn_to_face_is_the_target(ranked, room):
    """It was taken for what one faces (and the cabinet ahead for the target): a silent wrong."""
    program = ranked.interpret("With the cabinet in front of you and you standing at the chair, would you have to turn "
                               "left or right to face the door?", None, room).program
    assert 'facing = the(objects("cabinet"))' in program and 'target = the(objects("door"))' in program
    program = ranked.interpret("Stand at the chair so as to face the door. Is the vase to the left or right?", None,
                               room).program
    assert 'facing = the(objects("door"))' in program and 'target = the(objects("vase"))' in program


def test_where_you_stand_said_after_the_object_without_is(ranked, room):
    program = ranked.interpret("With the door straight ahead and the trash can where you stand, is the desk left, right "
                               "or behind you?", None, room).program
    assert 'standpoint = the(objects("trash can"))' in program and 'facing = the(objects("door"))' in program


def test_the_tape_that_measures_is_no_object(ranked, room):
    program = ranked.interpret("What would a tape measure read along the longest dimension of the desk?", None,
                               room).program
    assert program == 'x = the(objects("desk"))\nanswer(longest_dimension(x))'


@pytest.mark.parametrize("question, program", [
    # 'around' went with the room: it was answered with the number of objects near the vase
    ("Suppose you walked around this room and counted the vases. How many would you find?",
     'answer(count(objects("vase")))'),
    # frame 60 was compared with itself and refused
    ("Taking the camera's orientation at frame 60 as reference, what's the direction of its motion between frames 60 "
     "and 81 (forward/backward/left/right)?", "answer(movement_direction(camera(frame=60), camera(frame=81)))"),
    # a measure between the preposition and the object
    ("I'm trying to fit the desk through a 90 cm doorway. How long is its longest side?",
     'x = the(objects("desk"))\nanswer(longest_dimension(x))'),
    # 'the rest' and 'comes' name no object
    ("Which of these comes first in the video, and in what order do the rest follow? Objects: vase, door, chair",
     'answer(appearance_order(["vase", "door", "chair"]))'),
])
def test_blind_set_phrasings_get_the_program_asked(ranked, room, question, program):
    assert ranked.interpret(question, None, room).program == program


def test_how_many_times_alone_is_still_not_a_count_of_objects(planner, context):
    with pytest.raises(NotUnderstood, match="not a count of objects"):
        planner.interpret("How many times does a chair show up in the room?", None, context)


def test_frames_in_before_a_comma_is_a_frame(ranked, room):
    """'79 frames in, the vase is ...' was read as no frame ('12 frames in the video' is a count)
    and answered from the current camera."""
    program = ranked.interpret("79 frames in, the vase is how many meters from the camera (nearest point)?", None,
                               room).program
    assert "camera(frame=79)" in program and 'camera("current")' not in program


def test_a_size_question_after_a_place_is_not_what_is_next_to_it(ranked, room):
    """'I'm standing next to the cabinet. What's the length of its longest dimension?' listed the
    objects next to the cabinet: a length is asked."""
    interpretation = ranked.interpret("I'm standing next to the cabinet in this room. What's the length of its longest "
                                      "dimension?", None, room)
    assert "next_to" not in interpretation.program and 'objects("cabinet")' in interpretation.program


def test_a_numbered_request_before_the_plan_is_not_part_of_it(ranked, room):
    """'3) fill in the blank turns' was read as a blank of the plan: the answer filled the wrong step."""
    interpretation = ranked.interpret("1) start at the trash can facing the door 2) head to the table 3) fill in the "
                                      "blank turns in: 1. Go forward until the door 2. [please fill in] 3. Go forward "
                                      "until the table", None, room)
    assert interpretation.turn_slots == (1,) and 'goal = the(objects("table"))' in interpretation.program


@pytest.mark.parametrize("question", [
    "I'm ordering a cover for the vase. What's its longest dimension in cm?",
    "I'm thinking of buying a box for the vase, so how long is it along its longest dimension?",
    "I'm building a box to ship the vase in. What is its biggest dimension in cm?",  # 'to <verb> the' is 'for the'
])
def test_a_thing_still_to_be_had_for_an_object_is_context(ranked, room, question):
    """A cover being ordered for the vase cannot be measured: 'its' is the vase's."""
    reading = ranked.read(question, None, room)
    assert [m.phrase for m in reading.aside] in (["cover"], ["box"])
    assert ranked.interpret(question, None, room, reading).program == 'x = the(objects("vase"))\nanswer(longest_dimension(x))'


def test_a_clause_after_a_comma_with_its_own_subject_is_a_note(ranked, room):
    program = ranked.interpret("Estimate the longest dimension of the vase please, I have a box that is 120 cm long.",
                               None, room).program
    assert program == 'x = the(objects("vase"))\nanswer(longest_dimension(x))'


def test_a_describing_word_before_the_only_such_object_is_allowed(ranked, room):
    """'the lone desk', 'the old desk': the word cannot change which desk when memory holds one."""
    program = ranked.interpret("The lone desk in the house - how many meters is it along its longest side?", None,
                               room).program
    assert program == 'x = the(objects("desk"))\nanswer(longest_dimension(x))'


@pytest.mark.parametrize("question", [
    "How many old chairs are there?",  # a count the word may restrict
    "How far is the old chair from the trash can?",  # one of three chairs, picked by a word memory cannot check
])
def test_a_describing_word_that_may_change_the_answer_is_refused(ranked, context, question):
    with pytest.raises(NotUnderstood, match="by 'old', which the memory cannot tell"):
        ranked.interpret(question, None, context)


def test_the_answer_says_how_it_read_a_describing_word(snapshot):
    result = answer_question("How tall is the old sofa?", None, snapshot)
    assert result.ok and "'old' read as describing the sofa" in result.text


@pytest.mark.parametrize("question, condition", [
    ("I am doing an inventory. How many chairs are taller than 1 m?", "taller than"),
    ("My wedding starts soon. How many chairs are red?", "red"),
])
def test_a_count_condition_is_read_in_the_asking_sentence_not_the_preamble(planner, context, question, condition):
    """Once a preamble's unknown words were set aside, the condition check read the preamble as the
    asking clause and these were answered with every chair."""
    with pytest.raises(NotUnderstood, match=condition):
        planner.interpret(question, None, context)
