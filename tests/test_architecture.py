"""docs/architecture.md: the graph as LangGraph draws it (regenerated here), the layers contract."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from flashnews.graphs.edition import build_graph

DOC = Path(__file__).resolve().parents[1] / "docs" / "architecture.md"
BLOCK = re.compile(r"(<!-- graph:start -->\n```mermaid\n)(.*?)(```\n<!-- graph:end -->)", re.S)


def test_the_documented_graph_is_the_graph_langgraph_draws() -> None:
    drawn = build_graph().get_graph().draw_mermaid()
    text = DOC.read_text(encoding="utf-8")
    m = BLOCK.search(text)
    assert m, "docs/architecture.md has no graph block"
    if m.group(2) != drawn:
        # Regenerated in place: commit the new block.
        DOC.write_text(BLOCK.sub(lambda x: x.group(1) + drawn + x.group(3), text),
                       encoding="utf-8")
        pytest.fail("docs/architecture.md showed an old graph: regenerated, commit it")


def test_the_layers_contract_holds() -> None:
    linter = Path(sys.executable).with_name("lint-imports")
    if not linter.exists():
        pytest.skip("import-linter is not installed (the dev extra)")
    done = subprocess.run([str(linter)], capture_output=True, text=True, timeout=300,
                          cwd=DOC.parents[1])
    assert done.returncode == 0, done.stdout[-3000:]
    assert "2 kept, 0 broken" in done.stdout
