"""LocalModelPlanner with a tiny randomly initialised Llama and a byte-level tokenizer built here.

Nothing is downloaded: the model and tokenizer are created from a config, saved to tmp_path and
loaded back offline, exactly as a real model directory would be. A random model writes nonsense,
so these tests show what the constraint guarantees: whatever it writes parses.
"""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("llguidance")

from tokenizers import Tokenizer, decoders, models, pre_tokenizers  # noqa: E402
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast  # noqa: E402

from reasmory_ros import dsl  # noqa: E402
from reasmory_ros.planning import PlanRequest, answer_question, context_from_snapshot  # noqa: E402
from reasmory_ros.planning.local_model import LocalModelPlanner  # noqa: E402


def byte_tokenizer() -> PreTrainedTokenizerFast:
    """One token per byte (GPT-2 byte alphabet) plus <s>, </s>, <unk>: can spell any text."""
    vocab = {"<unk>": 0, "<s>": 1, "</s>": 2}
    for char in sorted(pre_tokenizers.ByteLevel.alphabet()):
        vocab.setdefault(char, len(vocab))
    core = Tokenizer(models.BPE(vocab=vocab, merges=[], unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    core.decoder = decoders.ByteLevel()
    return PreTrainedTokenizerFast(tokenizer_object=core, bos_token="<s>", eos_token="</s>", unk_token="<unk>")


CHAT_TEMPLATE = (
    "{% for m in messages %}<{{ m['role'] }}>{{ m['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}<assistant>{% endif %}"
)


def save_tiny_model(directory, seed: int, chat_template: bool = False) -> None:
    """Model and tokenizer as a model directory; odd seeds also get a chat template."""
    tokenizer = byte_tokenizer()
    if chat_template:
        tokenizer.chat_template = CHAT_TEMPLATE
    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=1,
        num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=32768,
        bos_token_id=1, eos_token_id=2,
    )
    LlamaForCausalLM(config).save_pretrained(directory)
    tokenizer.save_pretrained(directory)


@pytest.fixture(scope="module")
def model_dirs(tmp_path_factory):
    dirs = []
    for seed in range(3):
        directory = tmp_path_factory.mktemp(f"tiny{seed}")
        save_tiny_model(directory, seed, chat_template=seed % 2 == 1)
        dirs.append(directory)
    return dirs


QUESTIONS = ["How far apart are the sofa and the tv?", "How many chairs are there?", "Is the lamp left of the bed?"]


def test_every_generated_program_parses(model_dirs, snapshot):
    context = context_from_snapshot(snapshot)
    for directory, question in zip(model_dirs, QUESTIONS, strict=True):
        planner = LocalModelPlanner(directory, max_new_tokens=48)
        program = planner.plan(PlanRequest(question, None, context))
        assert program.strip()
        dsl.parse(program)  # raises DslSyntaxError if the constraint let anything through


def test_failed_programs_are_repaired_then_fall_back(model_dirs, snapshot):
    """A random model's programs fail validation; each failure is fed back, then the rules answer."""
    planner = LocalModelPlanner(model_dirs[0], max_new_tokens=32)
    result = answer_question("How many chairs are there?", None, snapshot, planner=planner, max_attempts=2)
    local = [a for a in result.attempts if a.planner == "local"]
    assert len(local) == 2 and all(a.error for a in local)
    assert all(a.stage in ("validation error", "runtime error", "format") for a in local)
    assert result.attempts[-1].planner == "rule" and result.ok and result.answer == 3


def test_missing_model_directory_is_a_planning_error(tmp_path, snapshot):
    result = answer_question("How many chairs are there?", None, snapshot,
                             planner=LocalModelPlanner(tmp_path / "absent"))
    assert result.attempts[0].stage == "planning" and "does not exist" in result.attempts[0].error
    assert result.ok and result.planner == "rule"
