"""A draft as the static detectors see it: its syntax tree, what its names are bound to, and
the task words it was written for. Written once here so that every detector resolves
`np.diff`, `from scipy.signal import find_peaks` and aliases the same way."""

from __future__ import annotations

import ast
from collections.abc import Collection
from typing import Any


class Program:
    """Parsed draft plus what its names are bound to (aliases of modules and of names)."""

    def __init__(self, tree: ast.Module, source: str, index: dict[str, Any] | None,
                 environment: str | None = None, *, requirement: str = "",
                 function_name: str = "", arg_names: Collection[str] = (),
                 small_int_args: Collection[str] = ()) -> None:
        self.tree = tree
        self.source = source
        self.index = index
        self.environment = environment
        self.requirement = requirement
        self.function_name = function_name
        self.arg_names = list(arg_names)
        # arguments whose recordings are 8/16-bit integers (their squares wrap around)
        self.small_int_args = set(small_int_args)
        self.modules: dict[str, str] = {}  # local name -> module ("np" -> "numpy")
        self.names: dict[str, str] = {}  # local name -> "module.name" for from-imports
        indexed = set(index["modules"]) if index else set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for a in node.names:
                    if a.asname:
                        self.modules[a.asname] = a.name
                    else:
                        self.modules[a.name.split(".")[0]] = a.name.split(".")[0]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for a in node.names:
                    full = f"{node.module}.{a.name}"
                    local = a.asname or a.name
                    if full in indexed:
                        self.modules[local] = full
                    else:
                        self.names[local] = full

    @property
    def context(self) -> str:
        """The words that say what the task is about: the requirement and the function name."""
        return f"{self.requirement} {self.function_name}"

    def dotted(self, node: ast.AST) -> str | None:
        """`np.fft.rfft` -> "numpy.fft.rfft"; `find_peaks` -> "scipy.signal.find_peaks"."""
        parts = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name):
            return None
        if node.id in self.modules:
            base = self.modules[node.id]
        elif node.id in self.names:
            base = self.names[node.id]
        else:
            base = node.id
        return ".".join([base, *reversed(parts)])

    def is_call_to(self, node: ast.AST, *targets: str) -> bool:
        """`node` calls one of `targets` (dotted full names), through any alias."""
        return isinstance(node, ast.Call) and self.dotted(node.func) in targets

    def line(self, lineno: int) -> str:
        lines = self.source.splitlines()
        return lines[lineno - 1].strip() if 0 < lineno <= len(lines) else ""

    def assigned(self, name: str) -> bool:
        """`name` is ever bound in the file (assigned or a parameter)."""
        for n in ast.walk(self.tree):
            if isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Store):
                return True
            if isinstance(n, ast.arg) and n.arg == name:
                return True
        return False

    def bound_to_module(self, node: ast.AST) -> bool:
        """True when `node` (np, np.fft, scipy.signal) names a module, not a local variable."""
        while isinstance(node, ast.Attribute):
            node = node.value
        return (isinstance(node, ast.Name) and node.id in self.modules
                and not self.assigned(node.id))

    def assignments(self) -> dict[str, ast.AST]:
        """name -> the expression last assigned to it (single-name assignments)."""
        out: dict[str, ast.AST] = {}
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(
                    node.targets[0], ast.Name):
                out[node.targets[0].id] = node.value
        return out
