"""What one process gives the graph's nodes: config, store, models, source, output dir, policy."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from flashnews.config import Settings
from flashnews.tools.arxiv import Source
from flashnews.tools.embeddings import Embedder
from flashnews.tools.llm import Models
from flashnews.tools.store import Store

Progress = Callable[[str, int, int], None]


def _no_progress(step: str, done: int, total: int) -> None:
    return None


@dataclass
class Budget:
    """Limits of one run (`--max-calls/--max-tokens/--max-seconds`); None is no limit."""

    max_calls: int | None = None
    max_tokens: int | None = None
    max_seconds: float | None = None
    calls: int = 0
    tokens: int = 0
    started: float = field(default_factory=time.monotonic)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def limited(self) -> bool:
        return any(v is not None for v in (self.max_calls, self.max_tokens, self.max_seconds))

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def charge(self, tokens: int) -> None:
        """Count the tokens of a call that check_call let through."""
        with self._lock:
            self.tokens += tokens

    def allows(self, calls: int, tokens: int = 0, seconds: float = 0.0) -> bool:
        """Whether this much more work still fits."""
        return ((self.max_calls is None or self.calls + calls <= self.max_calls)
                and (self.max_tokens is None or self.tokens + tokens <= self.max_tokens)
                and (self.max_seconds is None or self.elapsed() + seconds <= self.max_seconds))

    def check_call(self, role: str) -> None:
        """Refuse a model call that the budget no longer has room for."""
        from flashnews.errors import BudgetExhausted

        with self._lock:  # calls in flight at once must not all take the last slot
            if self.allows(1):
                self.calls += 1
                return
        spent = (f"{self.calls} calls, {self.tokens} tokens, {self.elapsed():.0f} s "
                 f"(limits: calls {self.max_calls}, tokens {self.max_tokens}, "
                 f"seconds {self.max_seconds})")
        raise BudgetExhausted(f"budget exhausted before a {role} call: {spent}", step=role)


@dataclass
class Runtime:
    """Injected into every node; never stored in a checkpoint."""

    settings: Settings
    store: Store
    models: Models
    out_dir: Path
    source: Source | None = None
    policy: Literal["auto", "interactive"] = "auto"
    progress: Progress = field(default=_no_progress)
    budget: Budget = field(default_factory=Budget)
    unknown_outcome: Literal["resend", "assume-delivered"] | None = None
    """What publish does with a delivery of unknown outcome (`resume --resend` /
    `--assume-delivered`); None: it holds it for the editor."""
    embedder: Embedder | None = None
    """The ranking stage's sentence embedder (loaded on first use); None: the configured one."""
