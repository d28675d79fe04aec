"""Get exactly one program out of a model's reply, tolerating chatter around it.

Small models wrap code in prose, emit several blocks, or append example usage. We pick the
block that defines the required function and drop top-level demo code (calls and
`if __name__ == "__main__":`), which would otherwise run on import inside the sandbox.
"""

from __future__ import annotations

import ast
import re

FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*?)(?:```|\Z)", re.S)


def extract_code(reply: str, function: str) -> str:
    """The program in `reply`: the fenced block defining `function` (else the longest
    python block, else the whole reply), with module-level demo code removed."""
    blocks = [body for lang, body in FENCE.findall(reply)
              if lang.lower() in ("", "python", "py", "python3")]
    defining = [b for b in blocks if defines(b, function)]
    if defining:
        code = max(defining, key=len)
    elif blocks:
        code = max(blocks, key=len)
    else:
        code = reply
    return strip_demo(salvage(code.strip("\n") + "\n", function))


def defines(code: str, function: str) -> bool:
    """Whether `code` has a line defining `function` (no parse needed: replies get cut)."""
    return re.search(rf"^\s*def\s+{re.escape(function)}\s*\(", code, re.M) is not None


def salvage(code: str, function: str) -> str:
    """A reply cut off by the token limit (typically inside trailing demo code: an endless
    example array) does not parse; keep its longest prefix that parses and still defines
    `function`. Code that parses, or has no such prefix, is returned unchanged."""
    try:
        ast.parse(code)
        return code
    except SyntaxError:
        pass
    lines = code.splitlines(keepends=True)
    for cut in range(len(lines) - 1, 0, -1):
        head = "".join(lines[:cut])
        try:
            tree = ast.parse(head)
        except SyntaxError:
            continue
        if any(isinstance(n, ast.FunctionDef) and n.name == function for n in tree.body):
            kept = lines[:cut]
            while kept and (not kept[-1].strip() or kept[-1].lstrip().startswith("#")):
                kept.pop()  # the demo's heading comment and blank lines
            return "".join(kept)
        return code
    return code


def strip_demo(code: str) -> str:
    """Remove top-level statements that only demonstrate the function (bare calls such as
    print(...), `if __name__ == "__main__":`); keep imports, defs, classes and assignments.
    Code that does not parse is returned unchanged (lint reports it)."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return code
    lines = code.splitlines(keepends=True)
    defined = {n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.ClassDef)}
    drop: list[tuple[int, int]] = []
    for node in tree.body:
        is_main = (isinstance(node, ast.If) and isinstance(node.test, ast.Compare)
                   and isinstance(node.test.left, ast.Name) and node.test.left.id == "__name__")
        is_call = isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)
        is_demo_assign = (isinstance(node, ast.Assign | ast.AnnAssign)
                          and _calls_any(node.value, defined))
        if is_main or is_call or is_demo_assign:
            drop.append((node.lineno - 1, node.end_lineno or node.lineno))
    for start, end in reversed(drop):
        del lines[start:end]
    return "".join(lines).rstrip() + "\n"


def _calls_any(value: ast.AST | None, names: set[str]) -> bool:
    """An assignment that calls a function of the module itself (`hr = mean_hr(x, 100)`):
    demo code, unlike a constant or a module-level filter design."""
    return value is not None and any(
        isinstance(sub, ast.Call) and isinstance(sub.func, ast.Name) and sub.func.id in names
        for sub in ast.walk(value))
