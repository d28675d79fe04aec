"""Decoding on llama.cpp's low-level API: a prompt prefix evaluated once and reused, K
replies to one prompt decoded as parallel sequences in one batch, prompt-lookup drafts for
greedy replies that copy their prompt, and a deadline that stops generation.

Why a loop of our own rather than Llama.create_chat_completion: that call re-reads the whole
prompt each time (its own prefix reuse starts the suffix wherever the match ends, so
positions are evaluated in batch shapes that depend on the previous call, and greedy text
with it), decodes one sequence at a time and cannot be stopped at a deadline.

Determinism. A prompt is always evaluated in chunks whose boundaries are multiples of
`chunk` counted from position 0, and a cached prefix is reused only up to the last whole
chunk of the prompt that produced it (never into generated tokens, which were decoded one
at a time). Every reused position's KV state therefore comes from the same batch shapes as
without the cache. A greedy reply is the argmax of the logits, the same choice as
llama.cpp's greedy sampler; sampled replies use the sampler chain llama-cpp-python builds
(top-k 40, top-p 0.95, min-p 0.05, temperature, seeded draw), one chain per sequence.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from agent.errors import InfraError

StopText = Callable[[list[int]], bool] | None  # True once a reply's tokens hold a stop string

CHUNK = 64  # prompt evaluation boundary: the granularity of prefix reuse
LOOKUP_NGRAM = (4, 3, 2)  # n-gram sizes tried, longest first, to find a draft in the history
LOOKUP_MAX = 16  # draft tokens verified per pass, at most


@dataclass
class Reply:
    """One decoded sequence: its tokens, text and why it ended."""

    tokens: list[int] = field(default_factory=list)
    text: str = ""
    finish_reason: str = ""


@dataclass
class DecodeStats:
    """What one decode call cost: prompt tokens evaluated and reused, passes and drafts."""

    prompt_tokens: int = 0
    cached_tokens: int = 0
    prompt_seconds: float = 0.0
    decode_seconds: float = 0.0
    passes: int = 0  # llama_decode calls during generation
    drafted: int = 0  # prompt-lookup tokens proposed
    accepted: int = 0  # ... and kept

    def add(self, other: DecodeStats) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


def lookup_draft(history: Sequence[int], max_tokens: int,
                 ngrams: Sequence[int] = LOOKUP_NGRAM) -> list[int]:
    """Tokens that followed the latest earlier occurrence of the history's last n-gram.

    A repair reply copies most of the program in its prompt, so what followed the same
    n-gram there is a cheap guess at what comes next (prompt-lookup decoding)."""
    n_hist = len(history)
    arr = np.asarray(history, dtype=np.int64)
    for n in ngrams:
        if n_hist <= n:
            continue
        tail = arr[-n:]
        # candidate starts: positions where the n-gram occurs, not the tail itself
        windows = np.lib.stride_tricks.sliding_window_view(arr[:-1], n)
        hits = np.flatnonzero((windows == tail).all(axis=1))
        if hits.size:
            start = int(hits[-1]) + n
            return [int(t) for t in arr[start:start + max_tokens]]
    return []


class Decoder:
    """The decode loop over one llama.cpp context (seq 0 holds the reusable prefix)."""

    def __init__(self, llm: Any, *, n_seq: int, chunk: int = CHUNK,
                 prefix_cache: bool = True) -> None:
        import llama_cpp

        self.low = llama_cpp
        self.llm = llm
        self.ctx = llm._ctx.ctx
        self.mem = llama_cpp.llama_get_memory(self.ctx)
        self.vocab = llama_cpp.llama_model_get_vocab(llm._model.model)
        self.n_vocab = llm.n_vocab()
        self.n_seq = n_seq
        self.chunk = chunk
        self.prefix_cache = prefix_cache
        self.n_batch = max(chunk, n_seq, LOOKUP_MAX + 1)
        self.batch = llama_cpp.llama_batch_init(self.n_batch, 0, n_seq)
        # tokens of seq 0 whose KV state came from whole canonical chunks of a prompt
        self._canonical: list[int] = []
        self._cache_key: object = None

    def close(self) -> None:
        if self.batch is not None:
            self.low.llama_batch_free(self.batch)
            self.batch = None

    # -- batches -------------------------------------------------------------------------

    def _fill(self, items: Sequence[tuple[int, int, int, bool]]) -> None:
        """Put (token, position, seq_id, want_logits) items into the batch."""
        b = self.batch
        b.n_tokens = len(items)
        for i, (tok, pos, seq, logits) in enumerate(items):
            b.token[i] = tok
            b.pos[i] = pos
            b.n_seq_id[i] = 1
            b.seq_id[i][0] = seq
            b.logits[i] = logits

    def _decode(self) -> None:
        rc = self.low.llama_decode(self.ctx, self.batch)
        if rc != 0:
            raise InfraError(f"llama.cpp could not decode a batch of {self.batch.n_tokens} "
                             f"token(s) (llama_decode returned {rc}: no room in the KV cache)")

    def _logits(self, i: int) -> np.ndarray:
        ptr = self.low.llama_get_logits_ith(self.ctx, i)
        return np.ctypeslib.as_array(ptr, shape=(self.n_vocab,))

    # -- prompt --------------------------------------------------------------------------

    def _reusable(self, tokens: Sequence[int], key: object) -> int:
        """Prompt positions whose cached KV state is valid and canonical (whole chunks)."""
        if not self.prefix_cache or key != self._cache_key:
            return 0
        common = 0
        for a, b in zip(self._canonical, tokens, strict=False):
            if a != b:
                break
            common += 1
        common = min(common, len(tokens) - 1)  # the last token is evaluated for its logits
        return common // self.chunk * self.chunk

    def eval_prompt(self, tokens: Sequence[int], key: object, stats: DecodeStats,
                    deadline: float | None) -> bool:
        """Evaluate the prompt into seq 0 (reusing what the cache allows); False when the
        deadline passed first. The last token's logits are at batch index n_tokens - 1."""
        start = time.perf_counter()
        reuse = self._reusable(tokens, key)
        for seq in range(1, self.n_seq):
            self.low.llama_memory_seq_rm(self.mem, seq, -1, -1)
        # a memory that cannot drop part of a sequence (recurrent models) starts afresh
        if reuse == 0 or not self.low.llama_memory_seq_rm(self.mem, 0, reuse, -1):
            reuse = 0
            self.low.llama_memory_clear(self.mem, True)
        self._cache_key = key
        self._canonical = list(tokens[:reuse])
        n = len(tokens)
        for lo in range(reuse, n, self.chunk):
            if deadline is not None and time.time() >= deadline:
                stats.prompt_seconds += time.perf_counter() - start
                return False
            hi = min(lo + self.chunk, n)
            self._fill([(tokens[p], p, 0, p == n - 1) for p in range(lo, hi)])
            self._decode()
            if hi - lo == self.chunk:  # only whole chunks are canonical
                self._canonical.extend(tokens[lo:hi])
        stats.prompt_tokens += n - reuse
        stats.cached_tokens += reuse
        stats.prompt_seconds += time.perf_counter() - start
        return True

    # -- generation ----------------------------------------------------------------------

    def _sampler(self, temperature: float, seed: int) -> Any:
        from llama_cpp._internals import LlamaSampler

        s = LlamaSampler()
        s.add_top_k(40)
        s.add_typical(1.0, 1)
        s.add_top_p(0.95, 1)
        s.add_min_p(0.05, 1)
        s.add_temp(temperature)
        s.add_dist(seed & 0xFFFFFFFF)
        return s

    def _pick(self, sampler: Any, i: int) -> int:
        if sampler is None:
            return int(np.argmax(self._logits(i)))
        return int(self.low.llama_sampler_sample(sampler.sampler, self.ctx, i))

    def generate(self, tokens: Sequence[int], temperatures: Sequence[float],
                 seeds: Sequence[int], *, max_new_tokens: int, key: object = None,
                 deadline: float | None = None, lookup: bool = False,
                 stop_text: StopText = None) -> tuple[list[Reply], DecodeStats]:
        """Decode one reply per temperature from the same prompt.

        lookup: prompt-lookup drafts for a single greedy reply, each kept while it is the
        model's own argmax. Not byte-identical to plain decoding, since llama.cpp's CPU
        kernels give a row other logits inside a batch of another shape (BENCHMARKS.md) and
        a near-tie can flip; repeatable all the same.
        stop_text(tokens) -> bool ends a reply early (stop strings)."""
        k = len(temperatures)
        if not 1 <= k <= self.n_seq:
            raise ValueError(f"{k} replies asked; this context decodes 1..{self.n_seq}")
        stats = DecodeStats()
        replies = [Reply() for _ in range(k)]
        if not self.eval_prompt(tokens, key, stats, deadline):
            for r in replies:
                r.finish_reason = "deadline"
            return replies, stats
        n_prompt = len(tokens)
        samplers = [None if t <= 0 else self._sampler(t, s)
                    for t, s in zip(temperatures, seeds, strict=True)]
        for seq in range(1, k):
            self.low.llama_memory_seq_cp(self.mem, 0, seq, -1, -1)
        start = time.perf_counter()
        last = self.batch.n_tokens - 1
        nxt = [self._pick(s, last) for s in samplers]
        try:
            if k == 1 and lookup and samplers[0] is None:
                self._greedy_lookup(tokens, nxt[0], replies[0], stats, max_new_tokens,
                                    deadline, stop_text)
            else:
                self._parallel(n_prompt, nxt, samplers, replies, stats, max_new_tokens,
                               deadline, stop_text)
        finally:
            for s in samplers:
                if s is not None:
                    s.close()
        stats.decode_seconds = time.perf_counter() - start
        return replies, stats

    def _ended(self, reply: Reply, tok: int, max_new_tokens: int, stop_text: StopText) -> bool:
        """Append tok (unless it ends generation) and say whether the reply is finished."""
        if self.low.llama_vocab_is_eog(self.vocab, tok):
            reply.finish_reason = "stop"
            return True
        reply.tokens.append(tok)
        if stop_text is not None and stop_text(reply.tokens):
            reply.finish_reason = "stop"
            return True
        if len(reply.tokens) >= max_new_tokens:
            reply.finish_reason = "length"
            return True
        return False

    def _parallel(self, n_prompt: int, nxt: list[int], samplers: list[Any],
                  replies: list[Reply], stats: DecodeStats, max_new_tokens: int,
                  deadline: float | None, stop_text: StopText) -> None:
        active = [i for i in range(len(replies))
                  if not self._ended(replies[i], nxt[i], max_new_tokens, stop_text)]
        while active:
            if deadline is not None and time.time() >= deadline:
                for i in active:
                    replies[i].finish_reason = "deadline"
                return
            self._fill([(nxt[i], n_prompt + len(replies[i].tokens) - 1, i, True)
                        for i in active])
            self._decode()
            stats.passes += 1
            still = []
            for j, i in enumerate(active):
                nxt[i] = self._pick(samplers[i], j)
                if not self._ended(replies[i], nxt[i], max_new_tokens, stop_text):
                    still.append(i)
            active = still

    def _greedy_lookup(self, prompt: Sequence[int], first: int, reply: Reply,
                       stats: DecodeStats, max_new_tokens: int, deadline: float | None,
                       stop_text: StopText) -> None:
        history = list(prompt)
        if self._ended(reply, first, max_new_tokens, stop_text):
            return
        history.append(first)
        # A pass over 1 + d rows costs more than one over a single row, so the draft length
        # follows what the last pass kept: doubled after a full match, cut back to what was
        # kept (at least 1) otherwise.
        width = 4
        while True:
            if deadline is not None and time.time() >= deadline:
                reply.finish_reason = "deadline"
                return
            pos = len(history) - 1  # position of the last accepted token, not yet in KV
            room = max_new_tokens - len(reply.tokens)
            draft = lookup_draft(history, min(width, max(room - 1, 0)))
            kept = stats.accepted
            self._fill([(history[-1], pos, 0, True)]
                       + [(t, pos + 1 + j, 0, True) for j, t in enumerate(draft)])
            self._decode()
            stats.passes += 1
            stats.drafted += len(draft)
            for j in range(len(draft) + 1):
                tok = int(np.argmax(self._logits(j)))
                if self._ended(reply, tok, max_new_tokens, stop_text):
                    self.low.llama_memory_seq_rm(self.mem, 0, pos + 1 + j, -1)
                    return
                history.append(tok)
                if j < len(draft) and tok == draft[j]:
                    stats.accepted += 1
                    continue
                # drafts after j are not what the model says: drop their KV state
                self.low.llama_memory_seq_rm(self.mem, 0, pos + 1 + j, -1)
                break
            if draft:
                kept = stats.accepted - kept
                width = min(2 * width, LOOKUP_MAX) if kept == len(draft) else max(kept, 1)
