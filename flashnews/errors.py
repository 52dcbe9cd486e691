"""Errors that end a run with one clear line and a documented exit code."""

from __future__ import annotations


class FlashnewsError(RuntimeError):
    """Base of every error flashnews reports to a user (never with a traceback).

    A RuntimeError so that LangGraph Server passes the message on to API clients (it replaces
    the message of other exception types with "An internal error occurred"); the messages are
    written for users and never hold a secret.
    """

    exit_code = 1
    step: str | None = None

    def __init__(self, message: str, *, step: str | None = None) -> None:
        super().__init__(message)
        if step:
            self.step = step


class ConfigError(FlashnewsError):
    """A missing or invalid configuration value."""

    exit_code = 2


class SourceError(FlashnewsError):
    """The paper source could not be read (missing file, malformed record or response)."""

    exit_code = 6
    step = "fetch"
    outcome = "source-error"


class MalformedResponse(SourceError):
    """The source answered with something that is not a valid listing."""

    outcome = "malformed-response"


class RateLimited(SourceError):
    """arXiv kept answering 429/503 after every retry."""

    exit_code = 7
    outcome = "rate-limited"


class ModelError(FlashnewsError):
    """The model endpoint failed: unreachable, rejected the key, or kept returning invalid output."""

    exit_code = 4


class LocalModelError(ModelError):
    """The embedded model could not be assembled or its server could not start."""


class PublishError(FlashnewsError):
    """A channel could not be delivered (e.g. the output dir is not writable)."""

    exit_code = 5
    step = "publish"


class BudgetExhausted(FlashnewsError):
    """The run's call, token or time budget has no room for work it cannot do without."""

    exit_code = 10
    outcome = "budget-exhausted"


class EditionLocked(FlashnewsError):
    """Another process is running the same edition."""

    exit_code = 8


class StorageError(FlashnewsError):
    """The database (the SQLite file, or PostgreSQL) cannot be read or written: corrupt, full,
    unreachable. The message names the file (or server, without its password) and what to do."""

    exit_code = 13
    outcome = "storage-error"


class EvalRegression(FlashnewsError):
    """An eval metric fell below its baseline by more than its tolerance."""

    exit_code = 11


class ReplayMismatch(FlashnewsError):
    """An eval replay met a request no cassette holds: a prompt, a request or a dataset changed
    since the cassettes were recorded."""

    exit_code = 12
