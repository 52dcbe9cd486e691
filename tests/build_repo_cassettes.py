"""Build the repository-link cassettes: constructed HTTP answers of GitHub, Hugging Face and
arXiv's abs pages. Run `python -m tests.build_repo_cassettes`.

They are constructed, not recorded (neither GitHub, Hugging Face nor arXiv is reachable here).
The papers and the repository URLs their abstracts name are real (tests/fixtures/
repo_abstracts.jsonl: real arXiv records of the 2026-02-24 and 2026-02-25 listings, and the
bundled dev snapshot); the answers are made up to each host's documented behaviour: a 200 to
HEAD, a 404 for a repository not (yet) public, GitHub's 301 for a renamed or transferred
repository (to another owner, or only to other letter case), a 405 to HEAD then a 200 to GET,
a 503. The two redirect targets, CHESS's repository and the arXiv pages' comments are made up
too. See tests/cassettes/repos/README.md.
"""

from __future__ import annotations

import json
import re
from html import escape
from pathlib import Path
from typing import Any

import yaml

OUT = Path(__file__).parent / "cassettes" / "repos"
FIXTURE = Path(__file__).parent / "fixtures" / "repo_abstracts.jsonl"
DEMO = Path(__file__).resolve().parents[1] / "flashnews" / "data" / "papers-2026-02-25.jsonl"

OK = "https://github.com/alinadevkota/FedVG"                 # 2602.21399: public
LATER = "https://github.com/kkkkarry/LogicGraph"             # 2602.21044: "will be released at"
MOVED = "https://github.com/would1920/GeoCode"               # 2602.18745: transferred
MOVED_TO = "https://github.com/geocode-lab/GeoCode-Toolkit"  # (made up)
CASE = "https://github.com/ProjectNeura/MIPCandy"            # 2602.21033: renamed in case only
CASE_TO = "https://github.com/projectneura/mipcandy"
DATASET = "https://huggingface.co/datasets/wfzimmerman/pg19-semantic-novelty"  # 2602.20647
COLLECTION = "https://huggingface.co/collections/nvidia/nemotron-terminal"     # 2602.21193
DOWN = "https://github.com/SALT-NLP/SparkMe"                 # 2602.21136: 503
CHESS_CODE = "https://github.com/chess-kvcache/CHESS"         # named on 2602.20732's page (made up)

_REASON = {200: "OK", 301: "Moved Permanently", 404: "Not Found", 405: "Method Not Allowed",
           503: "Service Unavailable"}


def interaction(method: str, uri: str, status: int, *, location: str | None = None,
                body: str = "", content_type: str = "text/html; charset=utf-8"
                ) -> dict[str, object]:
    headers: dict[str, list[str]] = {"Content-Type": [content_type]}
    if location:
        headers["Location"] = [location]
    if "github.com" in uri:
        headers["Server"] = ["github.com"]
    return {"request": {"body": None, "headers": {}, "method": method, "uri": uri},
            "response": {"status": {"code": status, "message": _REASON[status]},
                         "headers": headers, "body": {"string": body}}}


def record(arxiv_id: str) -> dict[str, Any]:
    for path in (FIXTURE, DEMO):
        for line in path.read_text(encoding="utf-8").splitlines():
            rec = json.loads(line)
            if rec["arxiv_id"].split("v")[0] == arxiv_id:
                return dict(rec)
    raise KeyError(arxiv_id)


def _linked(text: str) -> str:
    """An abstract as arXiv's abs page shows it: each URL an anchor reading "this https URL"."""
    out, at = [], 0
    for m in re.finditer(r"https?://[^\s}]+", text):
        url = m.group(0).rstrip(".,;)")
        out.append(escape(text[at:m.start()]))
        out.append(f'<a href="{escape(url)}" rel="external noopener nofollow" '
                   'class="link-external link-https">this https URL</a>')
        at = m.start() + len(url)
    return "".join(out) + escape(text[at:])


def abs_page(arxiv_id: str, comments: str) -> str:
    """An arXiv abs page in arxiv.org's layout: title, authors, abstract, the metadata table
    (comments, subjects), and a footer whose links are not the paper's."""
    rec = record(arxiv_id)
    names = [str(a) for a in rec.get("authors") or []]
    authors = ", ".join(f'<a href="https://arxiv.org/a/{escape(a.split()[-1].lower())}_1">'
                        f"{escape(a)}</a>" for a in names[:6])
    return f"""<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>[{arxiv_id}] {escape(str(rec["title"]))}</title></head>
<body class="with-cu-identity">
<div id="abs-outer"><div class="leftcolumn"><div id="content-inner"><div id="abs">
<div class="dateline">[Submitted on 24 Feb 2026 (v1), last revised 2 Mar 2026 (this version, v2)]</div>
<h1 class="title mathjax"><span class="descriptor">Title:</span>{escape(str(rec["title"]))}</h1>
<div class="authors"><span class="descriptor">Authors:</span>{authors}</div>
<blockquote class="abstract mathjax">
<span class="descriptor">Abstract:</span>{_linked(str(rec["abstract"]))}
</blockquote>
<div class="metatable"><table summary="Additional metadata">
<tr><td class="tablecell label">Comments:</td>
<td class="tablecell comments mathjax">{comments}</td></tr>
<tr><td class="tablecell label">Subjects:</td><td class="tablecell subjects"><span
 class="primary-subject">Distributed, Parallel, and Cluster Computing (cs.DC)</span></td></tr>
<tr><td class="tablecell label">Cite as:</td><td class="tablecell arxivid"><span
 class="arxivid"><a href="https://arxiv.org/abs/{arxiv_id}">arXiv:{arxiv_id}</a></span></td></tr>
</table></div>
</div></div></div></div>
<footer><ul>
<li><a href="https://info.arxiv.org/help/contact.html">Contact</a></li>
<li><a href="https://github.com/arXiv/arxiv-browse">arXiv's page code</a></li>
</ul></footer>
</body>
</html>
"""


def code_comment(url: str) -> str:
    return ("14 pages, 9 figures. Code: <a href=\"" + url + "\" rel=\"external noopener "
            "nofollow\" class=\"link-external link-https\">this https URL</a>")


def write(name: str, interactions: list[dict[str, object]]) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"{name}.yaml").write_text(yaml.safe_dump(
        {"interactions": interactions, "version": 1}, allow_unicode=True, sort_keys=False))


def main() -> None:
    # Publish day: the links of the abstracts, checked once each.
    write("links", [
        interaction("HEAD", OK, 200),
        interaction("HEAD", LATER, 404),
        interaction("HEAD", MOVED, 301, location=MOVED_TO),
        interaction("HEAD", MOVED_TO, 200),
        interaction("HEAD", CASE, 301, location=CASE_TO),
        interaction("HEAD", CASE_TO, 200),
        interaction("HEAD", DATASET, 200),
        interaction("HEAD", COLLECTION, 405),
        interaction("GET", COLLECTION, 200, body="<!doctype html><title>Nemotron</title>"),
        interaction("HEAD", DOWN, 503),
    ])
    # Five days later: CHESS's page now names its code in the comments; LogicGraph's code is
    # out (its page says so too). FedVG (code out, link working) is not asked; then `--all`
    # asks all three again, and FedVG's repository has gone.
    chess = [interaction("GET", "https://arxiv.org/abs/2602.20732", 200,
                         body=abs_page("2602.20732", code_comment(CHESS_CODE))),
             interaction("HEAD", CHESS_CODE, 200)]
    logic = [interaction("GET", "https://arxiv.org/abs/2602.21044", 200,
                         body=abs_page("2602.21044", "Accepted at ACL 2026. "
                                       + code_comment(LATER))),
             interaction("HEAD", LATER, 200)]
    write("recheck_day5", [*chess, *logic, *chess, *logic,
                           interaction("GET", "https://arxiv.org/abs/2602.21399", 200,
                                       body=abs_page("2602.21399", "10 pages")),
                           interaction("HEAD", OK, 404)])


if __name__ == "__main__":
    main()
