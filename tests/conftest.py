"""Shared fixtures: an isolated data dir, the dev papers, a scripted fake model."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from flashnews.tools.arxiv import demo_snapshot, read_snapshot

from flashnews.config import Settings
from flashnews.models import Edition, Paper
from flashnews.service import EditionService
from flashnews.testing import FakeChatModel, fake_factory

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


@pytest.fixture
def papers() -> dict[str, Paper]:
    return {p.arxiv_id: p for p in read_snapshot(demo_snapshot())}


@pytest.fixture
def fake() -> FakeChatModel:
    return FakeChatModel()


@pytest.fixture
def service(settings: Settings, fake: FakeChatModel) -> EditionService:
    svc = EditionService(settings, model_factory=fake_factory(fake))
    yield svc
    svc.close()
