"""The one HTTP client of every source and channel: a session, a timeout on every request,
arXiv's politeness (a minimum gap between requests), and tenacity retries with exponential
backoff, or the server's Retry-After, on 429, 5xx, timeouts and connection errors.

Each caller keeps its own judgement of what a final failure means (arXiv says "rate limited",
the webhook "unknown delivery"); this module only says how to ask and how long to wait.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

import requests
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

T = TypeVar("T")

USER_AGENT = "flashnews (arXiv digest)"


class Transient(Exception):
    """A failure worth trying again: HTTP 429 or 5xx, or a caller's own (an empty page)."""

    def __init__(self, message: str, status: int | None = None,
                 retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


def _retry_after(resp: requests.Response) -> float | None:
    after = resp.headers.get("Retry-After")
    return float(after) if after and after.isdigit() else None


class HttpClient:
    """Polite, retrying HTTP for one source or channel.

    `delay`: seconds between the start of one request and the next (arXiv asks for 3).
    `retries`: tries after the first. `backoff`: the first wait, doubled at each try, at most
    `max_wait` (a Retry-After the server sends is honoured within that cap).
    `sleep` is injected so tests do not wait.
    """

    def __init__(self, *, delay: float = 0.0, retries: int = 4, timeout: float = 30.0,
                 backoff: float = 5.0, max_wait: float = 300.0,
                 sleep: Callable[[float], None] = time.sleep,
                 user_agent: str = USER_AGENT) -> None:
        self.delay = delay
        self.retries = retries
        self.timeout = timeout
        self.backoff = backoff
        self.max_wait = max_wait
        self.sleep = sleep
        self.user_agent = user_agent
        self.requests = 0
        """Requests sent (every try counts)."""
        self._last: float | None = None
        self._session = requests.Session()

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        after = getattr(exc, "retry_after", None)
        return float(min(max(after or 0.0, self.backoff * 2 ** (state.attempt_number - 1)),
                         self.max_wait))

    def retrying(self, fn: Callable[[], T]) -> T:
        """`fn()`, tried again on Transient, timeouts and connection errors; the last
        exception is raised as it is when the tries run out."""
        return Retrying(
            retry=retry_if_exception_type((Transient, requests.Timeout,
                                           requests.ConnectionError)),
            stop=stop_after_attempt(self.retries + 1), wait=self._wait, sleep=self.sleep,
            reraise=True)(fn)

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        """One request, after the polite gap; 429 and 5xx raise Transient."""
        if self._last is not None and self.delay:
            gap = self.delay - (time.monotonic() - self._last)
            if gap > 0:
                self.sleep(gap)
        self.requests += 1
        headers = {"User-Agent": self.user_agent, **kwargs.pop("headers", {})}
        try:
            resp = self._session.request(method, url, timeout=self.timeout, headers=headers,
                                         **kwargs)
        finally:
            self._last = time.monotonic()
        if resp.status_code == 429 or resp.status_code >= 500:
            raise Transient(f"HTTP {resp.status_code}", resp.status_code, _retry_after(resp))
        return resp

    def get(self, url: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", url, **kwargs)
