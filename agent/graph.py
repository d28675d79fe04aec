"""The LangGraph StateGraph: understand -> [decompose -> specify] -> [retrieve] -> [recall] ->
draft ->
[lint] -> execute -> evaluate -> (verify | repair | draft | finalize); a draft or repair
that the time limit left without a program goes to finalize.

Stages switched off in the configuration (ablations, single-shot) are left out of the graph,
not skipped inside nodes, so the recorded trajectory shows exactly what ran.
"""

from __future__ import annotations

from langgraph.graph import END, START, StateGraph

from agent.configuration import RunConfig
from agent.context import RunContext
from agent.nodes.decompose import decompose
from agent.nodes.draft import draft
from agent.nodes.evaluate import evaluate, route
from agent.nodes.execute import execute
from agent.nodes.finalize import finalize
from agent.nodes.lint import lint
from agent.nodes.recall import recall
from agent.nodes.repair import repair
from agent.nodes.retrieve import retrieve
from agent.nodes.specify import specify
from agent.nodes.understand import understand
from agent.nodes.verify import verify
from agent.state import State


def build_graph(cfg: RunConfig) -> StateGraph:
    """The uncompiled graph for this configuration."""
    g = StateGraph(State, context_schema=RunContext)
    chain = ["understand"]
    g.add_node("understand", understand)
    if cfg.decompose:
        g.add_node("decompose", decompose)
        chain.append("decompose")
        if cfg.specify:
            g.add_node("specify", specify)
            chain.append("specify")
    if cfg.retrieve:
        g.add_node("retrieve", retrieve)
        chain.append("retrieve")
    if cfg.experience:
        g.add_node("recall", recall)
        chain.append("recall")
    for name, fn in (("draft", draft), ("repair", repair), ("execute", execute),
                     ("evaluate", evaluate), ("verify", verify), ("finalize", finalize)):
        g.add_node(name, fn)
    chain.append("draft")
    g.add_edge(START, chain[0])
    for a, b in zip(chain, chain[1:], strict=False):
        g.add_edge(a, b)
    checked = "lint" if cfg.lint else "execute"
    if cfg.lint:
        g.add_node("lint", lint)
        g.add_conditional_edges(
            "lint", lambda s: "execute" if any(not c.get("blocked") for c in s["candidates"])
            else "evaluate", ["execute", "evaluate"])
    # A round the deadline left without a program to run ends the run with its best so far.
    for writer in ("draft", "repair"):
        g.add_conditional_edges(writer, lambda s: checked if s["candidates"] else "finalize",
                                [checked, "finalize"])
    g.add_edge("execute", "evaluate")
    targets = ["verify", "repair", "draft", "finalize"]
    g.add_conditional_edges("evaluate", route, targets)
    g.add_conditional_edges("verify", route, ["repair", "finalize"])
    g.add_edge("finalize", END)
    return g
