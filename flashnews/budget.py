"""What one run may spend (`--max-calls/--max-tokens/--max-seconds`), and how it reports
progress: plain records every layer may use."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

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
