"""A planner that runs a local transformers chat model or VLM, offline, with grammar-constrained output.

The model directory is loaded with `local_files_only=True` (nothing is ever downloaded). Decoding
is greedy and masked by the DSL grammar, and a program cut off by the token budget is finished
with the grammar's shortest completion, so whatever the model's quality the text parses; the
repair loop then deals with programs that parse but do not validate.
"""

from __future__ import annotations

from pathlib import Path

import torch

from reasmory_ros.planning.base import PlanningError, PlanRequest
from reasmory_ros.planning.constrained import CompiledGrammar, GrammarCompleter, GrammarLogitsProcessor
from reasmory_ros.planning.prompting import build_messages, messages_as_text


def _grammar() -> str:
    from reasmory_ros.dsl.syntax import GRAMMAR

    return GRAMMAR


class LocalModelPlanner:
    """Plans with a local model directory (causal LM, or image-text-to-text when it has an image processor).

    `max_new_tokens` bounds the program length; `use_views` shows the context's rendered views to a
    vision model; `device` is any torch device string.
    """

    name = "local"

    def __init__(self, model_dir: str | Path, device: str = "cpu", max_new_tokens: int = 192, use_views: bool = True):
        self.model_dir = Path(model_dir)
        self.device = device
        self.max_new_tokens = max_new_tokens
        self.use_views = use_views
        self._loaded: tuple | None = None
        self._completer: GrammarCompleter | None = None

    def _load(self):
        """(model, tokenizer, processor or None, the grammar compiled for the tokenizer), loaded
        once and only from local files."""
        if self._loaded is not None:
            return self._loaded
        from transformers import AutoModelForCausalLM, AutoModelForImageTextToText, AutoProcessor, AutoTokenizer

        if not self.model_dir.is_dir():
            raise PlanningError(f"local model directory {self.model_dir} does not exist")
        try:
            processor = AutoProcessor.from_pretrained(self.model_dir, local_files_only=True)
        except (OSError, ValueError, KeyError):
            processor = None
        vision = processor is not None and hasattr(processor, "image_processor")
        try:
            if vision:
                model = AutoModelForImageTextToText.from_pretrained(self.model_dir, local_files_only=True)
                tokenizer = processor.tokenizer
            else:
                model = AutoModelForCausalLM.from_pretrained(self.model_dir, local_files_only=True)
                tokenizer = AutoTokenizer.from_pretrained(self.model_dir, local_files_only=True)
                processor = None
        except (OSError, ValueError) as err:
            raise PlanningError(f"cannot load the local model from {self.model_dir}: {err}") from err
        model.to(self.device).eval()
        vocab_size = int(model.get_output_embeddings().weight.shape[0])
        self._loaded = (model, tokenizer, processor, CompiledGrammar(tokenizer, _grammar(), vocab_size))
        return self._loaded

    @property
    def completer(self) -> GrammarCompleter:
        if self._completer is None:
            self._completer = GrammarCompleter(_grammar())
        return self._completer

    def plan(self, request: PlanRequest) -> str:
        model, tokenizer, processor, grammar = self._load()
        inputs = self._encode(request, tokenizer, processor)
        prompt_length = int(inputs["input_ids"].shape[1])
        constraint = GrammarLogitsProcessor(grammar, prompt_length)
        with torch.no_grad():
            output = model.generate(
                **inputs,
                logits_processor=[constraint],
                max_new_tokens=self.max_new_tokens,
                do_sample=False,
                eos_token_id=tokenizer.eos_token_id,
                pad_token_id=tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id,
            )
        text = tokenizer.decode(output[0, prompt_length:], skip_special_tokens=True)
        return self.finish(text)

    def finish(self, text: str) -> str:
        """The text, completed by the grammar's shortest suffix when the budget cut it off."""
        if not self.completer.parses(text):
            suffix = self.completer.complete(text)
            if suffix is not None:
                text += suffix
        return text.strip()

    def _encode(self, request: PlanRequest, tokenizer, processor) -> dict:
        messages = build_messages(request)
        views = list(request.context.views) if (processor is not None and self.use_views) else []
        if views:
            from PIL import Image

            last = messages[-1]
            content = [{"type": "image"} for _ in views] + [{"type": "text", "text": last["content"]}]
            messages = messages[:-1] + [{"role": last["role"], "content": content}]
            prompt = processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
            images = [Image.fromarray(view) for view in views]
            encoded = processor(text=prompt, images=images, return_tensors="pt")
        else:
            if getattr(tokenizer, "chat_template", None):
                prompt = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
            else:
                prompt = messages_as_text(messages)
            encoded = tokenizer(prompt, return_tensors="pt", add_special_tokens=False)
        return {k: v.to(self.device) for k, v in encoded.items()}
