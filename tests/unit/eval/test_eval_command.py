"""``aisc eval`` end to end through the CLI entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aisc.cli import main

RUNS = [
    # argv after "eval", expected stdout (stripped), exit code
    (['to_atomic("1.23", 6)'], "1230000", 0),
    (["7 / 2"], '"3.5"', 0),
    (["7 / 2", "--format", "text"], "3.5", 0),
    (["pow(2, 53)"], '"9007199254740992"', 0),
    (["pow(2, 53) - 1"], "9007199254740991", 0),
    (["[1, 'a', null, true]"], '[1, "a", null, true]', 0),
    (["'x'", "--format", "text"], "x", 0),
    (["inputs.a * 2", "--context", '{"inputs": {"a": 1.25}}'], '"2.5"', 0),
    (["MAX_UINT256", "--capability", "cel:max_uint256", "--format", "text"], str(2**256 - 1), 0),
]


@pytest.mark.parametrize(("argv", "out", "code"), RUNS, ids=[" ".join(a) for a, _, _ in RUNS])
def test_eval_prints_value(argv: list[str], out: str, code: int, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", *argv]) == code
    assert capsys.readouterr().out.strip() == out


def test_eval_error_is_positioned(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "1 + (2 / 0)"]) == 1
    cap = capsys.readouterr()
    assert json.loads(cap.out) == {"error": {"kind": "eval", "message": "Division by zero", "start": 5, "end": 10}}
    assert cap.err.splitlines() == ["error: Division by zero", "  1 + (2 / 0)", "       ^~~~~"]


def test_eval_syntax_error_caret(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "1e2", "--format", "text"]) == 1
    cap = capsys.readouterr()
    assert cap.out == ""
    assert cap.err.splitlines() == ["syntax error: Unexpected token 'e2'", "  1e2", "   ^~"]


def test_eval_yaml_context_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "ctx.yaml"
    f.write_text("inputs:\n  amount: '1000000'\n  on: yes\n  price: 0.1\n", encoding="utf-8")
    assert main(["eval", "[mul_div(inputs.amount, 9950, 10000), inputs.on, inputs.price]", "-c", str(f)]) == 0
    assert json.loads(capsys.readouterr().out) == [995000, "yes", "0.1"]


@pytest.mark.parametrize(("ctx", "needle"), [
    ('{"a": 1, "a": 2}', "duplicate key"), ("[1]", "cannot read context file"), ("/nonexistent.json", "cannot read"),
    ('{"a": ', "invalid JSON")])
def test_eval_bad_context_is_usage_error(ctx: str, needle: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "1", "--context", ctx]) == 2
    assert needle in capsys.readouterr().err


def test_eval_duplicate_yaml_keys(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "dup.yml"
    f.write_text("a: 1\na: 2\n", encoding="utf-8")
    assert main(["eval", "a", "-c", str(f)]) == 2
    assert "duplicate key" in capsys.readouterr().err
