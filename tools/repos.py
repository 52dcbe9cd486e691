"""Code, weights and data repositories a paper names, and whether they answer (docs/links.md).

Found in the abstract (and, by `flashnews recheck`, on the paper's arXiv page: its comments
field and abstract, whose links arXiv shows as "this https URL"), on the hosts a reader of
inference papers cares about: GitHub, GitLab, Bitbucket, Codeberg, Gitee (code) and Hugging Face
(models and collections: weights; datasets: data). Project pages (*.github.io), Spaces and
Hugging Face's own pages (papers, docs, blog) are not repositories and are left out.

Each link is verified with a HEAD (a GET when the host refuses HEAD: 403 or 405) through the
one HTTP client, with a short timeout and no retries:

| status | meaning |
|---|---|
| ok | 2xx, and still the same repository (a GitHub redirect that only changes letter case is) |
| moved | redirected to another owner/repo or another host: flagged, not trusted; `final_url` kept |
| missing | 404 or 410 |
| unchecked | no answer: no network, a timeout, 5xx, 429, or a refusal (401/403) |

A host that fails to connect once is not asked again in that run, so an offline run spends one
failed connection per host, never an error.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit

import requests

from flashnews.models import Paper, RepoEvent, RepoKind, RepoLink, RepoStatus
from flashnews.tools.http import HttpClient, Transient

if TYPE_CHECKING:
    from flashnews.tools.store import Store

log = logging.getLogger(__name__)

Where = Literal["abstract", "arxiv-page"]

CODE_HOSTS = ("github.com", "gitlab.com", "bitbucket.org", "codeberg.org", "gitee.com")
HF_HOSTS = ("huggingface.co", "hf.co")

# A host's first path segment that is a site page, not an owner.
_NOT_OWNERS = {
    "about", "apps", "blog", "collections", "contact", "customer-stories", "docs", "enterprise",
    "explore", "features", "join", "login", "marketplace", "models", "new", "notifications",
    "orgs", "organizations", "papers", "pricing", "search", "security", "settings", "signup",
    "site", "sponsors", "spaces", "tasks", "team", "topics", "trending", "users", "learn",
    "chat", "datasets", "help", "posts", "api",
}
_SEGMENT = r"[A-Za-z0-9][A-Za-z0-9._-]*"
# "github.com/owner/repo": the scheme and "www." optional; arXiv metadata wraps long lines, and a
# wrap inside a URL leaves a space after a dot or a slash ("github. com/ owner/repo"), which is
# read through. Not preceded by a letter, dot or hyphen: "foo.github.io" and "notgithub.com" are
# other hosts.
_HOST = (r"(?<![\w.-])(?:https?\s*:\s*//\s*)?(?:www\s*\.\s*)?(?P<host>"
         + "|".join(re.escape(h).replace(r"\.", r"\s*\.\s*") for h in (*CODE_HOSTS, *HF_HOSTS))
         + r")(?![\w.-])")
_URL = re.compile(_HOST + r"\s*/\s*(?P<path>(?:" + _SEGMENT + r"\s*/\s*)*" + _SEGMENT + r")?",
                  re.IGNORECASE)
# The end of a URL a sentence adds: punctuation, a closing bracket or brace.
_TRAILING = ".,;:!?)]}'\"*>"


@dataclass(frozen=True)
class Named:
    """A repository named in a text: its own address, kind and OWNER/REPO."""

    url: str
    kind: RepoKind
    name: str


def _plain(text: str) -> str:
    """The text with the LaTeX and Markdown around URLs taken off: `\\url{U}`, `\\href{U}{T}`,
    `\\footnote{U}`, `[U](U)`, `\\_` in a URL, `<U>`."""
    text = re.sub(r"\\([_#%&~$])", r"\1", text)
    text = re.sub(r"\\[A-Za-z]+\*?\s*", " ", text)  # \url, \href, \footnote, \texttt, …
    return re.sub(r"[{}\[\]()<>|\"]", " ", text)


def _segments(path: str) -> list[str]:
    return [s for s in re.split(r"\s*/\s*", path) if s]


def _join_wrapped(path: str) -> str:
    """A path the regex read across a space: keep a space-separated segment only where the
    URL needs one to be whole ("github.com/owner/ repo"), never a word after a whole address."""
    parts = re.split(r"(\s*/\s*)", path)
    # parts: seg, sep, seg, sep, seg …; a separator with a space after a complete owner/repo
    # (datasets/owner/name on Hugging Face) ends the URL there.
    whole = 3 if parts[0].lower() in ("datasets", "collections", "spaces") else 2
    out = parts[0]
    count = 1
    for i in range(1, len(parts) - 1, 2):
        sep, seg = parts[i], parts[i + 1]
        if count >= whole and sep != sep.rstrip():
            break
        out += "/" + seg
        count += 1
    return out


def _classify(host: str, segments: list[str], before: str) -> Named | None:
    """The repository a host and path name, or None (a site page, a project page, a Space)."""
    host = host.lower()
    segs = [s.rstrip(_TRAILING) for s in segments]
    segs = [s for s in segs if s]
    if host in HF_HOSTS:
        if not segs:
            return None
        first = segs[0].lower()
        if first in ("datasets", "collections"):
            if len(segs) < 3:
                return None
            owner, repo = segs[1], segs[2]
            if first == "datasets":
                return Named(f"https://huggingface.co/datasets/{owner}/{repo}", "data",
                             f"{owner}/{repo}")
            # A collection holds models or datasets: the words just before it say which.
            kind: RepoKind = "data" if re.search(r"\bdata(?:sets?)?\b|\bbenchmark",
                                                 before[-80:], re.I) else "weights"
            return Named(f"https://huggingface.co/collections/{owner}/{repo}", kind,
                         f"{owner}/{repo}")
        if first in _NOT_OWNERS or len(segs) < 2:
            return None  # a site page, or a user or organisation (no repository)
        owner, repo = segs[0], segs[1]
        return Named(f"https://huggingface.co/{owner}/{repo}", "weights", f"{owner}/{repo}")
    if len(segs) < 2 or segs[0].lower() in _NOT_OWNERS:
        return None
    owner, repo = segs[0], re.sub(r"\.git$", "", segs[1], flags=re.I).rstrip(".")
    if not repo:
        return None
    return Named(f"https://{host}/{owner}/{repo}", "code", f"{owner}/{repo}")


def find_repos(text: str) -> list[Named]:
    """The repositories a text names, in order, once each (letter case aside).

    Reads the URLs of an arXiv abstract as a reader does: with or without a scheme, inside
    `\\url{}` / `\\href{}{}` / `\\footnote{}` or a Markdown link, cut by a line wrap ("github.
    com/ owner/repo"), followed by a full stop or a bracket. A deeper path (`/tree/main/x`)
    names its repository.
    """
    plain = _plain(text)
    found: dict[str, Named] = {}
    for m in _URL.finditer(plain):
        path = m.group("path")
        if not path:
            continue
        host = re.sub(r"\s+", "", m.group("host")).lower()
        named = _classify(host, _segments(_join_wrapped(path)), plain[:m.start()])
        if named is not None:
            found.setdefault(named.url.lower(), named)
    return list(found.values())


def links_in(paper_id: str, text: str, found_in: Where = "abstract") -> list[RepoLink]:
    """The repositories a paper's text names, as unchecked links."""
    return [RepoLink(paper_id=paper_id, url=n.url, kind=n.kind, name=n.name, found_in=found_in)
            for n in find_repos(text)]


# verification -----------------------------------------------------------------------------------

def identity(url: str) -> tuple[str, str] | None:
    """(host, owner/repo) of a repository URL, case-folded: what "the same repository" means.
    None for a URL that names no repository (a login page, a site page)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().removeprefix("www.")
    host = "huggingface.co" if host == "hf.co" else host
    if host not in CODE_HOSTS and host not in HF_HOSTS:
        return None
    named = _classify(host, _segments(parts.path), "")
    if named is None:
        return None
    return host, urlsplit(named.url).path.lower()


@dataclass
class Check:
    """What one look at a link found."""

    status: RepoStatus
    http_status: int | None = None
    final_url: str | None = None
    reason: str = ""


@dataclass
class Checker:
    """Verifies repository links: HEAD, or GET when HEAD is refused; short timeout, no retries.

    `enabled=False` checks nothing (every link "unchecked", no request made). A host that could
    not be reached once is not asked again (an offline run spends one failure per host).
    """

    timeout: float = 5.0
    enabled: bool = True
    http: HttpClient | None = None
    down: dict[str, str] = field(default_factory=dict)
    """Hosts that could not be reached in this run, with why."""

    def __post_init__(self) -> None:
        if self.http is None:
            self.http = HttpClient(retries=0, timeout=self.timeout, backoff=0.0, max_wait=0.0)

    def check(self, url: str) -> Check:
        if not self.enabled:
            return Check("unchecked", reason="checks are off (FLASHNEWS_REPO_CHECK=false)")
        host = (urlsplit(url).hostname or "").lower()
        if host in self.down:
            return Check("unchecked", reason=self.down[host])
        assert self.http is not None
        try:
            resp = self.http.request("HEAD", url, allow_redirects=True)
            if resp.status_code in (403, 405):
                resp.close()
                resp = self.http.request("GET", url, allow_redirects=True, stream=True)
            resp.close()
        except Transient as exc:  # 429 or 5xx: the host is there, the answer is not
            return Check("unchecked", exc.status, reason=f"HTTP {exc.status}")
        except requests.TooManyRedirects:
            return Check("moved", reason="too many redirects")
        except (requests.RequestException, OSError, RuntimeError) as exc:
            # RuntimeError: a socket that refuses to connect (a sandbox, pytest's
            # --block-network). Any of these: the network did not answer; not an error.
            why = f"{host} unreachable ({type(exc).__name__})"
            self.down[host] = why
            return Check("unchecked", reason=why)
        return judge(url, resp.status_code, resp.url)


def judge(url: str, status: int, final_url: str) -> Check:
    """The status of a link from its final HTTP answer and where its redirects ended."""
    final = final_url or url
    if status in (404, 410):
        return Check("missing", status, final, f"HTTP {status}")
    if 200 <= status < 300:
        if identity(final) is not None and identity(final) == identity(url):
            return Check("ok", status, final)
        return Check("moved", status, final, f"redirects to {final}")
    return Check("unchecked", status, final, f"HTTP {status}")


def check_links(links: Iterable[RepoLink], checker: Checker, at: str) -> list[RepoLink]:
    """The links with what a check found (`checked_at` = `at` when a host answered)."""
    out = []
    for link in links:
        c = checker.check(link.url)
        answered = c.status != "unchecked" or c.http_status is not None
        out.append(link.model_copy(update={
            "status": c.status, "http_status": c.http_status, "final_url": c.final_url,
            "checked_at": at if answered else link.checked_at}))
    return out


# changes (what `flashnews recheck` records for the weekly edition) --------------------------------

def merge(prior: list[RepoLink], fresh: list[RepoLink], at: str, *, track: bool = True
          ) -> tuple[list[RepoLink], list[RepoEvent]]:
    """The links to store after a check, and the changes it found.

    A link that got no answer this time keeps what the last answer said (nothing known is
    lost to a network failure). With `track`, every change between two answers is an event:
    a kind (code, weights, data) that had no working link and now has one is "… released"; a
    working link that stops working is "link now missing" or "link now redirects elsewhere";
    one that works again is "link works again"; a link never answered before that now works
    is "… link confirmed".
    """
    by_url = {p.url.lower(): p for p in prior}
    had_ok: set[RepoKind] = {p.kind for p in prior if p.status == "ok"}
    rows: list[RepoLink] = []
    events: list[RepoEvent] = []
    for link in fresh:
        prev = by_url.get(link.url.lower())
        if prev is not None:
            link = link.model_copy(update={"url": prev.url, "first_seen": prev.first_seen,
                                           "found_in": prev.found_in})
        else:
            link = link.model_copy(update={"first_seen": link.first_seen or at})
        if link.status == "unchecked" and prev is not None:
            continue  # no answer: the last one stands
        rows.append(link)
        if not track:
            continue
        event = _change(prev, link, had_ok)
        if event:
            events.append(RepoEvent(paper_id=link.paper_id, event=event, kind=link.kind,
                                    url=link.url, at=at,
                                    detail=(link.final_url or "") if link.status == "moved"
                                    else ""))
            if link.status == "ok":
                had_ok.add(link.kind)
    return rows, events


def _change(prev: RepoLink | None, new: RepoLink, had_ok: set[RepoKind]) -> str | None:
    before = prev.status if prev else None
    if new.status == before or new.status == "unchecked":
        return None
    if new.status == "ok":
        if prev is None and new.kind in had_ok:
            return None  # another working link of a kind already out: no news
        # A link that redirected elsewhere and is itself again was public all along.
        if new.kind not in had_ok and before in (None, "missing"):
            return f"{new.kind} released"
        if before == "unchecked":
            return f"{new.kind} link confirmed"
        return "link works again"
    if before == "ok" or (before == "moved" and new.status == "missing") or \
            (before == "missing" and new.status == "moved"):
        return "link now missing" if new.status == "missing" else \
            "link now redirects elsewhere"
    return None


def publication_links(store: Store, papers: dict[str, Paper], ids: Iterable[str],
                      checker: Checker, at: str) -> dict[str, list[RepoLink]]:
    """The repositories each of these papers names, for publishing: what the store already
    holds (a resume, a correction or the day's other format shows what the first look found;
    `flashnews recheck` looks again), else the abstract's links, checked now and stored."""
    out: dict[str, list[RepoLink]] = {}
    for pid in ids:
        stored = store.repo_links(pid)
        paper = papers.get(pid)
        if stored or paper is None:
            out[pid] = stored
            continue
        found = links_in(pid, paper.abstract)
        if found:
            rows, _ = merge([], check_links(found, checker, at), at, track=False)
            store.save_repo_links(pid, rows)
            found = store.repo_links(pid)
        out[pid] = found
    return out


# what a reader sees -----------------------------------------------------------------------------

_FLAG: dict[RepoStatus, str] = {
    "ok": "",
    "moved": " (redirects elsewhere: not trusted)",
    "missing": " (not found)",
    "unchecked": " (not checked)",
}
_LABEL: dict[RepoKind, str] = {"code": "Code", "weights": "Weights", "data": "Data"}


def repo_note(links: list[RepoLink]) -> str:
    """The one line published under an item: "Code: [owner/repo](url) · Weights: …", each
    link flagged unless it answered as itself (one that redirects elsewhere or is gone is
    named, not linked); "No code or weights named." when there is none.

    It always starts with "Code: " or "No code or weights named." (`grounding.REPO_NOTE_RE`):
    the checks read it as this note, not as the item's prose.
    """
    if not links:
        return "No code or weights named."
    parts = []
    kinds: tuple[RepoKind, ...] = ("code", "weights", "data")
    for kind in kinds:
        mine = [link for link in links if link.kind == kind]
        if not mine:
            if kind == "code":
                parts.append("Code: none named")
            continue
        # A link that redirects elsewhere or is gone is named, not linked: readers are not sent
        # where the paper did not point (the JSON keeps the address and where it ends).
        shown = ", ".join((f"[{_md(link.name)}]({link.url})"
                           if link.status in ("ok", "unchecked") else _md(link.name))
                          + _FLAG[link.status] for link in mine)
        parts.append(f"{_LABEL[kind]}: {shown}")
    return " · ".join(parts)


def _md(text: str) -> str:
    """Link text safe in Markdown (owner/repo names carry `_` and `*` now and then)."""
    return re.sub(r"([\\`*_\[\]])", r"\\\1", text)


# the arXiv page ---------------------------------------------------------------------------------

def abs_page_text(html: str) -> str:
    """What an arXiv abs page says in its comments field and abstract, with the target of every
    link in them (arXiv shows a URL there as "this https URL")."""
    from lxml import html as lhtml

    try:
        root = lhtml.fromstring(html)
    except Exception:  # lxml raises a few kinds on an empty or broken page
        return ""
    parts: list[str] = []
    for el in root.xpath('//td[contains(@class, "comments")]'
                         ' | //blockquote[contains(@class, "abstract")]'):
        parts.append(" ".join(el.itertext()))
        parts.extend(str(a) for a in el.xpath(".//a/@href"))
    return "  ".join(parts)


class PageUnreachable(Exception):
    """The arXiv page could not be fetched: `why` is "offline" (no connection), "rate-limited"
    (429 or 503 after the retries) or "answer" (another status)."""

    def __init__(self, message: str, why: Literal["offline", "rate-limited", "answer"]) -> None:
        super().__init__(message)
        self.why = why


def fetch_abs_page(arxiv_id: str, http: HttpClient,
                   base: str = "https://arxiv.org/abs/") -> str:
    """The paper's arXiv abs page: arXiv's politeness and retries on 429/5xx (the client's), a
    connection that fails is not retried (the caller stops asking arXiv)."""

    class _NoNetwork(Exception):
        pass

    def once() -> str:
        try:
            resp = http.get(base + arxiv_id)
        except (requests.ConnectionError, requests.Timeout, OSError, RuntimeError) as exc:
            raise _NoNetwork(type(exc).__name__) from None
        if resp.status_code != 200:
            raise PageUnreachable(f"arXiv answered HTTP {resp.status_code}", "answer")
        return resp.text

    try:
        return http.retrying(once)
    except _NoNetwork as exc:
        raise PageUnreachable(f"arXiv unreachable ({exc})", "offline") from None
    except Transient as exc:
        raise PageUnreachable(f"arXiv kept answering HTTP {exc.status}",
                              "rate-limited" if exc.status in (429, 503) else "answer") from None


@dataclass
class Rechecked:
    """One paper looked at again."""

    paper_id: str
    links: list[RepoLink]
    events: list[RepoEvent]
    problem: str = ""
    """Why the paper could not be fully checked (empty when it was)."""


def recheck_paper(paper_id: str, abstract: str, prior: list[RepoLink], checker: Checker,
                  page: Callable[[str], str] | None, at: str) -> Rechecked:
    """Look at a featured paper again: its arXiv page (when `page` can fetch it) and every link
    it names, old and new; the links to store and what changed."""
    problem = ""
    named = {link.url.lower(): link for link in links_in(paper_id, abstract)}
    if page is not None:
        try:
            text = abs_page_text(page(paper_id))
        except PageUnreachable as exc:
            problem = f"arXiv page not read: {exc}"
        else:
            for link in links_in(paper_id, text, "arxiv-page"):
                named.setdefault(link.url.lower(), link)
    for p in prior:
        named.setdefault(p.url.lower(), p.model_copy())
    fresh = check_links(named.values(), checker, at)
    if fresh and all(f.status == "unchecked" and f.http_status is None for f in fresh):
        why = next(iter(checker.down.values()), "no answer")
        problem = "; ".join(x for x in (problem, f"links not checked: {why}") if x)
    rows, events = merge(prior, fresh, at)
    return Rechecked(paper_id, rows, events, problem)


def settled(links: list[RepoLink]) -> bool:
    """Nothing left to ask: code is out and every link named answers as itself."""
    return any(link.kind == "code" for link in links) and all(
        link.status == "ok" for link in links)
