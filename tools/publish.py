"""Publishing channels and the outbox that delivers each of them exactly once.

Channels: a markdown file, a standalone HTML page, a JSON record (the edition with its
assessments), an Atom feed of every edition published to the output dir, and a Slack-compatible
webhook. The outbox (a table keyed by edition, channel and revision) records every attempt, so a
resume or re-run skips channels already delivered and retries only the failed ones. Files are
written atomically: a temp file in the target dir, then rename.
"""

from __future__ import annotations

import html
import json
import os
import re
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import requests
from pydantic import BaseModel, Field

from flashnews.config import Channel, Settings
from flashnews.errors import PublishError
from flashnews.models import Finding, RepoLink, rank_key
from flashnews.tools.http import HttpClient, Transient
from flashnews.tools.store import Correction, Store, utc_now

FEED_NAME = "feed.xml"
JSON_FEED_NAME = "feed.json"
"""The JSON Feed 1.1 beside the Atom feed (the atom channel writes both): for agents and tools."""


class NumberSupport(BaseModel):
    """A number of an item and the abstract sentence that states it."""

    text: str
    status: str
    """"supported", or how it is wrong ("wrong-metric", "absent" …)."""
    via: str = ""
    """How it matched: "exact", "rounded", "range", "converted", "setting", "name"."""
    sentence: str = ""


class ClaimSupport(BaseModel):
    """One sentence of an item with the abstract sentence that supports it."""

    claim: str
    support: str
    """The abstract sentence (or the title) sharing most of the claim's words."""
    overlap: float
    """The share of the claim's content words in that sentence."""
    numbers: list[NumberSupport] = Field(default_factory=list)


class PublishedItem(BaseModel):
    """One featured paper as published."""

    arxiv_id: str
    title: str
    link: str
    section: str
    score: int | None = None
    hype: int | None = None
    headline: str = ""
    body: str = ""
    evidence: list[ClaimSupport] = Field(default_factory=list)
    """For every sentence and number of the item as published, the abstract sentence behind
    it (tools/grounding.py item_evidence)."""
    repos: list[RepoLink] = Field(default_factory=list)
    """The code, weights and data repositories the paper names, each with its check (`status`:
    ok, moved, missing, unchecked; tools/repos.py). Empty: none named."""


class Publication(BaseModel):
    """What one revision of an edition publishes, in every channel (also the JSON channel)."""

    schema_version: int = 4
    """2: items carry `evidence`; 3: `flags` (papers whose text addresses the model); 4: items
    carry `repos` (the repositories the paper names, checked) and the markdown a line per
    item saying so."""
    edition_id: str
    date: str
    format: str
    revision: int = 0
    title: str
    markdown: str
    """The bulletin as published, correction notes included."""
    items: list[PublishedItem] = Field(default_factory=list)
    assessments: list[dict[str, Any]] = Field(default_factory=list)
    """Every paper of the day that triage scored, best first (for other tools)."""
    corrections: list[Correction] = Field(default_factory=list)
    published_at: str
    updated_at: str
    flags: list[dict[str, str]] = Field(default_factory=list)
    """Papers of the day whose title or abstract addresses the model (prompt injection):
    arxiv_id, message. A headless edition publishes none of them."""


def atomic_write(path: Path, text: str) -> Path:
    """Write `text` to `path` so that readers see the old file or the new one, never half."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise PublishError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; published files are for readers
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise PublishError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path


def publish_markdown(edition_id: str, markdown: str, out_dir: Path) -> Path:
    """The markdown channel: `<out_dir>/<edition_id>.md`."""
    return atomic_write(out_dir / f"{edition_id}.md", markdown)


def featured_papers(selected: list[str], draft: Any, *, edited: bool) -> list[str]:
    """The papers an edition features once published: its selection, less any item the editor
    deleted by hand from an edited draft (that paper was not featured, and may be later)."""
    if not (edited or draft.edited):
        return list(selected)
    from flashnews.text.grounding import linked_papers

    linked = set(linked_papers(draft.markdown))
    return [pid for pid in selected if pid in linked]


# correction notes -------------------------------------------------------------------------------

def with_corrections(markdown: str, corrections: list[Correction]) -> str:
    """The bulletin with a dated note per correction, right under its title and date lines."""
    if not corrections:
        return markdown
    notes = "\n".join(f"> **Corrected {c.at[:10]}:** {c.note}" for c in corrections)
    lines = markdown.splitlines()
    # After the title and the bold date line, when present.
    cut = 0
    for i, line in enumerate(lines[:3]):
        if line.startswith("# ") or re.fullmatch(r"\*\*\d{4}-\d{2}-\d{2}\*\*", line.strip()):
            cut = i + 1
    head, tail = lines[:cut], lines[cut:]
    return "\n".join([*head, "", notes, "", *tail]).replace("\n\n\n", "\n\n")


# repository notes -------------------------------------------------------------------------------

def with_repo_notes(markdown: str, notes: dict[str, str]) -> str:
    """The bulletin with one line under each item whose paper has a note (tools/repos.py
    repo_note): a hard line break after the item's last line, then the note (indented inside
    a list item). Notes already there (a corrected text from the published file) are replaced,
    never repeated."""
    from flashnews.text.grounding import REPO_NOTE_RE, blocks_of, segments_of

    lines = REPO_NOTE_RE.sub("\x00", markdown).splitlines()
    for i in range(len(lines) - 1, -1, -1):  # the old notes, and the breaks before them
        if lines[i] == "\x00":
            del lines[i]
            if i and lines[i - 1].endswith("  "):
                lines[i - 1] = lines[i - 1].rstrip()
    text = "\n".join(lines) + ("\n" if markdown.endswith("\n") else "")
    if not notes:
        return text
    lines = text.splitlines()
    inserts: dict[int, str] = {}
    for block in blocks_of(text):
        if block.kind != "item":
            continue
        ids = [s.paper_id for s in segments_of(block) if s.paper_id in notes]
        if len(ids) != 1 or block.end < 1:
            continue  # an item about several papers gets no note (none would be its own)
        indent = "  " if block.text.lstrip().startswith(("- ", "* ", "+ ")) else ""
        inserts[block.end] = indent + notes[ids[0]]
    for end in sorted(inserts, reverse=True):
        lines[end - 1] = lines[end - 1].rstrip() + "  "
        lines.insert(end, inserts[end])
    return "\n".join(lines) + ("\n" if text.endswith("\n") else "")


# HTML -------------------------------------------------------------------------------------------

PAGE_HEAD = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="flashnews">
<title>{title}</title>
<style>
  :root {{ color-scheme: light dark; }}
  body {{ margin: 0 auto; padding: 1rem 1.1rem 3rem; max-width: 42rem;
         font: 1.0625rem/1.6 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
         color: #1b1b1f; background: #fff; }}
"""
"""The start of every page flashnews writes (an edition's, the archive's): a `str.format`
template with `{title}`, up to the base rule of its inline stylesheet."""

_PAGE = PAGE_HEAD + """  h1 {{ font-size: 1.5rem; line-height: 1.25; margin: .5rem 0 .25rem; }}
  h2 {{ font-size: 1.2rem; margin-top: 2rem; }}
  p, li {{ overflow-wrap: anywhere; }}
  a {{ color: #0b57d0; }}
  blockquote {{ margin: 1rem 0; padding: .5rem .9rem; border-left: .25rem solid #c5221f;
               background: #fdf3f2; }}
  img, table, pre {{ max-width: 100%; overflow-x: auto; }}
  footer {{ margin-top: 2.5rem; font-size: .85rem; color: #5f6368; }}
  details.sources {{ margin: -.4rem 0 1.2rem; color: #3c4043; }}
  details.sources summary {{ cursor: pointer; color: #0b57d0; }}
  details.sources ul {{ padding-left: 1.1rem; }}
  details.sources blockquote {{ margin: .3rem 0 .6rem; border-left-color: #9aa0a6;
                                background: #f1f3f4; }}
  @media (prefers-color-scheme: dark) {{
    body {{ color: #e8eaed; background: #121316; }} a {{ color: #8ab4f8; }}
    blockquote {{ background: #2a1d1c; }} footer {{ color: #9aa0a6; }}
    details.sources {{ color: #c4c7c5; }} details.sources summary {{ color: #8ab4f8; }}
    details.sources blockquote {{ background: #1f2124; }}
  }}
</style>
</head>
<body>
<main>
{body}
</main>
<footer>{footer}</footer>
</body>
</html>
"""


def markdown_html(markdown: str, evidence: dict[str, list[ClaimSupport]] | None = None) -> str:
    """The bulletin's HTML body (CommonMark + tables; raw HTML in the text is escaped).

    With `evidence` (paper id -> its item's claims), each item is followed by a `<details>`
    block a reader opens to see the abstract sentences behind it: HTML only, no script."""
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
    if not evidence:
        return md.render(markdown)
    from markdown_it.token import Token

    from flashnews.text.grounding import blocks_of, segments_of

    tokens = md.parse(markdown)
    inserts: dict[int, str] = {}
    for block in blocks_of(markdown):
        if block.kind != "item":
            continue
        ids = [s.paper_id for s in segments_of(block) if evidence.get(s.paper_id)]
        if not ids:
            continue
        # After the last paragraph of the item (inside its list item, when it is one).
        last = None
        for i, t in enumerate(tokens):
            if t.type == "paragraph_open" and t.map and \
                    block.line - 1 <= t.map[0] < max(block.end, block.line):
                last = i
        if last is None:
            continue
        close = next(i for i in range(last, len(tokens)) if tokens[i].type == "paragraph_close")
        inserts[close] = inserts.get(close, "") + _sources_html(ids, evidence)
    for i in sorted(inserts, reverse=True):
        block_token = Token("html_block", "", 0)
        block_token.content = inserts[i]
        tokens.insert(i + 1, block_token)
    return str(md.renderer.render(tokens, md.options, {}))


def _sources_html(ids: list[str], evidence: dict[str, list[ClaimSupport]]) -> str:
    """One `<details>` per item: each claim sentence, then the abstract sentence behind it."""
    rows = []
    for pid in ids:
        for c in evidence[pid]:
            nums = "".join(
                f'<li class="num"><q>{html.escape(n.text)}</q>: '
                + (f"{html.escape(n.via or 'stated')}"
                   + ("" if n.sentence == c.support else f" — <q>{html.escape(n.sentence)}</q>")
                   if n.status == "supported" else
                   f"<strong>not supported ({html.escape(n.status)})</strong>"
                   + (f" — <q>{html.escape(n.sentence)}</q>" if n.sentence else ""))
                + "</li>" for n in c.numbers)
            support = (f'<blockquote cite="https://arxiv.org/abs/{pid}">'
                       f"{html.escape(c.support)}</blockquote>" if c.support else
                       "<p><em>no abstract sentence shares its words</em></p>")
            rows.append(f"<li><q>{html.escape(c.claim)}</q>{support}"
                        + (f"<ul>{nums}</ul>" if nums else "") + "</li>")
    label = "Sources: the abstract" + ("s" if len(ids) > 1 else "") + \
        f" ({', '.join(html.escape(i) for i in ids)})"
    return (f'<details class="sources"><summary>{label}</summary><ul>{"".join(rows)}</ul>'
            "</details>\n")


def render_html(pub: Publication) -> str:
    """A standalone page: inline CSS, no scripts, readable from a 360 px phone upwards. Each
    item opens (a `<details>`) onto the abstract sentences that support it."""
    if pub.revision:
        footer = f"{pub.edition_id} · revision {pub.revision} · updated {pub.updated_at}"
    else:
        footer = f"{pub.edition_id} · published {pub.published_at}"
    evidence = {i.arxiv_id: i.evidence for i in pub.items if i.evidence}
    return _PAGE.format(title=html.escape(f"{pub.title} — {pub.date}"),
                        body=markdown_html(pub.markdown, evidence).strip(),
                        footer=html.escape(footer))


# Atom -------------------------------------------------------------------------------------------

def render_feed(pubs: list[Publication], out_dir: Path, settings: Settings) -> str:
    """An Atom feed of the publications, newest first; one entry per edition, ever."""
    from feedgen.feed import FeedGenerator

    from flashnews.text.grounding import TITLE

    base = settings.public_url.rstrip("/") + "/" if settings.public_url else ""
    html_on = "html" in settings.active_channels()
    fg = FeedGenerator()
    fg.id(f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, base or str(out_dir.resolve()))}")
    fg.title(TITLE)
    fg.subtitle("New arXiv papers for people who build and run LLM inference systems")
    fg.author({"name": "flashnews"})
    fg.language("en")
    fg.link(href=f"{base}{FEED_NAME}", rel="self")
    newest = max((p.updated_at for p in pubs), default=utc_now())
    fg.updated(newest)
    for pub in sorted(pubs, key=lambda p: (p.date, p.format)):
        entry = fg.add_entry()
        # The id never changes, so a correction updates the entry instead of adding one.
        entry.id(f"urn:flashnews:edition:{pub.edition_id}")
        suffix = " (corrected)" if pub.revision else ""
        entry.title(f"{pub.title} — {pub.date} ({pub.format}){suffix}")
        entry.link(href=f"{base}{pub.edition_id}.{'html' if html_on else 'md'}",
                   rel="alternate")
        entry.published(pub.published_at)
        entry.updated(pub.updated_at)
        entry.summary(", ".join(i.title for i in pub.items if i.section == "main")[:500])
        entry.content(markdown_html(pub.markdown), type="html")
    return fg.atom_str(pretty=True).decode("utf-8")


def render_json_feed(pubs: list[Publication], out_dir: Path, settings: Settings) -> dict[str, Any]:
    """The same editions as a JSON Feed 1.1 (jsonfeed.org/version/1.1), newest first.

    Items keep the Atom entries' ids, so a correction updates its item. Each item also carries
    `_flashnews` (an extension, as the spec allows): the edition and its featured papers with
    their Score and Hype, so an agent needs no HTML parsing.
    """
    from flashnews.text.grounding import TITLE

    base = settings.public_url.rstrip("/") + "/" if settings.public_url else ""
    html_on = "html" in settings.active_channels()
    feed: dict[str, Any] = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": TITLE,
        "description": "New arXiv papers for people who build and run LLM inference systems",
        "language": "en",
        "authors": [{"name": "flashnews"}],
    }
    if base:
        feed["home_page_url"] = base
        feed["feed_url"] = f"{base}{JSON_FEED_NAME}"
    items = []
    for pub in sorted(pubs, key=lambda p: (p.updated_at, p.date, p.format), reverse=True):
        suffix = " (corrected)" if pub.revision else ""
        items.append({
            "id": f"urn:flashnews:edition:{pub.edition_id}",
            "url": f"{base}{pub.edition_id}.{'html' if html_on else 'md'}",
            "title": f"{pub.title} — {pub.date} ({pub.format}){suffix}",
            "summary": ", ".join(i.title for i in pub.items if i.section == "main")[:500],
            "content_html": markdown_html(pub.markdown),
            "content_text": pub.markdown,
            "date_published": pub.published_at,
            "date_modified": pub.updated_at,
            "tags": [pub.format],
            "_flashnews": {
                "edition_id": pub.edition_id, "date": pub.date, "format": pub.format,
                "revision": pub.revision,
                "papers": [{"arxiv_id": i.arxiv_id, "title": i.title, "link": i.link,
                            "section": i.section, "score": i.score, "hype": i.hype,
                            "repos": [{"url": r.url, "kind": r.kind, "name": r.name,
                                       "status": r.status, "final_url": r.final_url}
                                      for r in i.repos]}
                           for i in pub.items],
            },
        })
    feed["items"] = items
    return feed


def merge_json_feeds(new: dict[str, Any], old: str | None) -> dict[str, Any]:
    """The new JSON feed plus every item of the old one it lacks (by id), newest first; an old
    file that is not a JSON feed is replaced (what this store knows is in the new one)."""
    try:
        old_items = json.loads(old)["items"] if old else []
        if not isinstance(old_items, list):
            raise TypeError("items is not a list")
    except (ValueError, KeyError, TypeError):
        return new
    have = {i["id"] for i in new["items"]}
    kept = [i for i in old_items if isinstance(i, dict) and i.get("id") not in have]
    items = sorted([*new["items"], *kept], key=lambda i: str(i.get("date_modified", "")),
                   reverse=True)
    return {**new, "items": items}


# webhook ----------------------------------------------------------------------------------------

class UnknownDelivery(PublishError):
    """The body was sent and no answer came in time: it may have arrived. Not retried blindly
    (a receiver that ignores Idempotency-Key would post twice); held like a crash after the
    POST, for `resume --resend` or `--assume-delivered`."""


def webhook_text(pub: Publication) -> str:
    """The Slack mrkdwn message: title, the featured items with scores, correction notes."""
    lines = [f"*{pub.title} — {pub.date}*"]
    lines += [f":warning: *Corrected {c.at[:10]}:* {c.note}" for c in pub.corrections]
    for item in pub.items:
        if item.section != "main":
            continue
        score = f" — Score: {item.score} | Hype: {item.hype}" if item.score is not None else ""
        lines.append(f"• <{item.link}|{_slack_escape(item.title)}>{score}")
    also = [f"<{i.link}|{_slack_escape(i.title)}>" for i in pub.items if i.section == "also"]
    if also:
        lines.append("Also notable: " + ", ".join(also))
    return "\n".join(lines)


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def post_webhook(url: str, pub: Publication, *, timeout: float = 15.0, attempts: int = 4,
                 wait: float = 1.0, repeatable: bool = False) -> str:
    """POST the edition once; retries connection errors, 429 and 5xx with backoff.

    Redirects are not followed to another origin: a 307/308 would re-POST the whole bulletin
    to whatever host the receiver names, and the delivery would be reported against the URL
    the editor configured. One to the same origin is followed (at most 3); any other answer
    in 3xx is a failure that names where it pointed (its origin only).
    """
    payload: dict[str, Any] = {"text": webhook_text(pub), "unfurl_links": False,
               "flashnews": {"edition_id": pub.edition_id, "revision": pub.revision}}
    headers = {"Idempotency-Key": idempotency_key(pub), "User-Agent": "flashnews"}
    where = _origin(url)

    http = HttpClient(retries=attempts - 1, timeout=timeout, backoff=wait, max_wait=30,
                      user_agent="flashnews")

    def send() -> requests.Response:
        target = url
        for _ in range(4):
            try:
                answer = http.post(target, json=payload, headers=headers, allow_redirects=False)
            except requests.ReadTimeout:
                # Sent, unanswered: repeat only to a receiver that honours Idempotency-Key.
                if repeatable:
                    raise Transient("ReadTimeout") from None
                raise UnknownDelivery(
                    f"webhook {where} got the bulletin but did not answer within {timeout:g} s: "
                    "it may have arrived. Check it, then resume with --resend (send again) or "
                    "--assume-delivered (it arrived)") from None
            except requests.RequestException as exc:
                raise Transient(f"{type(exc).__name__}") from None
            if not answer.is_redirect:
                return answer
            from urllib.parse import urljoin

            nxt = urljoin(target, answer.headers.get("Location", ""))
            if _origin(nxt) != where or answer.status_code not in (307, 308):
                raise PublishError(
                    f"webhook {where} answered HTTP {answer.status_code} redirecting to "
                    f"{_origin(nxt)}; not followed (a redirect could re-post the bulletin "
                    "elsewhere): check FLASHNEWS_WEBHOOK_URL")
            target = nxt
        raise PublishError(f"webhook {where} redirected more than 3 times; not followed")

    try:
        answer = http.retrying(send)
    except Transient as exc:
        raise PublishError(f"webhook {where} failed after {attempts} attempts: {exc}") from None
    if answer.status_code >= 300:
        body = " ".join(answer.text.split())[:120]
        raise PublishError(f"webhook {where} answered HTTP {answer.status_code}: {body}")
    return where


def idempotency_key(pub: Publication) -> str:
    """The key every attempt of one revision's webhook delivery carries."""
    return f"flashnews:{pub.edition_id}:r{pub.revision}"


def _origin(url: str) -> str:
    """Scheme, host and port only: webhook paths are secrets (Slack's carry the token)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}"


# the outbox -------------------------------------------------------------------------------------

UnknownOutcome = Literal["resend", "assume-delivered"]

# What a channel's repeated delivery does (docs/publishing.md): files are written again to the
# same content (idempotent); the webhook posts again, which only a receiver that honours
# Idempotency-Key drops.
_FILE_CHANNELS: tuple[Channel, ...] = ("markdown", "html", "json", "atom")


class Publisher:
    """Delivers a publication to every configured channel through the store's outbox.

    Every attempt is recorded (`sending`) before it is made and its outcome after. An attempt
    found still `sending` was interrupted between the two: its outcome is unknown. A channel
    whose repetition is harmless (the files; a webhook whose receiver honours Idempotency-Key,
    `FLASHNEWS_WEBHOOK_IDEMPOTENT`) is simply delivered again, with the same key. Any other is
    held for the editor, who decides with `flashnews resume --resend` (send again: perhaps
    twice) or `--assume-delivered` (it arrived; record it so).
    """

    def __init__(self, settings: Settings, store: Store, out_dir: Path, *,
                 unknown: UnknownOutcome | None = None) -> None:
        self.settings = settings
        self.store = store
        self.out_dir = out_dir
        self.unknown = unknown

    def _deliver_markdown(self, pub: Publication) -> str:
        return str(publish_markdown(pub.edition_id, pub.markdown, self.out_dir))

    def _deliver_html(self, pub: Publication) -> str:
        # The edition's page, then the archive page (tools/archive.py) listing every edition of
        # this dir with its offline search: a read-modify-write under the output dir's lock
        # (held by deliver), which keeps what other data dirs published here.
        page = atomic_write(self.out_dir / f"{pub.edition_id}.html", render_html(pub))
        from flashnews.tools.archive import ARCHIVE_NAME, render_archive

        pubs = [Publication.model_validate_json(r)
                for r in self.store.publication_records(str(self.out_dir))]
        index = self.out_dir / ARCHIVE_NAME
        old = index.read_text(encoding="utf-8") if index.exists() else None
        atomic_write(index, render_archive(pubs, old))
        return str(page)

    def _deliver_json(self, pub: Publication) -> str:
        return str(atomic_write(self.out_dir / f"{pub.edition_id}.json",
                                pub.model_dump_json(indent=2) + "\n"))

    def _deliver_atom(self, pub: Publication) -> str:
        # Read-modify-write of the feed, under the output dir's lock (held by deliver): the
        # entries already in feed.xml are kept, so editions published to this dir from another
        # data dir (or by another process) are not lost.
        pubs = [Publication.model_validate_json(r)
                for r in self.store.publication_records(str(self.out_dir))]
        path = self.out_dir / FEED_NAME
        old = path.read_text(encoding="utf-8") if path.exists() else None
        feed = merge_feeds(render_feed(pubs, self.out_dir, self.settings), old)
        # The JSON Feed first: the Atom feed is the channel's target, written last, so a
        # delivery recorded as done has written both.
        jpath = self.out_dir / JSON_FEED_NAME
        jold = jpath.read_text(encoding="utf-8") if jpath.exists() else None
        jfeed = merge_json_feeds(render_json_feed(pubs, self.out_dir, self.settings), jold)
        atomic_write(jpath, json.dumps(jfeed, ensure_ascii=False, indent=2) + "\n")
        return str(atomic_write(path, feed))

    def _deliver_webhook(self, pub: Publication) -> str:
        assert self.settings.webhook_url is not None  # checked by Settings
        return post_webhook(self.settings.webhook_url.get_secret_value(), pub,
                            attempts=self.settings.webhook_attempts,
                            wait=self.settings.webhook_backoff,
                            timeout=self.settings.webhook_timeout,
                            repeatable=self.settings.webhook_idempotent)

    def _repeatable(self, channel: Channel) -> bool:
        return channel in _FILE_CHANNELS or (channel == "webhook"
                                             and self.settings.webhook_idempotent)

    def _target_hint(self, channel: Channel, pub: Publication) -> str:
        if channel == "webhook":
            assert self.settings.webhook_url is not None
            return _origin(self.settings.webhook_url.get_secret_value())
        ext = {"markdown": "md"}.get(channel, channel)
        return str(self.out_dir / (FEED_NAME if channel == "atom" else f"{pub.edition_id}.{ext}"))

    def deliver(self, pub: Publication) -> dict[str, str]:
        """Deliver every channel not yet delivered for this revision; channel -> target.

        A failed channel does not stop the others; afterwards PublishError names the failed
        ones (and those of unknown outcome), and the next attempt (resume) retries only those.
        """
        from flashnews.tools.lock import dir_lock

        self.store.save_publication(pub, str(self.out_dir))
        handlers: dict[Channel, Callable[[Publication], str]] = {
            "markdown": self._deliver_markdown, "html": self._deliver_html,
            "json": self._deliver_json, "atom": self._deliver_atom,
            "webhook": self._deliver_webhook}
        done: dict[str, str] = {}
        failed: list[str] = []
        held: list[str] = []
        channels = self.settings.active_channels()
        files = [c for c in channels if c in _FILE_CHANNELS]
        others = [c for c in channels if c not in _FILE_CHANNELS]
        with dir_lock(self.out_dir, bool(files)):
            for channel in files:
                self._one(channel, pub, handlers[channel], done, failed, held)
        for channel in others:
            self._one(channel, pub, handlers[channel], done, failed, held)
        if failed or held:
            ok = ", ".join(done) or "none"
            parts = failed + held
            what = f"{len(failed)} channel(s) failed" if failed else ""
            if held:
                what += (" and " if what else "") + f"{len(held)} of unknown outcome"
            retry = "the failed ones" if not held else "the others, as you decide"
            raise PublishError(f"{what} — {'; '.join(parts)} (delivered: {ok}; a resume "
                               f"retries only {retry})")
        return done

    def _one(self, channel: Channel, pub: Publication, handler: Callable[[Publication], str],
             done: dict[str, str], failed: list[str], held: list[str]) -> None:
        row = self.store.delivery(pub.edition_id, channel, pub.revision)
        if row is not None and row.status == "delivered":
            done[channel] = row.target or ""
            return
        if row is not None and row.status == "sending" and not self._repeatable(channel):
            if self.unknown == "assume-delivered":
                self.store.record_attempt(pub.edition_id, channel, pub.revision,
                                          target=row.target, error=None)
                done[channel] = row.target or ""
                return
            if self.unknown != "resend":
                held.append(
                    f"{channel}: an attempt at {row.updated_at} to {row.target} was sent but "
                    "its outcome was never recorded (the run stopped in between); this receiver "
                    "is not known to honour Idempotency-Key (Slack ignores it), so sending "
                    "again may post twice. Check it, then resume with --resend (send again) or "
                    "--assume-delivered (it arrived)")
                return
        self.store.start_attempt(pub.edition_id, channel, pub.revision,
                                 target=self._target_hint(channel, pub))
        try:
            target = handler(pub)
        except UnknownDelivery as exc:
            # The attempt stays `sending` (outcome unknown): the next resume holds it the same
            # way, until the editor says --resend or --assume-delivered.
            held.append(f"{channel}: {exc}")
            return
        except PublishError as exc:
            self.store.record_attempt(pub.edition_id, channel, pub.revision, target=None,
                                      error=str(exc))
            failed.append(f"{channel}: {exc}")
            return
        self.store.record_attempt(pub.edition_id, channel, pub.revision, target=target,
                                  error=None)
        done[channel] = target


def merge_feeds(new: str, old: str | None) -> str:
    """The new feed plus every entry of the old one it lacks (by entry id), newest first.

    Entries of editions this store never published to the dir (another data dir, another
    machine) are kept as they were.
    """
    if not old:
        return new
    from lxml import etree

    ns = "{http://www.w3.org/2005/Atom}"
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=True)
    try:
        old_root = etree.fromstring(old.encode("utf-8"), parser)
    except etree.XMLSyntaxError:
        return new  # a broken feed is replaced by ours, which holds what this store knows
    root = etree.fromstring(new.encode("utf-8"), parser)
    have = {e.findtext(f"{ns}id") for e in root.iter(f"{ns}entry")}
    entries = list(root.iter(f"{ns}entry"))
    entries += [e for e in old_root.iter(f"{ns}entry") if e.findtext(f"{ns}id") not in have]
    for e in list(root.iter(f"{ns}entry")):
        root.remove(e)
    entries.sort(key=lambda e: e.findtext(f"{ns}updated") or "", reverse=True)
    root.extend(entries)
    newest = max((e.findtext(f"{ns}updated") or "" for e in entries), default="")
    updated = root.find(f"{ns}updated")
    if updated is not None and newest > (updated.text or ""):
        updated.text = newest
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8",
                          pretty_print=True).decode("utf-8")


def build_publication(*, edition_id: str, date: str, fmt: str, revision: int, draft: Any,
                      papers: dict[str, Any], assessments: dict[str, Any],
                      corrections: list[Correction], published_at: str | None,
                      flags: list[Finding] | None = None,
                      repos: dict[str, list[RepoLink]] | None = None) -> Publication:
    """The publication of a draft: what every channel renders.

    With `repos` (paper id -> the repositories it names, checked), each item of those papers
    carries them and gets a line under it in the bulletin saying so (`with_repo_notes`)."""
    now = utc_now()
    notes = [c for c in corrections if c.revision <= revision]
    from flashnews.text.grounding import TITLE, bulletin_evidence

    # The evidence is read from the bulletin as published (an editor's hand edit included).
    found: dict[str, list[ClaimSupport]] = {}
    for _, seg, claims in bulletin_evidence(draft.markdown, papers):
        found.setdefault(seg.paper_id, [ClaimSupport(
            claim=c.claim, support=c.support, overlap=c.overlap,
            numbers=[NumberSupport(text=n.text, status=n.status, via=n.via, sentence=n.sentence)
                     for n in c.numbers]) for c in claims])
    items = []
    for item in draft.items:
        paper, a = papers.get(item.paper_id), assessments.get(item.paper_id)
        items.append(PublishedItem(
            arxiv_id=item.paper_id, title=paper.title if paper else item.headline,
            link=f"https://arxiv.org/abs/{item.paper_id}", section=item.section,
            score=a.score if a else None, hype=a.hype if a else None,
            headline=item.headline, body=item.body, evidence=found.get(item.paper_id, []),
            repos=(repos or {}).get(item.paper_id, [])))
    ranked = sorted(assessments.values(), key=rank_key)
    first_line = draft.markdown.splitlines()[0] if draft.markdown else ""
    title = first_line.lstrip("# ").strip() or TITLE
    markdown = draft.markdown
    if repos is not None:
        from flashnews.tools.repos import repo_note

        markdown = with_repo_notes(markdown, {i.paper_id: repo_note(repos.get(i.paper_id, []))
                                              for i in draft.items})
    return Publication(edition_id=edition_id, date=date, format=fmt, revision=revision,
                       title=title, markdown=with_corrections(markdown, notes),
                       items=items,
                       assessments=[{**a.model_dump(mode="json"),
                                     "title": papers[a.paper_id].title if a.paper_id in papers
                                     else ""} for a in ranked],
                       corrections=notes, published_at=published_at or now, updated_at=now,
                       flags=[{"arxiv_id": f.item or "", "check": f.check,
                               "message": f.message} for f in flags or []])
