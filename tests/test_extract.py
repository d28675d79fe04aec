"""Getting one program out of a model reply: chatter, several blocks, demo code, truncation."""

from __future__ import annotations

from agent.extract import extract_code

GOOD = "import numpy as np\n\ndef f(x):\n    return float(np.mean(x))\n"


def test_picks_the_block_defining_the_function_among_chatter() -> None:
    reply = ("Sure! First a helper:\n```python\ndef g(x):\n    return x\n```\nand the "
             f"answer:\n```python\n{GOOD}```\nHope this helps.")
    assert extract_code(reply, "f") == GOOD


def test_demo_code_at_module_level_is_removed_constants_kept() -> None:
    reply = (f"```python\nWINDOW = 24\n{GOOD}\nx = np.array([1.0, 2.0])\nprint(f(x))\n"
             "y = f(x)\nif __name__ == '__main__':\n    print(y)\n```")
    code = extract_code(reply, "f")
    assert "WINDOW = 24" in code and "def f(x)" in code
    assert "print" not in code and "y = f(x)" not in code


def test_reply_cut_off_inside_trailing_demo_is_salvaged() -> None:
    cut = f"```python\n{GOOD}\n# Example usage:\nprint(f(np.array([23.5, 24.0, 23.8, 24.1, 2"
    assert extract_code(cut, "f") == GOOD


def test_truncated_function_itself_is_left_for_lint_to_report() -> None:
    cut = "```python\nimport numpy as np\n\ndef f(x):\n    return float(np.mean(x\n"
    code = extract_code(cut, "f")
    assert code.endswith("np.mean(x\n")  # unchanged: lint reports the syntax error


def test_unfenced_reply_is_taken_whole() -> None:
    assert extract_code(GOOD, "f") == GOOD
