"""The edition graph: fetch -> triage -> select -> write -> critique (-> write) -> review -> publish.

Only wiring lives here: the nodes (graphs/nodes/, one module each) adapt the state to an agent
(agents/) and back, and the routers below choose the next node. What a run brings (settings,
store, models, source, output dir, review policy, budget) is LangGraph's context
(graphs/context.py), so one compiled graph serves the CLI and LangGraph Server. State holds ids
and small records; paper texts live once in the store. One thread per edition (thread id =
edition id), checkpointed after every node, so a failure resumes at the node that failed.
"""

from __future__ import annotations

from typing import Any, Literal

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from flashnews.graphs.context import Context
from flashnews.graphs.nodes.critique import critique_node
from flashnews.graphs.nodes.fetch import fetch_node
from flashnews.graphs.nodes.publish import publish_node
from flashnews.graphs.nodes.review import review_node
from flashnews.graphs.nodes.select import select_node
from flashnews.graphs.nodes.triage import triage_node
from flashnews.graphs.nodes.write import write_node
from flashnews.state import EditionState

__all__ = ["Context", "EditionState", "build_graph"]

def after_fetch(state: EditionState) -> Literal["triage", "write", "__end__"]:
    """Triage the day, or end: a quiet or empty day, an edition already published. A week in
    review goes straight to writing: its papers were scored the day they were published."""
    if state.get("outcome") == "already-published":
        return "__end__"
    if state["fetch"]["outcome"] != "ok":
        return "__end__"
    return "write" if state.get("format") == "weekly" else "triage"


def after_select(state: EditionState) -> Literal["write", "__end__"]:
    """Write when a paper was selected; else end (needs review: nothing to publish)."""
    return "write" if state["selection"]["main"] else "__end__"


def after_critique(state: EditionState) -> Literal["write", "review"]:
    """Write again when the critique says a revision may fix what blocks, else review."""
    return "write" if state.get("revise") else "review"


def after_review(state: EditionState) -> Literal["publish", "write", "review", "__end__"]:
    """Where the editor's decision leads: publish, rewrite, review again, or end (held)."""
    decision = state["review"]["decision"]
    if decision == "approve":
        return "publish"
    if decision == "rewrite":
        return "write"
    if decision == "continue":
        return "review"
    return "__end__"


def build_graph(checkpointer: BaseCheckpointSaver[Any] | None = None, *,
                context_schema: type[Any] = Context) -> CompiledStateGraph[Any, Any, Any, Any]:
    """The compiled edition graph; each run passes its `Context` (`invoke(..., context=…)`).
    LangGraph Server's graph declares `ServerRunContext` instead (graphs/server.py)."""
    g: StateGraph[Any, Any, Any, Any] = StateGraph(EditionState, context_schema=context_schema)
    g.add_node("fetch", fetch_node)
    g.add_node("triage", triage_node)
    g.add_node("select", select_node)
    g.add_node("write", write_node)
    g.add_node("critique", critique_node)
    g.add_node("review", review_node)
    g.add_node("publish", publish_node)
    g.add_edge(START, "fetch")
    g.add_conditional_edges("fetch", after_fetch)
    g.add_edge("triage", "select")
    g.add_conditional_edges("select", after_select)
    g.add_edge("write", "critique")
    g.add_conditional_edges("critique", after_critique)
    g.add_conditional_edges("review", after_review)
    g.add_edge("publish", END)
    return g.compile(checkpointer=checkpointer)
