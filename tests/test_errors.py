"""Every entry point reports a GpiotError the same way: one line `error: ...` on stderr and
the error's exit code (agent.errors.exit_code_of), never a traceback."""

from __future__ import annotations

import pytest

from agent.errors import EXIT_BAD_INPUT, EXIT_INFRA, BadInputError, InfraError, exit_code_of


def test_an_error_is_one_line_and_its_exit_code(capsys) -> None:
    def broken() -> int:
        raise InfraError("no engine; start dockerd")

    assert exit_code_of(broken) == EXIT_INFRA
    assert capsys.readouterr().err == "error: no engine; start dockerd\n"


def test_a_body_that_returns_nothing_succeeded_and_a_code_is_kept(capsys) -> None:
    assert exit_code_of(lambda: None) == 0
    assert exit_code_of(lambda: 1) == 1
    assert capsys.readouterr().err == ""


def test_other_exceptions_are_bugs_and_pass_through() -> None:
    with pytest.raises(ZeroDivisionError):
        exit_code_of(lambda: 1 // 0)


@pytest.mark.parametrize("module, argv", [
    ("finetune.ship", ["{missing}", "--name", "x"]),
    ("finetune.export", ["{missing}"]),
    ("agent.run_report", ["{missing}"]),
    ("agent.cli", ["check", "{missing}"]),
])
def test_entry_points_report_bad_input_in_one_line(module, argv, tmp_path, capsys) -> None:
    main = __import__(module, fromlist=["main"]).main
    missing = str(tmp_path / "no-such-dir")
    assert main([a.format(missing=missing) for a in argv]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "no-such-dir" in err


def test_bad_input_error_is_exit_2() -> None:
    assert BadInputError.exit_code == EXIT_BAD_INPUT
