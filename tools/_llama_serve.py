"""Run llama-cpp-python's server, exiting when the parent's stdin pipe closes.

Started by LocalServer. A thread blocks on stdin; EOF means the parent is gone (exited, crashed or
was killed), so the server ends itself instead of living on as an orphan.

The server also computes logits for the last token of each batch only (`last_token_logits`).
llama-cpp-python allows token probabilities only on a model created with `logits_all=True`, and
that mode makes llama.cpp compute the 151,936-way output layer for every prompt token and copy
each row into a numpy matrix, although a completion's probabilities need only the rows of the
tokens it predicts from: the prompt's last token and each generated token. Measured in-process
on 8 triage questions of the real day: 50.0 s with every row, 42.8 s with the last row only, with
the same probabilities (docs/benchmarks.md).

It also takes the log-softmax of the rows a completion reads only (`lazy_logprobs`): the stock
code takes it over every prompt row (n_tokens x 151,936 floats) to read one row, which was 27% of
a triage question's time in a profile of 5 questions (2.6 s of 9.7 s each).
"""

from __future__ import annotations

import inspect
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

_STOCK_EVAL: list[Callable[..., Any]] = []
"""llama-cpp-python's own `Llama.eval`, kept by `last_token_logits`."""
_STOCK_LOGPROBS: list[Callable[..., Any]] = []
"""llama-cpp-python's own `Llama.logits_to_logprobs`, kept by `last_token_logits`."""


def _watch_parent() -> None:
    sys.stdin.buffer.read()
    os.kill(os.getpid(), signal.SIGTERM)
    threading.Timer(5.0, lambda: os._exit(0)).start()


def eval_last_token(self: Any, tokens: Sequence[int]) -> None:
    """`Llama.eval` asking llama.cpp for the logits of each batch's last token only.

    Mirrors llama-cpp-python 0.3.36's eval with `logits_all=False` passed to the batch, and
    stores the one row it gets where the stock code stores all of them. Prompt rows before the
    last keep stale values, which only `echo` with token probabilities would read (refused by
    `refuse_echo_logprobs`).
    """
    import llama_cpp
    import numpy as np

    if not self._logits_all:  # no probabilities asked of this model: the stock code suffices
        stock = _STOCK_EVAL[0] if _STOCK_EVAL else type(self).eval
        return stock(self, tokens)
    self._ctx.kv_cache_seq_rm(-1, self.n_tokens, -1)
    for i in range(0, len(tokens), self.n_batch):
        batch = tokens[i: min(len(tokens), i + self.n_batch)]
        n_past = self.n_tokens
        n_tokens = len(batch)
        self._batch.set_batch(batch=batch, n_past=n_past, logits_all=False)
        self._ctx.decode(self._batch)
        self.input_ids[n_past: n_past + n_tokens] = batch
        last = llama_cpp.llama_get_logits_ith(self._ctx.ctx, -1)
        self.scores[n_past + n_tokens - 1, :] = np.ctypeslib.as_array(last,
                                                                     shape=(self._n_vocab,))
        self.n_tokens += n_tokens
        self._requires_eval = False


class RowLogprobs(Sequence[list[float]]):
    """The log-softmax of a logits matrix, computed one row at a time as rows are read.

    llama-cpp-python's completion slices the matrix from the prompt's last row and zips it with
    the completion's tokens, so only those rows are ever computed. Rows come as lists of floats,
    which its top-k sort of 151,936 entries compares faster than numpy scalars.
    """

    def __init__(self, logits: Any, stock: Callable[..., Any]) -> None:
        self._logits = logits
        self._stock = stock

    def __len__(self) -> int:
        return len(self._logits)

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, slice):
            return RowLogprobs(self._logits[key], self._stock)
        return self._stock(self._logits[key]).tolist()

    def __iter__(self) -> Iterator[list[float]]:
        for row in self._logits:
            yield self._stock(row).tolist()


def lazy_logprobs(logits: Any, axis: int = -1) -> Any:
    """`Llama.logits_to_logprobs`, deferred row by row for a matrix (see RowLogprobs)."""
    import numpy as np
    from llama_cpp import Llama

    stock = _STOCK_LOGPROBS[0] if _STOCK_LOGPROBS else Llama.logits_to_logprobs
    if stock is lazy_logprobs:
        raise RuntimeError("lazy_logprobs needs llama-cpp-python's own logits_to_logprobs kept")
    if isinstance(logits, np.ndarray) and logits.ndim == 2 and axis in (-1, 1):
        return RowLogprobs(logits, stock)
    return stock(logits, axis=axis)


def refuse_echo_logprobs(create: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap `Llama._create_completion` so echo with token probabilities is a clear error."""
    sig = inspect.signature(create)

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        bound = sig.bind(*args, **kwargs)
        if bound.arguments.get("echo") and bound.arguments.get("logprobs") is not None:
            raise ValueError("flashnews' model server computes no prompt-token logits: "
                             "echo with logprobs is not supported")
        return create(*args, **kwargs)

    # functools.wraps would copy the signature too; only the original is recorded.
    wrapped.__wrapped__ = create  # type: ignore[attr-defined]
    return wrapped


def last_token_logits() -> None:
    """Patch llama-cpp-python's Llama class (this process only) to compute last-token logits."""
    from llama_cpp import Llama

    if getattr(Llama.eval, "__name__", "") == eval_last_token.__name__:
        return
    _STOCK_EVAL.append(Llama.eval)
    _STOCK_LOGPROBS.append(Llama.logits_to_logprobs)
    # Patching the library's methods is the point here (method-assign is on purpose).
    Llama.eval = eval_last_token  # type: ignore[method-assign]
    Llama.logits_to_logprobs = staticmethod(lazy_logprobs)  # type: ignore[method-assign]
    Llama._create_completion = refuse_echo_logprobs(  # type: ignore[method-assign]
        Llama._create_completion)


def main() -> None:
    threading.Thread(target=_watch_parent, daemon=True).start()
    from llama_cpp.server.__main__ import main as serve

    last_token_logits()
    sys.argv[0] = "llama_cpp.server"
    serve()


if __name__ == "__main__":
    main()
