"""A catalogue of known mistakes behind lint and feedback: each entry an id, a general
message, its triggers (a static detector on the code, a runtime matcher on a failed case)
and examples that test it (tests/test_diagnostics.py)."""

from agent.diagnostics.catalogue import Diagnostic, Example, Finding, Observation
from agent.diagnostics.program import Program
from agent.diagnostics.registry import CATALOGUE, explain, hints, static_findings

__all__ = ["CATALOGUE", "Diagnostic", "Example", "Finding", "Observation", "Program", "explain",
           "hints", "static_findings"]
