"""The one model path: ChatOpenAI against an OpenAI-compatible endpoint, with accounting.

Every model call in flashnews goes through `Models.structured` or `Models.yes_no`, which time it,
record it in the run ledger, translate endpoint failures into one clear error, and (for structured
output) retry once with the validation error fed back before failing the node.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import openai
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from pydantic import BaseModel, SecretStr, ValidationError

from flashnews.config import OPENAI_BASE_URL, Role, Settings
from flashnews.errors import ModelError
from flashnews.models import ModelCall

if TYPE_CHECKING:  # runtime.py imports this module
    from flashnews.budget import Budget

log = logging.getLogger(__name__)
T = TypeVar("T", bound=BaseModel)


class Ledger(Protocol):
    """Where model calls are recorded (the store implements it)."""

    def record_call(self, call: ModelCall) -> None: ...


class NoLogprobs(ModelError):
    """The endpoint does not return token probabilities, so yes/no scoring is impossible."""


def make_chat_model(settings: Settings, role: Role, base_url: str) -> BaseChatModel:
    """A ChatOpenAI for one role, with timeout, retries and a token limit the server honours."""
    from langchain_openai import ChatOpenAI

    max_tokens = {"triage": settings.triage_max_tokens, "writer": settings.writer_max_tokens,
                  "critic": settings.critic_max_tokens}[role]
    send_max_tokens = settings.send_max_tokens
    if send_max_tokens is None:
        send_max_tokens = not base_url.startswith(OPENAI_BASE_URL)
    key = settings.api_key.get_secret_value() if settings.api_key else "no-key"
    return ChatOpenAI(
        model=settings.model_for(role),
        base_url=base_url,
        api_key=SecretStr(key),
        timeout=settings.request_timeout,
        max_retries=settings.max_retries,
        temperature=0,
        max_tokens=max_tokens,  # type: ignore[call-arg]  # a pydantic alias the stub does not list
        # llama.cpp ignores max_completion_tokens (what langchain-openai sends): without
        # max_tokens a small model can generate for minutes.
        extra_body={"max_tokens": max_tokens} if send_max_tokens else None,
    )


def _describe(exc: Exception, url: str, retries: int, key: str = "") -> str:
    """One line for an endpoint failure; never includes the API key or the server's echo of it."""
    if isinstance(exc, openai.AuthenticationError):
        return f"model endpoint {url} rejected the API key (HTTP 401); check OPENAI_API_KEY"
    if isinstance(exc, openai.PermissionDeniedError):
        return f"model endpoint {url} refused access (HTTP 403); check the key's permissions"
    if isinstance(exc, openai.APITimeoutError):
        return f"model endpoint {url} timed out after {retries} retries"
    if isinstance(exc, openai.APIConnectionError):
        cause = exc.__cause__ or exc
        return f"model endpoint {url} unreachable after {retries} retries ({type(cause).__name__})"
    if isinstance(exc, openai.RateLimitError):
        return f"model endpoint {url} kept rate-limiting (HTTP 429) after {retries} retries"
    if isinstance(exc, openai.NotFoundError):
        return f"model endpoint {url} answered 404: wrong base URL or unknown model name"
    if isinstance(exc, openai.APIStatusError):
        detail = " ".join(str(getattr(exc, "message", "") or "").split())[:200]
        if key:
            detail = detail.replace(key, "***")
        retried = f" after {retries} retries" if exc.status_code >= 500 else ""
        return f"model endpoint {url} failed with HTTP {exc.status_code}{retried}: {detail}"
    return f"model call failed: {type(exc).__name__}: {exc}"


class Models:
    """Chat models per role for one edition; the embedded server starts on first use.

    `factory` builds a chat model for a role given a base URL; tests inject a scripted fake.
    `budget` is the run's limits (flashnews/budget.py), charged and checked on every call;
    None: no limits.
    """

    def __init__(self, settings: Settings, ledger: Ledger, edition_id: str, *,
                 factory: Callable[[Role, str], BaseChatModel] | None = None,
                 budget: Budget | None = None) -> None:
        self.settings = settings
        self.ledger = ledger
        self.edition_id = edition_id
        self._injected = factory
        self.budget = budget
        self._factory = factory or (lambda role, url: make_chat_model(settings, role, url))
        self._models: dict[Role, BaseChatModel] = {}
        self._server: Any = None
        self._base_url: str | None = None
        self.start_seconds = 0.0
        """How long the embedded server took to start (0 when an endpoint is named)."""

    # lifecycle --------------------------------------------------------------------------------
    def base_url(self) -> str:
        if self._base_url is None:
            if self.settings.base_url:
                self._base_url = self.settings.base_url
            elif self.settings.api_key:
                self._base_url = OPENAI_BASE_URL
            else:
                self._base_url = self._start_embedded()
        return self._base_url

    def _start_embedded(self) -> str:
        from flashnews.tools.local_model import LocalServer, assemble, check_gguf

        s = self.settings
        started = time.monotonic()  # assembling the weights (once per data dir) counts too
        path = check_gguf(s.local_model) if s.local_model else assemble(s.home / "models")
        self._server = LocalServer(path, log_path=s.home / "logs" / "local-model.log",
                                   n_ctx=s.local_n_ctx, threads=s.local_threads,
                                   start_timeout=s.local_start_timeout)
        url = str(self._server.start())
        self.start_seconds = time.monotonic() - started
        return url

    def close(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> Models:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def chat(self, role: Role) -> BaseChatModel:
        if role not in self._models:
            # An injected factory brings its own models: no embedded server for those.
            url = self.base_url() if self._injected is None else (
                self.settings.base_url or "injected")
            self._models[role] = self._factory(role, url)
        return self._models[role]

    def name(self, role: Role) -> str:
        return self.settings.model_for(role)

    # calls -----------------------------------------------------------------------------------
    def _record(self, role: Role, started: float, msg: BaseMessage | None, ok: bool,
                prompt_hash: str) -> None:
        usage = getattr(msg, "usage_metadata", None) or {}
        if self.budget is not None:
            self.budget.charge(int(usage.get("input_tokens", 0)) +
                               int(usage.get("output_tokens", 0)))
        self.ledger.record_call(ModelCall(
            edition_id=self.edition_id, role=role, model=self.name(role),
            input_tokens=int(usage.get("input_tokens", 0)),
            output_tokens=int(usage.get("output_tokens", 0)),
            seconds=round(time.monotonic() - started, 3), ok=ok, prompt_hash=prompt_hash,
        ))

    def _invoke(self, role: Role, runnable: Any, messages: Sequence[BaseMessage],
                prompt_hash: str) -> Any:
        if self.budget is not None:
            self.budget.check_call(role)
        started = time.monotonic()
        try:
            out = runnable.invoke(list(messages))
        except openai.OpenAIError as exc:
            self._record(role, started, None, False, prompt_hash)
            key = self.settings.api_key.get_secret_value() if self.settings.api_key else ""
            raise ModelError(_describe(exc, self.base_url(), self.settings.max_retries, key),
                             step=role) from exc
        raw = out["raw"] if isinstance(out, dict) else out
        self._record(role, started, raw, True, prompt_hash)
        return out

    def structured(self, role: Role, schema: type[T], messages: Sequence[BaseMessage], *,
                   prompt_hash: str, check: Callable[[T], None] | None = None) -> T:
        """Call the model for a `schema` instance via function calling.

        Function calling is grammar-constrained on llama.cpp and native on OpenAI (json_schema
        mode fails on llama.cpp). Output that fails validation, or `check`, is retried once with
        the error fed back; a second failure fails the node with that error.
        """
        runnable = self.chat(role).with_structured_output(
            schema, method="function_calling", include_raw=True)
        history = list(messages)
        error = ""
        for attempt in (1, 2):
            out = self._invoke(role, runnable, history, prompt_hash)
            parsed, raw = out.get("parsed"), out.get("raw")
            error = ""
            if out.get("parsing_error") is not None:
                error = _short(out["parsing_error"])
            elif parsed is None:
                error = f"no call of function {schema.__name__}"
            elif check is not None:
                try:
                    check(parsed)
                except (ValueError, ValidationError) as exc:
                    error = _short(exc)
            if not error:
                return parsed
            log.warning("%s: invalid output (attempt %d): %s", role, attempt, error)
            history = [*messages, HumanMessage(
                f"Your previous answer was invalid: {error}\n"
                f"Previous answer: {_raw_text(raw)[:1500]}\n"
                f"Call {schema.__name__} again with arguments that fix this.")]
        raise ModelError(f"{role} model returned invalid output twice: {error}", step=role)

    def yes_no(self, role: Role, messages: Sequence[BaseMessage], *, prompt_hash: str) -> float:
        """P(yes) / (P(yes) + P(no)) of a one-token answer, from the top token probabilities."""
        runnable = self.chat(role).bind(
            logprobs=True, top_logprobs=10, max_tokens=1, extra_body={"max_tokens": 1})
        msg = self._invoke(role, runnable, messages, prompt_hash)
        return yes_probability(msg)


def yes_probability(msg: AIMessage) -> float:
    """Normalised probability of 'yes' among the top tokens of the first generated position."""
    content = (msg.response_metadata or {}).get("logprobs") or {}
    positions = content.get("content") or []
    if not positions or not positions[0].get("top_logprobs"):
        raise NoLogprobs("the endpoint returned no token probabilities")
    yes = no = 0.0
    for entry in positions[0]["top_logprobs"]:
        token = str(entry.get("token", "")).strip().lower()
        if token in ("yes", "y"):
            yes += math.exp(entry["logprob"])
        elif token in ("no", "n"):
            no += math.exp(entry["logprob"])
    if yes + no == 0.0:
        seen = [e.get("token") for e in positions[0]["top_logprobs"]]
        raise ModelError(f"yes/no answer had neither token among its top choices: {seen}")
    return yes / (yes + no)


def _short(exc: object) -> str:
    text = " ".join(str(exc).split())
    return text[:600]


def _raw_text(raw: BaseMessage | None) -> str:
    if raw is None:
        return ""
    calls = getattr(raw, "tool_calls", None)
    if calls:
        return str(calls[0].get("args"))
    return str(raw.content)


