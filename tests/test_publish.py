"""Publishing: every channel, the outbox (exactly once across failures and resumes), corrections.

The outbox and correction tests run on SQLite and on a real PostgreSQL server (`backend`).
"""

from __future__ import annotations

import html
import itertools
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import feedparser
import pytest
from pydantic import SecretStr

from flashnews.config import Settings
from flashnews.service import EditionService
from flashnews.testing import HashingEmbedder, fake_factory
from flashnews.tools.publish import (
    Publication,
    PublishedItem,
    build_publication,
    render_feed,
    render_html,
    webhook_text,
    with_corrections,
)
from flashnews.tools.store import Correction
from tests.conftest import DEMO

ALL = ["markdown", "html", "json", "atom", "webhook"]


class Hook:
    """A Slack-style webhook receiver on 127.0.0.1 that answers scripted status codes."""

    def __init__(self) -> None:
        self.statuses: list[int] = []  # answers to the next requests; then 200
        self.received: list[dict[str, Any]] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                status = hook.statuses.pop(0) if hook.statuses else 200
                hook.received.append({"status": status, "json": json.loads(body),
                                      "key": self.headers.get("Idempotency-Key"),
                                      "type": self.headers.get("Content-Type")})
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"ok" if status == 200 else b"no_service")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/services/T000/B000/secret"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def accepted(self) -> list[dict[str, Any]]:
        return [r for r in self.received if r["status"] == 200]


@pytest.fixture
def hook() -> Iterator[Hook]:
    h = Hook()
    yield h
    h.server.shutdown()


def _all_channels(settings: Settings, hook: Hook) -> Settings:
    return settings.model_copy(update={"channels": ALL, "webhook_url": SecretStr(hook.url),
                                       "webhook_backoff": 0.01})


def _mtimes(out: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in out.iterdir()}


def test_every_channel_is_delivered_once(db_settings, fake, hook, tmp_path) -> None:
    svc = EditionService(_all_channels(db_settings, hook), model_factory=fake_factory(fake),
                         embedder=HashingEmbedder())
    out = tmp_path / "out"
    result = svc.run(DEMO, source=None, out_dir=out)
    assert result.outcome == "published", result.message
    assert sorted(p.name for p in out.iterdir()) == [
        f"{DEMO.id}.html", f"{DEMO.id}.json", f"{DEMO.id}.md", "feed.json", "feed.xml",
        "index.html"]
    md = (out / f"{DEMO.id}.md").read_text()
    data = json.loads((out / f"{DEMO.id}.json").read_text())
    assert data["edition_id"] == DEMO.id and data["revision"] == 0 and data["markdown"] == md
    assert len(data["items"]) == 7 and len(data["assessments"]) == 31
    assert all({"score", "hype", "title", "paper_id"} <= a.keys() for a in data["assessments"])
    assert [a["score"] for a in data["assessments"]] == sorted(
        (a["score"] for a in data["assessments"]), reverse=True)
    assert len(hook.accepted) == 1
    post = hook.accepted[0]
    assert post["type"] == "application/json" and post["key"] == f"flashnews:{DEMO.id}:r0"
    first = data["items"][0]
    assert f"<{first['link']}|" in post["json"]["text"]
    assert f"Score: {first['score']} | Hype: {first['hype']}" in post["json"]["text"]
    status = {d.channel: (d.status, d.attempts) for d in svc.store.deliveries(DEMO.id)}
    assert status == {c: ("delivered", 1) for c in ALL}
    # The webhook's path is its secret: the outbox keeps only the origin.
    assert "secret" not in json.dumps([d.model_dump() for d in svc.store.deliveries(DEMO.id)])

    before, calls = _mtimes(out), len(fake.calls)
    again = svc.run(DEMO, source=None, out_dir=out)
    assert again.outcome == "already-published"
    assert _mtimes(out) == before and len(hook.received) == 1 and len(fake.calls) == calls
    svc.close()


def test_a_failed_channel_is_retried_alone_on_resume(db_settings, fake, hook, tmp_path) -> None:
    hook.statuses = [503] * 4  # every attempt of the first run
    svc = EditionService(_all_channels(db_settings, hook), model_factory=fake_factory(fake),
                         embedder=HashingEmbedder())
    out = tmp_path / "out"
    failed = svc.run(DEMO, source=None, out_dir=out)
    assert (failed.outcome, failed.step, failed.exit_code) == ("failed", "publish", 5)
    assert "webhook" in failed.message and "HTTP 503" in failed.message
    assert "delivered: markdown, html, json, atom" in failed.message
    assert "secret" not in failed.message
    assert len(hook.received) == 4 and not hook.accepted
    rows = {d.channel: d for d in svc.store.deliveries(DEMO.id)}
    assert rows["webhook"].status == "failed" and "503" in (rows["webhook"].error or "")
    assert svc.store.edition(DEMO.id).status == "failed"  # type: ignore[union-attr]

    before, calls = _mtimes(out), len(fake.calls)
    ok = svc.run(DEMO, source=None, out_dir=out, resume_only=True)
    assert ok.outcome == "published", ok.message
    assert len(hook.accepted) == 1 and len(hook.received) == 5
    assert _mtimes(out) == before  # the delivered files were not written again
    assert len(fake.calls) == calls
    rows = {d.channel: d for d in svc.store.deliveries(DEMO.id)}
    assert (rows["webhook"].status, rows["webhook"].attempts) == ("delivered", 2)
    assert rows["markdown"].attempts == 1
    svc.close()


def test_a_4xx_webhook_fails_fast_with_the_answer(settings, fake, hook, tmp_path) -> None:
    hook.statuses = [404]
    svc = EditionService(_all_channels(settings, hook), model_factory=fake_factory(fake),
                         embedder=HashingEmbedder())
    failed = svc.run(DEMO, source=None, out_dir=tmp_path / "out")
    assert failed.outcome == "failed" and "answered HTTP 404: no_service" in failed.message
    assert len(hook.received) == 1  # a client error is not retried
    svc.close()


def test_correction_updates_every_channel_and_the_feed_entry(db_settings, fake, hook,
                                                             tmp_path) -> None:
    svc = EditionService(_all_channels(db_settings, hook), model_factory=fake_factory(fake),
                         embedder=HashingEmbedder())
    out = tmp_path / "out"
    assert svc.run(DEMO, source=None, out_dir=out).outcome == "published"
    digest = DEMO.model_copy(update={"format": "digest"})
    assert svc.run(digest, source=None, out_dir=out).outcome == "published"
    feed = feedparser.parse((out / "feed.xml").read_text())
    assert not feed.bozo and len(feed.entries) == 2
    calls = len(fake.calls)

    original = (out / f"{DEMO.id}.md").read_text()
    lead = original.split("\n\n")[1]
    fixed = original.replace(lead, "Corrected lead: caches, decoding and prefill on new hardware.")
    revision = svc.correct(DEMO, "The KnapSpec item misnamed its baseline.", fixed)
    assert revision == 1 and svc.store.edition(DEMO.id).status == "correcting"  # type: ignore[union-attr]
    done = svc.run(DEMO, source=None, out_dir=None, resume_only=True)
    assert done.outcome == "published", done.message
    assert "correction 1" in done.message
    assert len(fake.calls) == calls  # a correction calls no model

    md = (out / f"{DEMO.id}.md").read_text()
    note = "The KnapSpec item misnamed its baseline."
    assert md.startswith("# Inference Ecosystem — Flash News\n**2026-02-25**\n\n> **Corrected ")
    assert note in md and "Corrected lead: caches" in md and lead not in md
    assert note in (out / f"{DEMO.id}.html").read_text()
    data = json.loads((out / f"{DEMO.id}.json").read_text())
    assert data["revision"] == 1 and data["corrections"][0]["note"] == note
    feed = feedparser.parse((out / "feed.xml").read_text())
    assert not feed.bozo and len(feed.entries) == 2  # updated, not added
    entry = next(e for e in feed.entries if e.id == f"urn:flashnews:edition:{DEMO.id}")
    assert entry.title.endswith("(corrected)") and note in entry.content[0].value
    # The JSON Feed beside it: the same two editions, the corrected one updated and first.
    jfeed = json.loads((out / "feed.json").read_text())
    assert [i["id"] for i in jfeed["items"]] == [f"urn:flashnews:edition:{DEMO.id}",
                                                  f"urn:flashnews:edition:{digest.id}"]
    assert jfeed["items"][0]["title"].endswith("(corrected)")
    assert note in jfeed["items"][0]["content_text"]
    assert jfeed["items"][0]["_flashnews"]["revision"] == 1
    assert entry.updated_parsed >= entry.published_parsed
    assert [p["key"] for p in hook.accepted] == [f"flashnews:{DEMO.id}:r0",
                                                 f"flashnews:{digest.id}:r0",
                                                 f"flashnews:{DEMO.id}:r1"]
    assert note in hook.accepted[-1]["json"]["text"]
    row = svc.store.edition(DEMO.id)
    assert row is not None and (row.status, row.revision) == ("published", 1)
    assert svc.run(DEMO, source=None, out_dir=None).outcome == "already-published"
    svc.close()


def test_a_correction_with_an_invented_number_is_held(settings, fake, tmp_path) -> None:
    svc = EditionService(settings, model_factory=fake_factory(fake),
                         embedder=HashingEmbedder())
    out = tmp_path / "out"
    svc.run(DEMO, source=None, out_dir=out)
    text = (out / f"{DEMO.id}.md").read_text()
    first_item = text.index("**[")
    bad = text[:first_item] + text[first_item:].replace(": ", ": It is 417x faster. ", 1)
    svc.correct(DEMO, "Added a speedup figure.", bad)
    held = svc.run(DEMO, source=None, out_dir=None, resume_only=True)
    assert held.outcome == "needs-review" and "blocking" in held.message
    assert (out / f"{DEMO.id}.md").read_text() == text  # the published text stays
    svc.close()


def test_only_a_published_edition_can_be_corrected(service) -> None:
    with pytest.raises(Exception, match="is not published \\(never run\\)"):
        service.correct(DEMO, "note")


# renderers ---------------------------------------------------------------------------------------

def _pub(**kw: Any) -> Publication:
    base: dict[str, Any] = {
        "edition_id": "2026-02-25-flash", "date": "2026-02-25", "format": "flash",
        "title": "Inference Ecosystem — Flash News",
        "markdown": "# Inference Ecosystem — Flash News\n**2026-02-25**\n\nLead <b>x</b>.\n\n"
                    "**[CHESS](https://arxiv.org/abs/2602.20732)**: Text. Score: 95 | Hype: 65\n",
        "items": [PublishedItem(arxiv_id="2602.20732", title="CHESS: a <fast> & cheap cache",
                                link="https://arxiv.org/abs/2602.20732", section="main",
                                score=95, hype=65)],
        "published_at": "2026-02-25T14:00:00+00:00", "updated_at": "2026-02-25T14:00:00+00:00"}
    return Publication(**(base | kw))


def test_html_is_a_standalone_escaped_phone_page() -> None:
    page = render_html(_pub())
    assert page.startswith("<!doctype html>")
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    assert "&lt;b&gt;x&lt;/b&gt;" in page and "<b>x</b>" not in page  # raw HTML is escaped
    assert '<a href="https://arxiv.org/abs/2602.20732">CHESS</a>' in page
    assert "<script" not in page


def test_correction_notes_sit_under_the_date_line() -> None:
    note = Correction(edition_id="e", revision=1, note="Fixed a name.", at="2026-03-01T10:00:00")
    text = with_corrections(_pub().markdown, [note])
    assert text.splitlines()[:4] == ["# Inference Ecosystem — Flash News", "**2026-02-25**", "",
                                     "> **Corrected 2026-03-01:** Fixed a name."]


def test_feed_is_valid_atom_with_one_entry_per_edition(tmp_path) -> None:
    settings = Settings(home=tmp_path, channels=["markdown", "html", "atom"],
                        public_url="https://news.example.org/flash/")
    pubs = [_pub(), _pub(edition_id="2026-02-26-flash", date="2026-02-26")]
    feed = feedparser.parse(render_feed(pubs, tmp_path, settings))
    assert not feed.bozo, feed.bozo_exception
    assert feed.feed.title == "Inference Ecosystem — Flash News"
    assert [e.link for e in feed.entries] == [
        "https://news.example.org/flash/2026-02-26-flash.html",
        "https://news.example.org/flash/2026-02-25-flash.html"]
    assert "CHESS" in feed.entries[0].content[0].value


def test_json_feed_is_json_feed_1_1_and_keeps_what_others_published(tmp_path) -> None:
    from flashnews.tools.publish import merge_json_feeds, render_json_feed

    settings = Settings(home=tmp_path, channels=["markdown", "html", "atom"],
                        public_url="https://news.example.org/flash/")
    pubs = [_pub(), _pub(edition_id="2026-02-26-flash", date="2026-02-26",
                         published_at="2026-02-27T01:00:00+00:00",
                         updated_at="2026-02-27T01:00:00+00:00")]
    feed = render_json_feed(pubs, tmp_path, settings)
    # What the spec requires: its version URL, a title, and each item's unique id and content.
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert feed["title"] == "Inference Ecosystem — Flash News"
    assert feed["feed_url"] == "https://news.example.org/flash/feed.json"
    ids = [i["id"] for i in feed["items"]]
    assert ids == ["urn:flashnews:edition:2026-02-26-flash", "urn:flashnews:edition:2026-02-25-flash"]
    first = feed["items"][0]
    assert first["url"] == "https://news.example.org/flash/2026-02-26-flash.html"
    assert "CHESS" in first["content_html"] and first["content_text"].startswith("# ")
    papers = first["_flashnews"]["papers"]
    assert papers and all({"arxiv_id", "score", "hype", "link"} <= p.keys() for p in papers)
    json.dumps(feed)  # serialisable as is

    # An item another data dir published to this output dir is kept; ours are replaced.
    other = {"id": "urn:flashnews:edition:2026-02-20-flash", "content_text": "x",
             "date_modified": "2026-02-21T01:00:00+00:00"}
    stale = {**feed["items"][1], "title": "old title"}
    merged = merge_json_feeds(feed, json.dumps({**feed, "items": [stale, other]}))
    assert [i["id"] for i in merged["items"]] == [*ids, other["id"]]
    assert merged["items"][1]["title"] != "old title"
    # A file that is not a JSON feed is replaced by ours.
    for broken in ("not json", "[]", '{"items": 3}'):
        assert merge_json_feeds(feed, broken) == feed


def test_webhook_text_escapes_slack_markup() -> None:
    text = webhook_text(_pub())
    assert "<https://arxiv.org/abs/2602.20732|CHESS: a &lt;fast&gt; &amp; cheap cache>" in text
    assert "Score: 95 | Hype: 65" in text


def test_webhook_channel_needs_its_url(tmp_path) -> None:
    with pytest.raises(ValueError, match="FLASHNEWS_WEBHOOK_URL"):
        Settings(home=tmp_path, channels=["markdown", "webhook"])
    assert Settings(home=tmp_path, channels="markdown, html").channels == ["markdown", "html"]


def _published_draft() -> Publication:
    from flashnews.evals import schema
    from flashnews.models import Draft, DraftItem

    _, drafts = schema.read("drafts", schema.DraftCase)
    case = next(c for c in drafts if c.case_id == "clean-flash")
    draft = Draft(edition_id="2026-02-25-flash", format="flash", markdown=case.markdown,
                  items=[DraftItem(**i.model_dump()) for i in case.items])
    return build_publication(edition_id=draft.edition_id, date="2026-02-25", fmt="flash",
                             revision=0, draft=draft, papers=schema.papers(), assessments={},
                             corrections=[], published_at=None)


def test_json_carries_the_abstract_sentence_behind_every_number_and_claim() -> None:
    from flashnews.evals import schema
    from flashnews.text.claims import quantities, sentences

    papers = schema.papers()
    pub = _published_draft()
    data = json.loads(pub.model_dump_json())
    assert data["schema_version"] == 4
    for item in data["items"]:
        abstract = papers[item["arxiv_id"]].abstract
        claims = item["evidence"]
        # Every sentence of the body is a claim with its best abstract sentence.
        assert {s for s in sentences(item["body"])} <= {c["claim"].split(": ", 1)[-1]
                                                       for c in claims}, item["arxiv_id"]
        for c in claims:
            assert c["support"] and (c["support"] in abstract or c["support"] ==
                                     papers[item["arxiv_id"]].title)
        # Every number of the body, with the abstract sentence that states it.
        numbers = [n for c in claims for n in c["numbers"]]
        assert [n["text"] for n in numbers] == [q.text for q in quantities(item["body"])]
        assert all(n["status"] == "supported" and n["sentence"] in abstract for n in numbers)


def test_html_opens_each_item_onto_its_abstract_sentences() -> None:
    pub = _published_draft()
    page = render_html(pub)
    assert "<script" not in page
    assert page.count('<details class="sources">') == len(pub.items)
    for item in pub.items:
        for c in item.evidence:
            assert html.escape(c.support) in page
    # Each item's sources follow the item itself, before the next item.
    body = page[page.index("<main>"):]
    links = [body.index(f'href="{i.link}"') for i in pub.items]
    for a, b in itertools.pairwise([*links, len(body)]):
        assert body[a:b].count('<details class="sources">') == 1
