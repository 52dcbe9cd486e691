"""Baselines, comparisons and reports of eval runs (rich table, JSON, Markdown, PNG chart).

`baseline.json` keeps, per model and subset, the metrics of the run that made it and the dataset
versions it ran on. A metric whose dataset changed version since is shown as not comparable and
is not gated: the baseline must be made again on the new cases.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from rich.table import Table

from flashnews.evals.metrics import METRICS, Comparison, compare
from flashnews.evals.runner import Report, slug


def load_baseline(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {"schema_version": 1, "models": {}}
    return dict(json.loads(path.read_text()))


def baseline_for(path: Path, report: Report) -> dict[str, Any] | None:
    """The baseline entry for this run's model and subset, if there is one."""
    entry = load_baseline(path).get("models", {}).get(report.model, {}).get(report.subset)
    return dict(entry) if entry else None


def save_baseline(path: Path, report: Report) -> None:
    """Make this run the baseline of its model and subset."""
    data = load_baseline(path)
    data.setdefault("models", {}).setdefault(report.model, {})[report.subset] = {
        "at": report.at, "mode": report.mode, "scoring": report.scoring,
        "datasets": report.datasets, "metrics": report.metrics}
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")


TASK_DATASETS: dict[str, set[str]] = {
    "triage": {"triage", "injection", "editor", "realday"}, "writer": {"writer"},
    "critic": {"drafts", "bulletins", "perturbations", "claims"}, "tldr": {"tldr"}}


def comparisons(report: Report, base: dict[str, Any] | None) -> list[Comparison]:
    """Every known metric of this run against the baseline (all 'new' without one)."""
    out = []
    versions = (base or {}).get("datasets", {})
    values = (base or {}).get("metrics", {})
    ran = TASK_DATASETS.get(report.task)
    for metric in METRICS:
        if ran is not None and metric.dataset not in ran:
            continue  # `--task`: only that task's metrics
        if base is None:
            out.append(compare(metric, None, report.metrics.get(metric.name)))
            continue
        same = versions.get(metric.dataset) == report.datasets.get(metric.dataset)
        out.append(compare(metric, values.get(metric.name), report.metrics.get(metric.name),
                           comparable=same))
    return out


def regressions(rows: list[Comparison]) -> list[Comparison]:
    return [c for c in rows if c.status == "regression"]


def value_text(x: float | None) -> str:
    """A metric value as the reports show it: 3 significant digits, integers from 10 up."""
    return _fmt(x)


def tolerance_text(c: Comparison) -> str:
    """How much worse the metric may get, as the reports show it ('-0.05', '+10%', 'none')."""
    return _tol(c)


def _fmt(x: float | None) -> str:
    if x is None:
        return "—"
    return f"{x:.0f}" if float(x).is_integer() and abs(x) >= 10 else f"{x:.3g}"


def _tol(c: Comparison) -> str:
    """How much worse the metric may get: '-0.05' (higher is better), '+3', '+10%'."""
    t = c.metric.tolerance
    if t is None:
        return "not gated"
    if t == 0:
        return "none"
    sign = "-" if c.metric.better == "higher" else "+"
    return f"{sign}{t:.0%}" if c.metric.relative else f"{sign}{_fmt(t)}"


_STYLE = {"regression": "bold red", "worse": "yellow", "better": "green", "ok": "",
          "new": "cyan", "not comparable": "magenta", "missing": "yellow", "info": "dim"}


def table(report: Report, rows: list[Comparison], has_baseline: bool) -> Table:
    """The side-by-side table: baseline, this run, change, tolerance, verdict."""
    title = f"evals: {report.model} ({report.mode}, {report.subset})"
    t = Table(title=title)
    t.add_column("metric", no_wrap=True)
    if has_baseline:
        t.add_column("baseline", justify="right")
    t.add_column("this run", justify="right")
    if has_baseline:
        t.add_column("change", justify="right")
        t.add_column("allowed")
        t.add_column("status")
    for c in rows:
        if c.baseline is None and c.current is None:
            continue
        cells = [c.metric.name]
        if has_baseline:
            cells.append(_fmt(c.baseline))
        cells.append(_fmt(c.current))
        if has_baseline:
            delta = c.delta
            cells += ["" if delta is None else f"{delta:+.3g}", _tol(c),
                      f"[{_STYLE[c.status]}]{c.status}[/]" if _STYLE[c.status] else c.status]
        t.add_row(*cells)
    return t


def markdown(report: Report, rows: list[Comparison], has_baseline: bool) -> str:
    """The run as Markdown: header, the metric table, then every case."""
    lines = [f"# Eval report: {report.model}", "",
             f"{report.at} · mode {report.mode} · subset {report.subset} · triage scoring "
             f"{report.scoring} · {report.seconds:.0f} s · datasets "
             + ", ".join(f"{k} v{v}" for k, v in sorted(report.datasets.items())), ""]
    lines += metric_table(rows, has_baseline)
    for section, cases in report.cases.items():
        if not cases:
            continue
        keys = [k for k in cases[0] if k not in ("body",)]
        lines += ["", f"## {section}", "", "| " + " | ".join(keys) + " |",
                  "|" + "---|" * len(keys)]
        for row in cases:
            lines.append("| " + " | ".join(
                str(row.get(k, "")).replace("|", "\\|") for k in keys) + " |")
    return "\n".join(lines) + "\n"


def metric_table(rows: list[Comparison], has_baseline: bool) -> list[str]:
    """Markdown rows of the metric table (the run reports show this one)."""
    if has_baseline:
        out = ["| metric | baseline | this run | status | meaning |", "|---|---|---|---|---|"]
    else:
        out = ["| metric | value | tolerance | meaning |", "|---|---|---|---|"]
    for c in rows:
        if c.baseline is None and c.current is None:
            continue
        if has_baseline:
            out.append(f"| {c.metric.name} | {_fmt(c.baseline)} | {_fmt(c.current)} | "
                       f"{c.status} | {c.metric.doc} |")
        else:
            out.append(f"| {c.metric.name} | {_fmt(c.current)} | {_tol(c)} | {c.metric.doc} |")
    return out


CHART_QUALITY = ["ranking_auc", "score_auc", "combined_top7", "score_spearman",
                 "hype_spearman", "writer_grounding", "writer_format", "critic_catch",
                 "critic_model_catch", "injection_flagged", "items_heldout_publishable"]
CHART_ERRORS = ["injection_mean_shift", "injection_max_shift"]


def chart(history: list[dict[str, Any]], path: Path, title: str) -> None:
    """A PNG of the metrics across runs: shares and correlations above, errors below."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 7), sharex=True)
    xs = list(range(1, len(history) + 1))
    for ax, names in ((top, CHART_QUALITY), (bottom, CHART_ERRORS)):
        for name in names:
            ys = [h["metrics"].get(name) for h in history]
            if all(y is None for y in ys):
                continue
            ax.plot(xs, [float("nan") if y is None else y for y in ys], marker="o", label=name)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
    top.set_ylabel("share / correlation")
    top.set_ylim(-0.05, 1.05)
    bottom.set_ylabel("score points")
    bottom.set_xticks(xs, [f"{i}\n{h['at'][:10]}\n{h['mode']}" for i, h in zip(
        xs, history, strict=True)], fontsize=7)
    bottom.set_xlabel("run")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def write_reports(report: Report, rows: list[Comparison], has_baseline: bool, reports: Path,
                  *, as_baseline: bool = False) -> list[Path]:
    """JSON and Markdown of this run, its line in history.jsonl, and the chart of every run of
    this model and subset; with `as_baseline`, copies named baseline-<model>-<subset>.*."""
    reports.mkdir(parents=True, exist_ok=True)
    name = f"{slug(report.model)}-{report.subset}"
    stamp = report.at.replace(":", "").replace("+0000", "Z").replace("+00:00", "Z")
    data = report.model_dump() | {"comparison": [
        {"metric": c.metric.name, "baseline": c.baseline, "current": c.current,
         "status": c.status, "tolerance": c.metric.tolerance, "relative": c.metric.relative,
         "better": c.metric.better} for c in rows]}
    js = reports / f"run-{stamp}-{name}.json"
    js.write_text(json.dumps(data, indent=2) + "\n")
    md = reports / f"run-{stamp}-{name}.md"
    md.write_text(markdown(report, rows, has_baseline))
    history = reports / "history.jsonl"
    with history.open("a") as f:
        f.write(json.dumps({"at": report.at, "model": report.model, "mode": report.mode,
                            "subset": report.subset, "metrics": report.metrics}) + "\n")
    runs = [h for h in map(json.loads, history.read_text().splitlines())
            if h["model"] == report.model and h["subset"] == report.subset]
    png = reports / f"metrics-{name}.png"
    chart(runs, png, f"flashnews evals: {report.model} ({report.subset})")
    paths = [js, md, png]
    if as_baseline:
        for p in (js, md, png):
            target = reports / f"baseline-{name}{p.suffix}"
            shutil.copyfile(p, target)
            paths.append(target)
    return paths
