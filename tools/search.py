"""Search the archive: every published item, its claims and the editor's notes, by words and
by meaning, ranked together.

The documents are derived from the store's publications (one per featured item, one per claim
triage found in it, one per editor note) and kept in step with them: a search first re-indexes
any edition published, corrected or annotated since the last one. Words are matched by the
backend's own full-text search (SQLite FTS5 with porter stemming; PostgreSQL's `english`
configuration), meaning by the packaged sentence embeddings (cosine similarity, above a floor
so that an unrelated query finds nothing). The two rankings are fused by reciprocal rank, and
a paper featured in an edition is one hit however many of its documents match.

A query is plain words: FTS syntax characters (quotes, parentheses, AND, `*`, `:`) are read as
text, never as syntax, so no query is malformed.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import threading
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

from flashnews.models import Assessment, SearchHit
from flashnews.tools.embeddings import Embedder, decode_vector, encode_vector
from flashnews.tools.store import Store

By = Literal["both", "words", "meaning"]

MIN_SIMILARITY = 0.35
"""The meaning search's floor (cosine, all-MiniLM-L6-v2): below it a document is not about the
query. Chosen on 20 queries over the 16 featured papers of the dev edition: 8 of 10 on-topic
queries score their paper 0.42-0.73 (the other two 0.27 and 0.33, left to the word search);
10 unrelated queries reach at most 0.34 (docs/search.md)."""
RRF_K = 60
"""Reciprocal rank fusion's constant (Cormack et al. 2009): a hit's rank is the sum of
1 / (RRF_K + its rank) over the searches that found it."""
POOL = 100
"""How many documents each search contributes to the fusion."""
SNIPPET = 220
"""Characters of a hit's snippet."""

_WORD = re.compile(r"\w+", re.UNICODE)


def words(query: str) -> list[str]:
    """The query's words (letters and digits), lower case, in order, once each, without
    English stop words (spaCy's list: "and", "or", "the" would match every item). A query of
    stop words only keeps them."""
    from spacy.lang.en.stop_words import STOP_WORDS

    found = list(dict.fromkeys(w.lower() for w in _WORD.findall(query)))
    return [w for w in found if w not in STOP_WORDS] or found


def match_expression(terms: Sequence[str], *, backend: str, any_term: bool) -> str:
    """The backend's query over plain words: every word (or any, `any_term`). The words hold
    letters and digits only, and each is quoted on SQLite: nothing the user typed is syntax."""
    if backend == "postgres":
        return (" | " if any_term else " & ").join(terms)
    return (" OR " if any_term else " AND ").join(f'"{t}"' for t in terms)


def _stamp(revision: int, updated_at: str, decisions: int, embedder: str) -> str:
    """What an edition's documents were built from: a new revision, decision or embedding
    model (vectors of another model mean nothing to this one's queries) re-indexes it."""
    return f"{updated_at}|r{revision}|d{decisions}|{embedder}"


def _snippet(body: str, terms: Sequence[str]) -> str:
    """Up to SNIPPET characters of the body, around its first query word."""
    text = " ".join(body.split())
    if len(text) <= SNIPPET:
        return text
    low = text.lower()
    at = min((i for i in (low.find(t) for t in terms) if i >= 0), default=0)
    start = max(0, min(at - SNIPPET // 3, len(text) - SNIPPET))
    if start:
        start = text.find(" ", start) + 1 or start
    cut = text[start:start + SNIPPET].rsplit(" ", 1)[0]
    return ("…" if start else "") + cut + "…"


def documents(record: dict[str, Any], *, stamp: str, out_dir: str | None,
              decisions: Sequence[Any], assessments: dict[str, Assessment | None]
              ) -> list[dict[str, Any]]:
    """The search documents of one published edition (its JSON record as published)."""
    eid, date, fmt = record["edition_id"], record["date"], record["format"]
    edition_link = f"{out_dir}/{eid}.html" if out_dir else eid
    base = {"edition_id": eid, "stamp": stamp, "date": date, "format": fmt}
    out: list[dict[str, Any]] = []
    items = {it["arxiv_id"]: it for it in record.get("items", [])}
    for it in items.values():
        head = {**base, "paper_id": it["arxiv_id"], "title": it["title"], "link": it["link"],
                "score": it.get("score"), "hype": it.get("hype")}
        body = " ".join(x for x in (it.get("headline", ""), it.get("body", "")) if x)
        out.append({**head, "kind": "item", "body": body or it["title"]})
        a = assessments.get(it["arxiv_id"])
        for claim in a.key_claims if a else []:
            out.append({**head, "kind": "claim", "body": claim.claim})
    for d in decisions:
        if not d.reason.strip():
            continue
        it = items.get(d.paper_id or "")
        note = f"Editor ({d.command}): {d.reason.strip()}"
        if it:
            out.append({**base, "paper_id": it["arxiv_id"], "title": it["title"],
                        "link": it["link"], "score": it.get("score"), "hype": it.get("hype"),
                        "kind": "note", "body": note})
        else:
            out.append({**base, "paper_id": d.paper_id, "title": record.get("title", eid),
                        "link": edition_link, "score": None, "hype": None, "kind": "note",
                        "body": note})
    for c in record.get("corrections", []):
        out.append({**base, "paper_id": None, "title": record.get("title", eid),
                    "link": edition_link, "score": None, "hype": None, "kind": "note",
                    "body": f"Correction {c.get('at', '')[:10]}: {c['note']}"})
    return out


class SearchIndex:
    """The archive's search over one store, with an injected embedder (None: words only)."""

    def __init__(self, store: Store, embedder: Embedder | None) -> None:
        self.store = store
        self.embedder = embedder
        self._lock = threading.Lock()
        self._sync_lock = threading.Lock()
        self._matrix: tuple[tuple[int, int], np.ndarray, list[int], list[str]] | None = None
        """(index version, unit vectors, their doc ids, their dates): the meaning search's
        cache, rebuilt when the index changes."""
        store.ensure_search_index()

    # keeping the documents in step with the publications --------------------------------------
    def sync(self, only: str | None = None) -> int:
        """Re-index every edition published, corrected or annotated since it was indexed (or
        only the edition `only`: what publishing one does); returns how many editions were
        (re)indexed. One sync at a time per index (a server's concurrent first queries embed
        the archive once); the store serialises syncs of other processes."""
        with self._sync_lock:
            return self._sync(only)

    def _sync(self, only: str | None = None) -> int:
        pubs = self.store.publication_stamps()
        if only is not None:
            pubs = {k: v for k, v in pubs.items() if k == only}
        counts = self.store.decision_counts()
        indexed = self.store.search_stamps()
        changed = 0
        for eid, (revision, updated) in sorted(pubs.items()):
            stamp = _stamp(revision, updated, counts.get(eid, 0),
                           self.embedder.name if self.embedder is not None else "-")
            if indexed.get(eid) == stamp:
                continue
            self._index(eid, stamp)
            changed += 1
        for eid in set(indexed) - set(pubs) if only is None else ():  # no longer published
            self.store.replace_search_docs(eid, [])
            changed += 1
        return changed

    def _index(self, edition_id: str, stamp: str) -> None:
        raw = self.store.publication_record(edition_id)
        if raw is None:
            return
        record = json.loads(raw)
        ids = [it["arxiv_id"] for it in record.get("items", [])]
        docs = documents(record, stamp=stamp, out_dir=self.store.publication_dir(edition_id),
                         decisions=self.store.decisions(edition_id),
                         assessments={pid: self.store.latest_assessment(pid) for pid in ids})
        if self.embedder is not None and docs:
            vectors = self.embedder.embed([f"{d['title']}. {d['body']}" for d in docs])
            for d, v in zip(docs, vectors, strict=True):
                d["vector"] = base64.b64encode(encode_vector(v)).decode()
        self.store.replace_search_docs(edition_id, docs)

    # searching -------------------------------------------------------------------------------
    def _vectors(self) -> tuple[np.ndarray, list[int], list[str]]:
        with self._lock:
            version = self.store.search_version()
            if self._matrix is None or self._matrix[0] != version:
                rows = [r for r in self.store.search_docs(with_vectors=True) if r["vector"]]
                matrix = (np.stack([decode_vector(base64.b64decode(r["vector"])) for r in rows])
                          if rows else np.zeros((0, 1), dtype=np.float32))
                self._matrix = (version, matrix, [int(r["id"]) for r in rows],
                                [r["date"] for r in rows])
            return self._matrix[1], self._matrix[2], self._matrix[3]

    def by_words(self, terms: Sequence[str], since: str | None) -> list[int]:
        """Documents holding every query word, best first; when none holds them all, any."""
        if not terms:
            return []
        backend = self.store.backend
        found = self.store.search_words(match_expression(terms, backend=backend, any_term=False),
                                        since=since, limit=POOL)
        if not found and len(terms) > 1:
            found = self.store.search_words(
                match_expression(terms, backend=backend, any_term=True), since=since, limit=POOL)
        return found

    def by_meaning(self, query: str, since: str | None) -> list[tuple[int, float]]:
        """Documents whose embedding is within MIN_SIMILARITY of the query's, best first."""
        if self.embedder is None or not query.strip():
            return []
        matrix, ids, dates = self._vectors()
        if not ids:
            return []
        q = self.embedder.embed([query])[0]
        sims = matrix @ q
        order = np.argsort(-sims)
        out: list[tuple[int, float]] = []
        for i in order:
            if sims[i] < MIN_SIMILARITY or len(out) == POOL:
                break
            if since is None or dates[i] >= since:
                out.append((ids[i], float(sims[i])))
        return out

    def search(self, query: str, *, since: dt.date | None = None, limit: int = 10,
               by: By = "both", sync: bool = True) -> list[SearchHit]:
        """The best hits for `query`, at most `limit`, one per (edition, paper)."""
        if sync:
            self.sync()
        day = since.isoformat() if since else None
        terms = words(query)
        fused: dict[int, float] = {}
        how: dict[int, set[str]] = {}
        if by in ("both", "words"):
            for n, doc in enumerate(self.by_words(terms, day)):
                fused[doc] = fused.get(doc, 0.0) + 1.0 / (RRF_K + n + 1)
                how.setdefault(doc, set()).add("words")
        if by in ("both", "meaning"):
            for n, (doc, _) in enumerate(self.by_meaning(query, day)):
                fused[doc] = fused.get(doc, 0.0) + 1.0 / (RRF_K + n + 1)
                how.setdefault(doc, set()).add("meaning")
        if not fused:
            return []
        rows = {int(r["id"]): r for r in self.store.search_docs(list(fused))}
        hits: dict[tuple[str, str], SearchHit] = {}
        for doc in sorted(fused, key=lambda d: -fused[d]):
            r = rows.get(doc)
            if r is None:
                continue
            key = (r["edition_id"], r["paper_id"] or f"#{doc}")
            if key in hits:  # the paper's best document speaks for it; the others add up
                hit = hits[key]
                hit.rank += fused[doc]
                hit.matched = sorted(set(hit.matched) | how[doc])
                continue
            hits[key] = SearchHit(
                edition_id=r["edition_id"], date=r["date"], format=r["format"],
                paper_id=r["paper_id"], title=r["title"], link=r["link"], score=r["score"],
                hype=r["hype"], kind=r["kind"], snippet=_snippet(r["body"], terms),
                rank=fused[doc], matched=sorted(how[doc]))
        ranked = sorted(hits.values(), key=lambda h: (-h.rank, -(h.score or 0), h.edition_id))
        for h in ranked:
            h.rank = round(h.rank, 5)
        return ranked[:limit]
