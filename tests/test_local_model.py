"""The embedded model: assembly checks, server lifecycle, and real end-to-end runs (marked)."""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.util
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from flashnews.config import Settings
from flashnews.errors import LocalModelError
from flashnews.models import Edition
from flashnews.service import EditionService
from flashnews.text.grounding import LINK_RE, SCORE_RE
from flashnews.tools import local_model
from flashnews.tools.arxiv import demo_snapshot, read_snapshot, write_snapshot

HAS_LLAMA = importlib.util.find_spec("llama_cpp") is not None
needs_llama = pytest.mark.skipif(not HAS_LLAMA, reason="the local extra is not installed")


def _parts(tmp_path: Path, chunks: list[bytes]) -> list[Path]:
    out = []
    for i, data in enumerate(chunks):
        p = tmp_path / f"part{i:02d}.bin"
        p.write_bytes(data)
        out.append(p)
    return out


def test_assembly_joins_parts_in_order_and_checks_the_hash(tmp_path) -> None:
    chunks = [b"GGUF" + b"a" * 10, b"b" * 7, b"c" * 3]
    whole = b"".join(chunks)
    digest = hashlib.sha256(whole).hexdigest()
    path = local_model.assemble(tmp_path / "models", _parts(tmp_path, chunks), size=len(whole),
                                sha256=digest, name="m.gguf")
    assert path.read_bytes() == whole
    # Verified once: a second call does not read the parts again.
    assert local_model.assemble(tmp_path / "models", [], size=len(whole), sha256=digest,
                                name="m.gguf") == path


def test_corrupt_parts_are_a_clear_error_and_leave_nothing(tmp_path) -> None:
    parts = _parts(tmp_path, [b"GGUF", b"x"])
    with pytest.raises(LocalModelError, match=r"corrupt.*reinstall the part packages"):
        local_model.assemble(tmp_path / "models", parts, size=5, sha256="0" * 64, name="m.gguf")
    assert list((tmp_path / "models").iterdir()) == []


def test_missing_part_package_is_named(monkeypatch) -> None:
    monkeypatch.setattr(local_model, "PART_PACKAGE", "flashnews_no_such_part{}")
    with pytest.raises(LocalModelError, match=r"flashnews-no-such-part1 is not installed.*"
                                              r"flashnews\[local\]"):
        local_model.part_paths()


def test_chosen_model_must_be_a_gguf(tmp_path) -> None:
    bad = tmp_path / "model.bin"
    bad.write_bytes(b"not a model")
    with pytest.raises(LocalModelError, match="not a GGUF"):
        local_model.check_gguf(bad)
    with pytest.raises(LocalModelError, match="points to no file"):
        local_model.check_gguf(tmp_path / "missing.gguf")


@needs_llama
def test_server_that_fails_to_start_shows_its_log(tmp_path) -> None:
    fake = tmp_path / "broken.gguf"
    fake.write_bytes(b"GGUF" + b"\0" * 64)
    server = local_model.LocalServer(fake, log_path=tmp_path / "server.log", start_timeout=60)
    with pytest.raises(LocalModelError, match="failed to start") as info:
        server.start()
    assert len(str(info.value).splitlines()) > 2  # the server's last log lines are included
    assert server.proc is None


# ---- the real model ----------------------------------------------------------------------


def _model_path() -> Path:
    cache = os.environ.get("FLASHNEWS_MODEL_CACHE", str(Path.home() / ".cache/flashnews/models"))
    return local_model.assemble(Path(cache))


@pytest.fixture(scope="module")
def real_model() -> Path:
    if not HAS_LLAMA:
        pytest.skip("the local extra is not installed")
    try:
        return _model_path()
    except LocalModelError as exc:
        pytest.skip(str(exc))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie waiting for its parent is dead for our purposes.
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split()[2] != "Z"


def _gone(pid: int, within: float) -> bool:
    deadline = time.monotonic() + within
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    return not _alive(pid)


@pytest.mark.model
def test_server_dies_with_a_sigkilled_parent(real_model, tmp_path) -> None:
    script = textwrap.dedent(f"""
        import sys, time
        from pathlib import Path
        from flashnews.tools.local_model import LocalServer
        s = LocalServer(Path({str(real_model)!r}), log_path=Path({str(tmp_path)!r}) / "s.log")
        s.start()
        print(s.proc.pid, flush=True)
        time.sleep(600)
    """)
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    child = int(parent.stdout.readline())  # type: ignore[union-attr]
    assert _alive(child)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    assert _gone(child, within=20), "the model server outlived its parent"


@pytest.mark.model
def test_ctrl_c_stops_the_embedded_server(real_model, tmp_path) -> None:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("FLASHNEWS_") and k != "OPENAI_API_KEY"}
    env.update(FLASHNEWS_HOME=str(tmp_path / "home"), FLASHNEWS_LOCAL_MODEL=str(real_model))
    proc = subprocess.Popen([sys.executable, "-m", "flashnews", "run", "--date", "2026-02-25",
                             "--headless", "--out", str(tmp_path / "out")], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    log = tmp_path / "home" / "logs" / "local-model.log"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and "Uvicorn running" not in (
            log.read_text() if log.exists() else ""):
        time.sleep(0.2)
    # Only this run's server (its child): other flashnews processes may serve models too.
    server = subprocess.run(["pgrep", "-P", str(proc.pid), "-f", "flashnews.tools._llama_serve"],
                            capture_output=True, text=True).stdout.split()
    assert server, "the server never started"
    time.sleep(2)  # let triage begin
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    for pid in map(int, server):
        assert _gone(pid, within=15), "the model server outlived Ctrl-C"


@pytest.mark.model
def test_real_local_model_writes_an_edition_end_to_end(real_model, tmp_path) -> None:
    """3 on-beat papers and 1 off-beat paper through the embedded model, server included."""
    keep = {"2602.20732", "2602.20662", "2602.20217", "2602.21987"}
    day = tmp_path / "day.jsonl"
    write_snapshot(day, [p for p in read_snapshot(demo_snapshot()) if p.arxiv_id in keep])
    settings = Settings(home=tmp_path / "home", local_model=real_model, flash_items=3,
                        flash_also=0, critic_rounds=1)
    service = EditionService(settings)
    edition = Edition(date=dt.date(2026, 2, 25), format="flash")
    result = service.run(edition, source=str(day), out_dir=tmp_path / "out")
    assert result.outcome in ("published", "needs-review"), result.message
    md = result.markdown or ""
    usage = service.store.usage(edition.id)
    state = service.state(edition.id).values
    # One yes/no question per paper the ranking stage sends the model (at least the three on
    # the beat); a paper it settles alone is scored "ranking" with no call.
    asked = [a for a in state["assessments"].values() if a["method"] == "logprob"]
    assert usage["triage"].calls == len(asked) >= 3
    assert {a["paper_id"] for a in asked} >= keep - {"2602.21987"}
    assert usage["writer"].calls >= 4
    assert usage["critic"].calls >= 1 and usage["writer"].output_tokens > 10  # headlines, lead
    selected = state["selection"]["main"]
    assert selected and set(selected) <= keep
    scores = {pid: a["score"] for pid, a in state["assessments"].items()}
    assert scores["2602.21987"] < max(scores[p] for p in keep - {"2602.21987"})
    links = {u.rsplit("/", 1)[-1] for _, u in LINK_RE.findall(md)}
    assert links == set(selected)
    for pid, (score, hype) in zip(selected, SCORE_RE.findall(md), strict=True):
        a = state["assessments"][pid]
        assert (int(score), int(hype)) == (a["score"], a["hype"])
    # The editorial rules hold on the real model's items: third person, no copy beyond a
    # result's own clause, every number grounded, the numbered results quoted, a complete lead.
    from flashnews.agents import candidates
    from flashnews.evals.editorial import edition_metrics
    from flashnews.models import Draft

    ed = edition_metrics(Draft.model_validate(state["draft"]), service.store.papers(edition.id))
    assert ed["first_person_items"] == 0 and ed["max_copy"] <= candidates.RESULT_MAX_COPY, ed
    assert ed["ungrounded_numbers"] == 0 and ed["quotes_when_numbered"] == 1.0, ed
    assert ed["lead_complete"], state["draft"]["lead"]
    # The server (a child of this process) is gone once the run is over.
    out = subprocess.run(["pgrep", "-P", str(os.getpid()), "-f", "flashnews.tools._llama_serve"],
                         capture_output=True, text=True)
    assert out.stdout.strip() == ""
    service.close()


def test_echo_with_logprobs_is_refused_by_the_last_token_server() -> None:
    from flashnews.tools._llama_serve import refuse_echo_logprobs

    def create(self: object, prompt: str, max_tokens: int = 16, logprobs: int | None = None,
               echo: bool = False) -> str:
        return "ok"

    wrapped = refuse_echo_logprobs(create)
    assert wrapped(None, "p", logprobs=5) == "ok"
    assert wrapped(None, "p", echo=True) == "ok"
    with pytest.raises(ValueError, match="echo with logprobs"):
        wrapped(None, "p", 16, 5, True)


@needs_llama
def test_the_last_token_eval_leaves_a_model_without_probabilities_to_the_stock_code() -> None:
    from flashnews.tools._llama_serve import eval_last_token

    class Stock:
        _logits_all = False

        def eval(self, tokens: list[int]) -> None:
            self.got = tokens

    model = Stock()
    eval_last_token(model, [1, 2, 3])
    assert model.got == [1, 2, 3]


@needs_llama
def test_lazy_logprobs_compute_only_the_rows_read() -> None:
    """The server's log-softmax: the stock values, for the rows a completion reads only."""
    import numpy as np

    from flashnews.tools import _llama_serve

    def stock(logits: np.ndarray, axis: int = -1) -> np.ndarray:
        calls.append(logits.shape)
        shifted = logits - logits.max(axis=axis, keepdims=True)
        return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))  # type: ignore[no-any-return]

    calls: list[tuple[int, ...]] = []
    logits = np.random.default_rng(0).normal(size=(300, 50)).astype(np.float32)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_llama_serve, "_STOCK_LOGPROBS", [stock])
        lazy = _llama_serve.lazy_logprobs(logits)[298:]
        assert calls == [] and len(lazy) == 2
        rows = list(zip([7], lazy, strict=False))  # as the completion reads them: one token
        assert calls == [(50,)]
        assert np.allclose(rows[0][1], stock(logits)[298], atol=1e-6)
        assert isinstance(rows[0][1], list) and isinstance(rows[0][1][0], float)
        assert np.allclose(lazy[1], stock(logits[299]), atol=1e-6)
        calls.clear()
        one = _llama_serve.lazy_logprobs(logits[5])  # a single row: the stock function itself
        assert calls == [(50,)] and isinstance(one, np.ndarray)


@pytest.mark.model
def test_last_token_logits_give_the_stock_probabilities(real_model, monkeypatch) -> None:
    """The server's patched eval and log-softmax: the same token probabilities, and no prompt
    row computed."""
    import types

    from llama_cpp import Llama

    from flashnews.tools import _llama_serve
    from flashnews.tools._llama_serve import eval_last_token

    llm = Llama(str(real_model), n_ctx=512, n_threads=os.cpu_count() or 2, logits_all=True,
                verbose=False)
    msgs = [{"role": "system", "content": "You screen arXiv papers."},
            {"role": "user", "content": "Title: KV cache quantization for long-context "
             "serving.\nIs this paper about LLM inference? Answer yes or no, then say why "
             "in one sentence."}]  # several tokens: generation after the patched eval too

    def probs() -> list[dict[str, float]]:
        llm.reset()  # no prefix reuse: every prompt token is evaluated again
        r = llm.create_chat_completion(msgs, logprobs=True, top_logprobs=5, max_tokens=3,
                                       temperature=0)
        return [{e["token"]: e["logprob"] for e in pos["top_logprobs"]}
                for pos in r["choices"][0]["logprobs"]["content"]]

    stock = probs()
    llm.scores[:] = 0.0
    llm.eval = types.MethodType(eval_last_token, llm)  # type: ignore[method-assign]
    monkeypatch.setattr(_llama_serve, "_STOCK_LOGPROBS", [Llama.logits_to_logprobs])
    monkeypatch.setattr(Llama, "logits_to_logprobs", staticmethod(_llama_serve.lazy_logprobs))
    patched = probs()
    assert len(patched) == len(stock) >= 2
    for s, p in zip(stock, patched, strict=True):
        assert s.keys() == p.keys()
        assert all(abs(s[k] - p[k]) < 0.02 for k in s), (s, p)
    # Only the prompt's last row (and the generated tokens' rows) were filled.
    assert not llm.scores[0].any()
    llm.close()
