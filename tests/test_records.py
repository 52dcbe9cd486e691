"""Records, prompts and config: the boundaries everything else relies on."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from flashnews import prompts
from flashnews.config import EMBEDDED_MODEL_NAME, Settings
from flashnews.models import Edition, Paper, split_arxiv_id


def test_arxiv_ids_split_base_and_version() -> None:
    assert split_arxiv_id("2602.20732v2") == ("2602.20732", 2)
    assert split_arxiv_id("https://arxiv.org/abs/2602.20732") == ("2602.20732", None)
    assert split_arxiv_id("hep-th/9901001v1") == ("hep-th/9901001", 1)
    with pytest.raises(ValueError):
        split_arxiv_id("not-an-id")


def test_paper_normalises_ids_categories_and_whitespace() -> None:
    p = Paper.model_validate({"arxiv_id": "2602.20732v3", "title": "CHESS:  A\n title",
                              "abstract": "x  y", "primary_category": "cs.AI",
                              "categories": ["cs.LG"], "source_url": "ignored"})
    assert (p.arxiv_id, p.version, p.title, p.categories) == (
        "2602.20732", 3, "CHESS: A title", ["cs.AI", "cs.LG"])
    assert p.link == "https://arxiv.org/abs/2602.20732"
    assert p.short_name == "CHESS"
    with pytest.raises(ValidationError):
        Paper.model_validate({"arxiv_id": "2602.20732", "title": "t", "abstract": "  "})


def test_edition_ids_round_trip() -> None:
    e = Edition.parse("2026-02-25-digest")
    assert (e.date, e.format, e.id) == (dt.date(2026, 2, 25), "digest", "2026-02-25-digest")
    with pytest.raises(ValueError, match="expected DATE-FORMAT"):
        Edition.parse("2026-02-25")


def test_prompt_render_is_strict() -> None:
    p = prompts.parse("t", "comment\n## user\nHello {{name}} from {{place}}\n")
    assert p.render("user", name="a", place="b") == "Hello a from b"
    with pytest.raises(prompts.PromptError, match="missing"):
        p.render("user", name="a")
    with pytest.raises(prompts.PromptError, match="unknown"):
        p.render("user", name="a", place="b", extra=1)
    assert len(p.hash) == 12 and p.hash != prompts.parse("t", "## user\nHi {{name}}").hash


def test_shipped_prompts_load_with_their_sections() -> None:
    assert {"system", "relevance", "generated"} <= prompts.load("triage").sections.keys()
    assert {"description"} <= prompts.load("beat").sections.keys()
    assert {"system", "item", "lead"} <= prompts.load("writer_flash").sections.keys()
    assert {"system", "item", "lead"} <= prompts.load("writer_digest").sections.keys()
    assert {"system", "shared"} <= prompts.load("themes").sections.keys()
    assert {"system", "support"} <= prompts.load("critic").sections.keys()


def test_settings_choose_embedded_model_only_without_endpoint_or_key(monkeypatch) -> None:
    s = Settings()
    assert s.embedded and s.model_for("writer") == EMBEDDED_MODEL_NAME
    monkeypatch.setenv("FLASHNEWS_BASE_URL", "http://127.0.0.1:8000/v1")
    monkeypatch.setenv("FLASHNEWS_MODEL", "big")
    monkeypatch.setenv("FLASHNEWS_TRIAGE_MODEL", "small")
    s = Settings()
    assert not s.embedded
    assert (s.model_for("triage"), s.model_for("writer"), s.model_for("critic")) == (
        "small", "big", "big")


def test_config_never_prints_the_key(monkeypatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret-value-123456789")
    data = Settings().public_dict()
    assert "sk-secret" not in repr(data) and data["api_key"] == "set (hidden)"
    assert data["endpoint"] == "https://api.openai.com/v1"
