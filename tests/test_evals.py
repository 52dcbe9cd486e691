"""The evals: datasets and their schema, metrics, the smoke replay against the committed
baseline, the exit code of a regression, and editor decisions as cases."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from flashnews.config import EMBEDDED_MODEL_NAME, Settings, eval_data_dir
from flashnews.errors import ConfigError
from flashnews.evals import build, metrics, report, runner, schema
from flashnews.evals.decisions import EditorDecision, add_decisions, to_case

REPO = Path(__file__).resolve().parents[1]
SHARED = eval_data_dir() / "data"
CASSETTES = runner.CASSETTES / runner.slug(EMBEDDED_MODEL_NAME)
needs_cassettes = pytest.mark.skipif(not (CASSETTES / "meta.json").exists(),
                                     reason="no eval cassettes recorded (make eval-record)")


def _embedded() -> Settings:
    # The embedded model's settings (no endpoint): replay picks its cassettes.
    return Settings()


def _copy_datasets(tmp_path: Path) -> Path:
    root = tmp_path / "datasets"
    shutil.copytree(schema.DATASETS, root)
    return root


# datasets -----------------------------------------------------------------------------------


def test_every_dataset_has_a_versioned_header_and_valid_cases() -> None:
    data = runner.Datasets("full")
    assert set(data.versions) == {"triage", "editor", "injection", "writer", "drafts", "tldr",
                                  "realday", "realday_model", "bulletins", "perturbations",
                                  "claims"}
    assert len(data.realday_model) >= 100 and all(0 <= r.p_yes <= 1 for r in data.realday_model)
    assert len(data.tldr) == 100 and all(c.target and c.source for c in data.tldr)
    assert "editors-2026-02-25-flash" in {c.case_id for c in data.writer}
    assert all(v >= 1 for v in data.versions.values())
    labels = [c.label for c in data.triage]
    assert (labels.count("positive"), labels.count("negative"), labels.count("borderline")) == (
        16, 12, 3)
    assert sum(c.ref_score is not None for c in data.triage) == 16
    assert {c.style for c in data.injection} >= {"direct", "paraphrased", "tags", "stuffing"}
    kinds = [bool(c.expect) for c in data.drafts]
    assert kinds.count(False) >= 3 and kinds.count(True) >= 12


@pytest.mark.skipif(not SHARED.is_dir(), reason="the eval data is not present")
def test_bundled_datasets_are_what_the_builder_makes_from_shared_data(tmp_path: Path) -> None:
    built = build.build(SHARED, root=tmp_path)
    # The editor dataset grows with add-decisions: only its empty start is built.
    for path in [p for p in built if p.name != "editor.jsonl"]:
        assert path.read_text() == (schema.DATASETS / path.name).read_text(), path.name
    assert len(built) == 11


def test_a_bad_case_names_its_file_and_line(tmp_path: Path) -> None:
    root = _copy_datasets(tmp_path)
    path = root / "injection.jsonl"
    lines = path.read_text().splitlines()
    lines[2] = lines[2].replace('"style"', '"styel"')
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ConfigError, match=r"injection.jsonl:3: invalid InjectionCase"):
        schema.read("injection", schema.InjectionCase, root=root)
    (root / "writer.jsonl").write_text('{"case_id": "x"}\n')
    with pytest.raises(ConfigError, match="not a dataset header"):
        schema.read("writer", schema.WriterCase, root=root)


# metrics ------------------------------------------------------------------------------------


def test_statistics() -> None:
    assert metrics.auc([3, 4], [1, 2]) == 1.0
    assert metrics.auc([1, 2], [1, 2]) == 0.5
    assert metrics.spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert metrics.spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    # ties take their mean rank: ranks (0, 1.5, 1.5, 3) against (0, 1, 2, 3)
    assert metrics.spearman([1, 2, 2, 3], [1, 2, 3, 4]) == pytest.approx(0.9486833)
    assert metrics.spearman([1, 1, 1], [1, 2, 3]) is None
    assert metrics.mae([90, 50], [95, 60]) == 7.5


def test_grounding_counts_numbers_and_claims() -> None:
    abstract = ("CHESS keeps 1% of the KV cache and reaches up to 4.56x throughput on long "
                "context benchmarks.")
    g = metrics.grounding("It keeps 1% of the KV cache for 5.2x throughput. It also cures "
                          "cancer in mice.", abstract)
    assert g == {"numbers": 2, "numbers_grounded": 1, "claims": 2, "claims_grounded": 1}


@pytest.mark.parametrize(("name", "base", "now", "status"), [
    ("score_auc", 0.90, 0.88, "worse"),          # within 0.03
    ("score_auc", 0.90, 0.86, "regression"),
    ("score_auc", 0.90, 0.95, "better"),
    ("injection_mean_shift", 2.0, 4.5, "regression"),  # lower is better, tolerance 2 points
    ("triage_tokens_per_case", 1000, 1090, "worse"),      # 10% relative
    ("triage_tokens_per_case", 1000, 1110, "regression"),
    ("triage_seconds_per_case", 1.0, 9.0, "info"),        # never gated
    ("critic_catch", 1.0, None, "regression"),    # its cases are gone
    ("critic_catch", 1.0, 1.0, "ok"),
])
def test_tolerances(name: str, base: float, now: float | None, status: str) -> None:
    assert metrics.compare(metrics.BY_NAME[name], base, now).status == status


# replay -------------------------------------------------------------------------------------


def _smoke_baseline() -> dict:
    entry = report.load_baseline(runner.BASELINE)["models"][EMBEDDED_MODEL_NAME]["smoke"]
    return dict(entry)


@pytest.mark.embed  # the ranking stage runs on the real embedding model
@needs_cassettes
def test_smoke_replay_reproduces_the_committed_baseline() -> None:
    got = runner.run(_embedded(), mode="replay", subset="smoke")
    base = _smoke_baseline()
    assert got.model == EMBEDDED_MODEL_NAME and got.scoring == "logprob"
    assert got.datasets == base["datasets"]
    gated = {n for n, mt in metrics.BY_NAME.items() if mt.tolerance is not None}
    assert {k: v for k, v in got.metrics.items() if k in gated} == {
        k: v for k, v in base["metrics"].items() if k in gated}
    # Replay is a real run of the agents: the cases were scored and written.
    assert len(got.cases["triage"]) == 8 and len(got.cases["writer"]) == 3
    assert got.metrics["triage_calls_per_case"] > 0


def _eval_cli(*args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "flashnews", "eval", *args, "--reports",
                           str(tmp_path / "reports")], capture_output=True, text=True,
                          timeout=300, cwd=tmp_path)


@pytest.mark.embed  # the ranking stage runs on the real embedding model
@needs_cassettes
def test_a_metric_below_its_baseline_fails_the_command(tmp_path: Path) -> None:
    data = report.load_baseline(runner.BASELINE)
    smoke = data["models"][EMBEDDED_MODEL_NAME]["smoke"]["metrics"]
    # The same run against a baseline that was better: as if this run's scores had drifted
    # more under injection and its writer prompt had doubled in tokens.
    smoke["injection_mean_shift"] = round(smoke["injection_mean_shift"] - 2.5, 2)
    smoke["writer_tokens_per_case"] = round(smoke["writer_tokens_per_case"] / 2, 1)
    degraded = tmp_path / "baseline.json"
    degraded.write_text(json.dumps(data))
    run = _eval_cli("--subset", "smoke", "--baseline", str(degraded), "--write-baseline",
                    str(degraded), tmp_path=tmp_path)
    assert run.returncode == 11, run.stdout + run.stderr
    assert json.loads(degraded.read_text()) == data  # a run that regressed is no baseline
    assert "2 metric(s) regressed" in run.stderr
    assert "injection_mean_shift" in run.stderr and "writer_tokens_per_case" in run.stderr
    assert "regression" in run.stdout and "baseline" in run.stdout
    files = {p.suffix for p in (tmp_path / "reports").iterdir()}
    assert {".json", ".md", ".png", ".jsonl"} <= files
    # Against the committed baseline the same replay passes.
    ok = _eval_cli("--subset", "smoke", "--baseline", str(runner.BASELINE), tmp_path=tmp_path)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "no regression" in ok.stdout
    md = next((tmp_path / "reports").glob("run-*.md")).read_text()
    assert "| score_auc |" in md and "## triage" in md


@pytest.mark.embed  # the ranking stage runs on the real embedding model
@needs_cassettes
def test_replay_of_a_changed_request_says_to_record_again(tmp_path: Path) -> None:
    root = _copy_datasets(tmp_path)
    path = root / "writer.jsonl"
    # Another score in the writer case changes nothing sent; another paper does.
    path.write_text(path.read_text().replace('"main": ["2602.20662", "2602.21140"]',
                                             '"main": ["2602.20662", "2602.19938"]'))
    with pytest.raises(runner.ReplayMismatch, match="make eval-record"):
        runner.run(_embedded(), mode="replay", subset="smoke", datasets=root)


def test_replay_without_recordings_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no recordings for model 'nobody'"):
        runner.run(Settings(model="nobody"), mode="replay", subset="smoke",
                   cassettes=tmp_path)


# editor decisions ---------------------------------------------------------------------------


DECISIONS = [
    {"edition_id": "2026-02-25-flash", "at": "2026-02-25T21:00:00Z", "command": "pin",
     "args": {"paper_id": "2602.21144"}, "reason": "SSM serving matters", "round": 1,
     "editor": "ana", "extra": {"anything": True}},
    {"edition_id": "2026-02-25-flash", "at": "2026-02-25T21:01:00Z", "command": "drop",
     "args": ["2602.19619"], "reason": "not inference systems", "round": 1},
    {"edition_id": "2026-02-25-flash", "at": "2026-02-25T21:02:00Z", "command": "rescore",
     "args": "2602.20732 97 70", "reason": "", "round": 1},
    {"edition_id": "2026-02-25-flash", "at": "2026-02-25T21:03:00Z", "command": "move",
     "args": ["2602.20732", 1], "reason": "", "round": 1},
    {"edition_id": "2026-02-25-flash", "at": "2026-02-25T21:04:00Z", "command": "approve",
     "args": None, "reason": "", "round": 2},
    {"edition_id": "2026-02-25-flash", "at": "2026-02-25T21:05:00Z", "command": "rescore",
     "args": {"arxiv_id": "2602.22261v1", "score": 30}, "round": 2},
    {"edition_id": "2026-02-25-flash", "at": "2026-02-25T21:06:00Z", "command": "rescore",
     "args": "2602.20662 hype=61 score=90", "round": 2},
]


def test_decisions_become_versioned_triage_cases(tmp_path: Path) -> None:
    root = _copy_datasets(tmp_path)
    file = tmp_path / "decisions.jsonl"
    file.write_text("\n".join(json.dumps(d) for d in DECISIONS) + "\n")
    before = schema.read("editor", schema.TriageCase, root=root)[0].version
    changed, skipped, version = add_decisions(file, root=root)
    assert (changed, skipped, version) == (5, 2, before + 1)
    _, cases = schema.read("editor", schema.TriageCase, root=root)
    got = {c.paper_id: (c.label, c.ref_score, c.ref_hype) for c in cases}
    assert got == {"2602.21144": ("positive", None, None), "2602.19619": ("negative", None, None),
                   "2602.20732": ("positive", 97, 70), "2602.22261": ("negative", 30, None),
                   "2602.20662": ("positive", 90, 61)}
    assert all(c.source == "editor" and c.paper is not None for c in cases)
    # The same file again changes nothing, and the version stays.
    assert add_decisions(file, root=root) == (0, 2, before + 1)
    # The runner takes them as cases.
    assert len(runner.Datasets("full", root).editor) == 5


def test_decisions_need_their_paper(tmp_path: Path) -> None:
    d = EditorDecision.model_validate({"edition_id": "2026-03-02-flash", "command": "pin",
                                       "args": {"paper_id": "2603.00001"}, "new_field": 1})
    with pytest.raises(ConfigError, match=r"2603\.00001 .* not found"):
        to_case(d, None)
    assert to_case(d.model_copy(update={"command": "edit"}), None) is None


def test_add_decisions_command_with_a_snapshot(tmp_path: Path) -> None:
    root = _copy_datasets(tmp_path)
    paper = json.loads((schema.DATASETS / "papers.jsonl").read_text().splitlines()[1])["paper"]
    paper |= {"arxiv_id": "2603.00001", "title": "A new paper on KV cache serving"}
    snapshot = tmp_path / "day.jsonl"
    snapshot.write_text(json.dumps(paper) + "\n")
    file = tmp_path / "decisions.jsonl"
    file.write_text(json.dumps({"edition_id": "2026-03-02-flash", "command": "pin",
                                "args": {"paper_id": "2603.00001"}}) + "\n")
    run = subprocess.run([sys.executable, "-m", "flashnews", "eval", "add-decisions", str(file),
                          "--papers", str(snapshot), "--datasets", str(root)],
                         capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "1 case(s) added" in run.stdout
    _, cases = schema.read("editor", schema.TriageCase, root=root)
    assert [(c.paper_id, c.label, c.paper.title) for c in cases] == [  # type: ignore[union-attr]
        ("2603.00001", "positive", "A new paper on KV cache serving")]


@pytest.mark.embed  # the ranking stage runs on the real embedding model
def test_record_then_replay_gives_the_same_metrics(tmp_path: Path) -> None:
    # Against the stub endpoint (generated scoring, batches): what --record writes, --replay
    # reads back to the same metrics with no server.
    from flashnews.testing import StubServer

    cassettes = tmp_path / "cassettes"
    with StubServer() as stub:
        live = runner.run(Settings(base_url=stub.base_url, model="stub-model"), mode="live",
                          subset="smoke", record=True, cassettes=cassettes)
        calls = sum(stub.counts.values())
    assert live.model == "stub-model" and live.scoring == "generated" and calls > 0
    assert live.recorded and not (cassettes / "stub-model").exists()  # staged until kept
    runner.keep_recording(live)
    # SciTLDR makes no model call in this setup (code writes the sentence): no tldr cassette.
    assert sorted(p.name for p in (cassettes / "stub-model").iterdir()) == [
        "claims.yaml", "critic.yaml", "meta.json", "triage.yaml", "writer.yaml"]
    assert "authorization" not in (cassettes / "stub-model" / "writer.yaml").read_text().lower()
    replay = runner.run(Settings(model="stub-model"), mode="replay", subset="smoke",
                        cassettes=cassettes)
    timing = {n for n in live.metrics if n.endswith("_seconds_per_case")}
    assert {k: v for k, v in replay.metrics.items() if k not in timing} == {
        k: v for k, v in live.metrics.items() if k not in timing}
    assert replay.cases == live.cases


def test_a_non_default_scoring_method_is_its_own_setup(tmp_path) -> None:
    embedded = Settings(home=tmp_path)
    assert runner.model_key(embedded) == EMBEDDED_MODEL_NAME  # logprob: its default
    generated = embedded.model_copy(update={"triage_scoring": "generated"})
    assert runner.model_key(generated) == f"{EMBEDDED_MODEL_NAME}+generated"
    endpoint = Settings(home=tmp_path, base_url="http://127.0.0.1:9/v1", model="m")
    assert runner.model_key(endpoint) == "m"
    assert runner.model_key(endpoint.model_copy(update={"triage_scoring": "logprob"})) == \
        "m+logprob"


def test_tldr_task_reads_any_scitldr_file_and_scores_against_the_baselines(tmp_path: Path) -> None:
    from flashnews.evals import tldr
    from flashnews.testing import StubServer

    src = tmp_path / "test.jsonl"
    rows = [{"source": ["Caches grow with context.",
                        "We propose SlimKV, a cache that evicts cold blocks on the fly.",
                        "SlimKV cuts memory by 40% on long contexts."],
             "source_labels": [0, 1, 0], "rouge_scores": [0.1, 0.5, 0.2], "paper_id": f"p{i}",
             "target": ["We propose SlimKV, a cache that evicts cold blocks."],
             "title": "SlimKV: Evicting Cold Blocks"} for i in range(3)]
    src.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    assert [c.paper_id for c in tldr.read_scitldr(src, limit=2)] == ["p0", "p1"]
    with StubServer() as stub:
        report = runner.run(Settings(base_url=stub.base_url, model="stub-model"), mode="live",
                            subset="full", task="tldr", tldr_data=src, limit=2)
    assert set(report.cases) == {"tldr"} and len(report.cases["tldr"]) == 2
    got = report.metrics
    assert got["tldr_rouge1"] > got["tldr_first_rouge1"] and got["tldr_propose_rouge1"] > 50
    assert got["tldr_first_person"] == 0 and got["tldr_max_copy"] <= 10
    assert report.datasets["tldr"] == 0  # other cases than the baseline's: not compared
    row = report.cases["tldr"][0]
    assert row["sentence"].startswith("SlimKV") and not facts_first_person(row["sentence"])
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"source": ["x"], "paper_id": "q"}\n')
    with pytest.raises(ConfigError, match=r"bad\.jsonl:1"):
        tldr.read_scitldr(bad)


def facts_first_person(text: str) -> str | None:
    from flashnews.text.facts import first_person

    return first_person(text)


def test_rouge_is_the_max_over_targets_with_stemming() -> None:
    from flashnews.evals import tldr

    assert tldr.rouge("we propose caches", ["unrelated words", "We proposed a cache"])[
        "rouge1"] == pytest.approx(100 * 2 * (3 / 3 * 3 / 4) / (3 / 3 + 3 / 4) / 1, abs=1e-6)


def test_a_task_run_compares_only_its_metrics_and_cannot_make_a_baseline(tmp_path) -> None:
    from flashnews.evals import report as rep

    r = runner.Report(model="m", mode="replay", subset="full", at="now", datasets={"tldr": 1},
                      metrics={"tldr_rouge1": 40.0}, task="tldr")
    names = {c.metric.name for c in rep.comparisons(r, {"datasets": {"tldr": 1},
                                                        "metrics": {"triage_auc": 0.9}})}
    assert names and all(n.startswith("tldr_") for n in names)
    res = _eval_cli("--task", "tldr", "--write-baseline", str(tmp_path / "b.json"),
                    tmp_path=tmp_path)
    assert res.returncode == 2 and "--write-baseline needs every task" in res.stderr


def test_cassettes_quoting_the_house_bulletins_keep_only_digests() -> None:
    # The critic model's claims are the house bulletins' sentences: their recordings keep a
    # sha256 of each request, and replay still matches them.
    import yaml

    for folder in runner.CASSETTES.iterdir():
        path = folder / "claims.yaml"
        if not path.exists():
            continue
        for interaction in yaml.safe_load(path.read_text())["interactions"]:
            assert str(interaction["request"]["body"]).startswith("sha256:"), path
            assert "Sentence about this paper" not in json.dumps(interaction["response"])
