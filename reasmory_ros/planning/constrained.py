"""Grammar-constrained decoding: a model can only write text of the DSL grammar.

Two parts, both driven by the DSL's own lark `GRAMMAR` string:

- `GrammarLogitsProcessor` masks, at every step, the tokens that cannot continue a program
  (llguidance computes the mask from the grammar and the tokenizer; it is exact and fast for
  real vocabularies). End-of-sequence is allowed only where the text is a complete program.
- `GrammarCompleter` finishes a program the token budget cut off: it lexes the text with lark,
  completes a partial last lexeme and searches the LALR automaton for the shortest sequence of
  terminals that reaches the end. So even a random model yields text that parses.
"""

from __future__ import annotations

import heapq
import itertools
import string

import regex
import torch
from lark import Lark, Token
from lark.exceptions import UnexpectedCharacters, UnexpectedToken
from lark.lexer import PatternStr
from transformers import LogitsProcessor

# Characters tried, in order, when completing a regex terminal: short, readable choices first.
_ALPHABET = string.ascii_lowercase + string.digits + "\"')]}.,=( _" + string.ascii_uppercase
_WORD = set(string.ascii_letters + string.digits + "_")


class GrammarCompleter:
    """Shortest completions of program prefixes under a lark LALR grammar."""

    def __init__(self, grammar: str, start: str = "start", max_expansions: int = 5000):
        self.parser = Lark(grammar, parser="lalr", start=start)
        self.terminals = {t.name: t for t in self.parser.terminals}
        self.max_expansions = max_expansions
        self._examples: dict[str, str | None] = {}

    def complete(self, text: str) -> str | None:
        """The shortest suffix that makes `text` a complete program, or None if none is found."""
        best: str | None = None
        for state, remainder in self._starts(text):
            for first, state_after in self._finish_lexeme(state, remainder):
                rest = self._search(state_after, (text + first)[-1:] if text + first else "")
                if rest is not None and (best is None or len(first + rest) < len(best)):
                    best = first + rest
        if best is not None and not self.parses(text + best):
            return None
        return best

    def parses(self, text: str) -> bool:
        try:
            self.parser.parse(text)
        except Exception:  # lark raises several unrelated exception types for bad input
            return False
        return True

    def _starts(self, text: str):
        """(parser state, unlexed remainder) pairs: after every lexed token, and before the last.

        The second pair matters when the last token could still grow into another one
        (`answ` lexes as a name but may become `answer`; `3e` is a number being written).
        """
        interactive = self.parser.parse_interactive(text)
        lexer = interactive.lexer_thread.lex(interactive.parser_state)
        before_last, last, position = None, None, 0
        while True:
            try:
                token = next(lexer)
            except StopIteration:
                position = len(text)
                break
            except UnexpectedCharacters as err:
                position = err.pos_in_stream
                break
            except UnexpectedToken as err:  # the contextual lexer saw a token the parser refuses
                position = err.token.start_pos
                break
            snapshot = interactive.copy()
            try:
                interactive.feed_token(token)
            except UnexpectedToken:
                position = token.start_pos
                interactive = snapshot
                break
            before_last, last, position = snapshot, token, token.end_pos
        starts = [(interactive, text[position:])]
        if last is not None:
            starts.append((before_last, text[last.start_pos :]))
        return starts

    def _finish_lexeme(self, state, remainder: str):
        """Ways to finish a partial lexeme: (characters added, parser state after the token)."""
        if not remainder:
            return [("", state)]
        found = []
        for name in state.accepts():
            if name == "$END":
                continue
            suffix = self._complete_terminal(name, remainder)
            if suffix is None:
                continue
            after = state.copy()
            try:
                after.feed_token(Token(name, remainder + suffix))
            except UnexpectedToken:
                continue
            found.append((suffix, after))
        return found

    def _search(self, state, last_char: str) -> str | None:
        """Uniform-cost search over terminal sequences from an LALR state to an accepting one."""
        counter = itertools.count()
        queue = [(0, next(counter), "", last_char, state)]
        seen: set[tuple] = set()
        for _ in range(self.max_expansions):
            if not queue:
                return None
            cost, _, suffix, last, current = heapq.heappop(queue)
            key = tuple(current.parser_state.state_stack)
            if key in seen:
                continue
            seen.add(key)
            accepts = current.accepts()
            if "$END" in accepts:
                return suffix
            for name in sorted(accepts):
                example = self._example(name)
                if not example:
                    continue
                gap = " " if last in _WORD and example[0] in _WORD else ""
                following = current.copy()
                try:
                    following.feed_token(Token(name, example))
                except UnexpectedToken:
                    continue
                piece = gap + example
                heapq.heappush(queue, (cost + len(piece), next(counter), suffix + piece, example[-1], following))
        return None

    def _example(self, name: str) -> str | None:
        """The shortest text of a terminal (cached)."""
        if name not in self._examples:
            self._examples[name] = self._complete_terminal(name, "")
        return self._examples[name]

    def _complete_terminal(self, name: str, prefix: str, max_len: int = 6) -> str | None:
        """Shortest characters that make `prefix` a whole match of the terminal, or None."""
        pattern = self.terminals[name].pattern
        if isinstance(pattern, PatternStr):
            return pattern.value[len(prefix) :] if pattern.value.startswith(prefix) else None
        compiled = regex.compile(pattern.to_regexp())
        if prefix and compiled.fullmatch(prefix):
            return ""
        frontier = [""]
        for _ in range(max_len):
            grown = []
            for tail in frontier:
                for char in _ALPHABET:
                    match = compiled.fullmatch(prefix + tail + char, partial=True)
                    if match is None:
                        continue
                    if not match.partial:
                        return tail + char
                    grown.append(tail + char)
            frontier = grown[:64]
        return None


class CompiledGrammar:
    """The grammar compiled for one tokenizer (llguidance), built once per loaded model: indexing a
    real vocabulary of 10^5 tokens costs far more than a program, and each generation only needs a
    copy of the fresh matcher."""

    def __init__(self, tokenizer, grammar: str, vocab_size: int):
        import llguidance
        import llguidance.hf

        self.ll_tokenizer = llguidance.hf.from_tokenizer(tokenizer, n_vocab=vocab_size)
        self._matcher = llguidance.LLMatcher(self.ll_tokenizer, llguidance.grammar_from("lark", grammar))
        if self._matcher.is_error():
            raise ValueError(f"the DSL grammar does not compile for constrained decoding: {self._matcher.get_error()}")
        self.eos_ids = [tokenizer.eos_token_id] if tokenizer.eos_token_id is not None else []

    def matcher(self):
        """A matcher at the start of a program."""
        return self._matcher.deep_copy()


class GrammarLogitsProcessor(LogitsProcessor):
    """Masks the logits of tokens the grammar forbids next (llguidance); one sequence at a time.

    `forbid_empty` keeps end-of-sequence out until something was written, because the empty text
    is a valid (but useless) program of the DSL grammar.
    """

    def __init__(self, grammar: CompiledGrammar, prompt_length: int, forbid_empty: bool = True):
        import llguidance.torch

        self._ll = llguidance.torch
        self.matcher = grammar.matcher()
        self.bitmask = llguidance.torch.allocate_token_bitmask(1, grammar.ll_tokenizer.vocab_size)
        self.prompt_length = prompt_length
        self.eos_ids = grammar.eos_ids
        self.forbid_empty = forbid_empty
        self.consumed = 0

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        generated = input_ids[0, self.prompt_length :].tolist()
        for token in generated[self.consumed :]:
            if not self.matcher.consume_token(token):
                raise RuntimeError(f"constrained decoding went off the grammar: {self.matcher.get_error()}")
        self.consumed = len(generated)
        self._ll.fill_next_token_bitmask(self.matcher, self.bitmask, 0)
        masked = scores.float().cpu()
        self._ll.apply_token_bitmask_inplace(masked, self.bitmask)
        if self.forbid_empty and not generated and masked.shape[-1] > 0:
            masked[:, self.eos_ids] = float("-inf")
            if torch.isinf(masked).all():
                masked[:, self.eos_ids] = 0.0
        return masked.to(scores.device, scores.dtype)
