"""``aisc conformance`` from the command line: reports, filters, formats, exit codes, scaffolds."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from aisc.cli import main
from aisc.conformance import registry

REPO = Path(__file__).resolve().parents[2]
UPSTREAM = REPO / "conformance" / "upstream" / "vectors"

# a block where eip155:10 selects the "eip155:*" spec (type evm_call)
BLOCK = {"eip155:*": {"type": "evm_call"}, "*": {"type": "evm_read"}}


def _case(cid: str, kind: str, inp: Any, expect: Any = None) -> dict[str, Any]:
    c = {"id": cid, "kind": kind, "input": inp}
    if expect is not None:
        c["expect"] = expect
    return c


GOOD = [
    _case("good-select", "select_execution_spec", {"chain": "eip155:10", "execution": BLOCK}, {"type": "evm_call"}),
    _case("good-missing", "select_execution_spec_error", {"chain": "solana:x", "execution": {"eip155:1": {}}},
          {"message_includes": "No execution matches chain"}),
]
WRONG = [
    _case("wrong-type", "select_execution_spec", {"chain": "eip155:10", "execution": BLOCK}, {"type": "evm_read"}),
    _case("wrong-substring", "select_execution_spec_error", {"chain": "solana:x", "execution": {}},
          {"message_includes": "no spec for solana"}),
]
UNKNOWN = [_case("mystery-case", "frobnicate_widget", {"x": 1}, {"y": 2})]


def _write(tmp: Path, name: str, cases: list[Any], **extra: Any) -> Path:
    p = tmp / name
    p.write_text(json.dumps({"schema": "ais-conformance/0.0.2", "cases": cases, **extra}, indent=2))
    return p


@pytest.fixture(autouse=True)
def _fresh_registry() -> Any:
    registry.clear_cache()
    yield
    registry.clear_cache()


def aisc(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["conformance", *argv])
    out, err = capsys.readouterr()
    return code, out, err


# ------------------------------------------------------------------ results and exit codes


def test_all_passing_file_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = aisc(capsys, str(_write(tmp_path, "good.json", GOOD)))
    assert code == 0
    assert "PASS     good.json::good-select" in out.replace(str(tmp_path) + "/", "")
    assert out.rstrip().splitlines()[-1] == "2 passed, 0 failed"


def test_wrong_expectations_are_readable_failures(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, "broken.json", GOOD + WRONG)
    code, out, _ = aisc(capsys, str(path))
    assert code == 1
    lines = out.splitlines()
    assert lines[-1] == "2 passed, 2 failed"
    i = next(n for n, ln in enumerate(lines) if ln.startswith("FAIL") and "wrong-type" in ln)
    assert "[select_execution_spec]" in lines[i]
    assert lines[i + 1] == f"    at {path}:{_line_of(path, 'wrong-type')}"
    assert "    expected: \"evm_read\"" in lines
    assert "    actual:   \"evm_call\"" in lines
    j = next(n for n, ln in enumerate(lines) if ln.startswith("FAIL") and "wrong-substring" in ln)
    assert lines[j + 2] == "    the error message does not contain the expected text"
    assert lines[j + 3] == '    expected text: "no spec for solana"'
    assert lines[j + 4].startswith('    in message:    "No execution matches chain')


def _line_of(path: Path, case_id: str) -> int:
    """Line of the case object that holds ``"id": case_id`` (the line before the id line)."""
    lines = path.read_text().splitlines()
    return next(n for n, ln in enumerate(lines, 1) if f'"id": "{case_id}"' in ln) - 1


def test_quiet_prints_only_failures_and_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = aisc(capsys, "-q", str(_write(tmp_path, "broken.json", GOOD + WRONG)))
    assert code == 1
    assert "PASS" not in out
    assert sum(1 for ln in out.splitlines() if ln.startswith("FAIL")) == 2
    assert out.splitlines()[-1] == "2 passed, 2 failed"


@pytest.mark.parametrize(
    ("flags", "expected_code", "summary"),
    [
        ((), 0, "2 passed, 0 failed, 1 unknown"),
        (("--strict",), 1, "2 passed, 0 failed, 1 unknown"),
    ],
    ids=["unknown-reported", "unknown-strict-error"],
)
def test_unknown_kind(tmp_path: Path, capsys: pytest.CaptureFixture[str], flags: tuple[str, ...],
                      expected_code: int, summary: str) -> None:
    code, out, _ = aisc(capsys, *flags, str(_write(tmp_path, "u.json", GOOD + UNKNOWN)))
    assert code == expected_code
    assert out.splitlines()[-1] == summary
    assert any(ln.startswith("UNKNOWN") and "mystery-case" in ln and "[frobnicate_widget]" in ln
               for ln in out.splitlines())
    assert "unknown kind 'frobnicate_widget'" in out


# ------------------------------------------------------------------ malformed input: exit 2, nothing runs


def _raw(tmp: Path, text: str) -> Path:
    p = tmp / "bad.json"
    p.write_text(text)
    return p


MALFORMED = [
    ("not-json", '{"schema": "ais-conformance/0.0.2", "cases": [\n  {"id": }\n]}', "AISC-CONF-002", "bad.json:2:"),
    ("duplicate-json-key", '{"schema": "ais-conformance/0.0.2", "schema": "x", "cases": []}', "AISC-CONF-002",
     'duplicate key "schema"'),
    ("nan", '{"schema": "ais-conformance/0.0.2", "cases": [{"id": "a", "kind": "k", "input": {"v": NaN}}]}',
     "AISC-CONF-002", "NaN is not JSON"),
    ("top-level-array", "[]", "AISC-CONF-003", "top level must be an object"),
    ("wrong-schema", '{"schema": "ais-conformance/0.0.1", "cases": []}', "AISC-CONF-003", "schema must be"),
    ("no-cases", '{"schema": "ais-conformance/0.0.2"}', "AISC-CONF-003", "cases must be an array"),
    ("extra-root-key", '{"schema": "ais-conformance/0.0.2", "cases": [], "notes": 1}', "AISC-CONF-003",
     "unexpected top-level field 'notes'"),
    ("case-not-object", '{"schema": "ais-conformance/0.0.2", "cases": [3]}', "AISC-CONF-004",
     "case 0 must be an object"),
    ("case-missing-id", '{"schema": "ais-conformance/0.0.2", "cases": [\n{"kind": "cel_eval", "input": {}}]}',
     "AISC-CONF-004", "case 0: id must be a non-empty string (missing)"),
    ("case-input-not-object", '{"schema": "ais-conformance/0.0.2", "cases": [{"id": "a", "kind": "k", "input": 1}]}',
     "AISC-CONF-004", "input must be an object (found a number)"),
    ("case-extra-field", '{"schema": "ais-conformance/0.0.2", "cases": [{"id": "a", "kind": "k", "input": {}, "why": ""}]}',
     "AISC-CONF-004", "unexpected field 'why'"),
    ("upstream-kind-missing-field",
     '{"schema": "ais-conformance/0.0.2", "cases": [{"id": "a", "kind": "cel_eval", "input": {}, "expect": {"value_bigint": "1"}}]}',
     "AISC-CONF-006", "input.expression is required"),
    ("upstream-kind-wrong-type",
     '{"schema": "ais-conformance/0.0.2", "cases": [{"id": "a", "kind": "cel_eval", "input": {"expression": 1}, "expect": {"value_bigint": "1"}}]}',
     "AISC-CONF-006", "expression must be a string"),
    ("upstream-kind-missing-expect",
     '{"schema": "ais-conformance/0.0.2", "cases": [{"id": "a", "kind": "cel_eval", "input": {"expression": "1"}}]}',
     "AISC-CONF-006", "expect is required"),
    ("duplicate-case-id",
     '{"schema": "ais-conformance/0.0.2", "cases": [{"id": "a", "kind": "k", "input": {}}, {"id": "a", "kind": "k", "input": {}}]}',
     "AISC-CONF-005", "case id 'a' is used twice"),
]


@pytest.mark.parametrize(("text", "code", "needle"), [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED])
def test_r250_malformed_file_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, code: str,
                                    needle: str) -> None:
    exit_code, out, err = aisc(capsys, str(_raw(tmp_path, text)))
    assert exit_code == 2
    assert out == ""
    assert f"[{code}]" in err
    assert needle in err
    assert "bad.json" in err
    assert "nothing was run" in err


def test_malformed_case_points_at_its_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = json.dumps(GOOD[0])
    text = '{\n  "schema": "ais-conformance/0.0.2",\n  "cases": [\n    ' + good + ',\n    {"kind": "x", "input": {}}\n  ]\n}\n'
    _, _, err = aisc(capsys, str(_raw(tmp_path, text)))
    assert f"{tmp_path}/bad.json:5:5: error[AISC-CONF-004]: case 1: id must be a non-empty string" in err
    assert "at $.cases[1].id" in err


def test_malformed_json_format_is_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = aisc(capsys, "--format", "json", str(_raw(tmp_path, "[]")))
    assert code == 2
    assert json.loads(out)["diagnostics"][0]["code"] == "AISC-CONF-003"


def test_duplicate_ids_across_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _write(tmp_path, "a.json", GOOD)
    _write(tmp_path, "b.json", GOOD[:1])
    code, _, err = aisc(capsys, str(tmp_path))
    assert code == 2
    assert "case id 'good-select' is used twice in this run" in err
    assert "first used here" in err


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["does/not/exist.json"], "no such file or folder: does/not/exist.json"),
        (["--kind", "no_such_kind"], "no case matches --kind no_such_kind"),
        (["-k", "zzz-no-case-id"], "no case matches -k zzz-no-case-id"),
        (["new-case"], "new-case needs exactly one --kind"),
        (["new-case", "--kind", "cel_evl"], "did you mean: cel_eval"),
        (["schema", "extra"], "schema takes no PATH arguments"),
        (["--id", "x"], "--id and --extended only apply"),
        (["--format", "xml"], ""),
    ],
    ids=["missing-path", "kind-filter-empty", "id-filter-empty", "new-case-no-kind", "new-case-typo",
         "schema-with-path", "id-without-new-case", "bad-format"],
)
def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str], needle: str) -> None:
    code, _, err = aisc(capsys, *argv)
    assert code == 2
    assert needle in err


def test_empty_folder_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = aisc(capsys, str(tmp_path))
    assert code == 2
    assert "no ais-conformance/0.0.2 files found" in err


# ------------------------------------------------------------------ filters


def test_kind_and_id_filters(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = aisc(capsys, "--kind", "select_execution_spec_error", str(UPSTREAM))
    assert code == 0
    assert out.splitlines()[-1] == "3 passed, 0 failed"
    code, out, _ = aisc(capsys, "--kind", "select_execution_spec", "--kind", "select_execution_spec_error",
                        "-k", "solana", str(UPSTREAM / "pattern.json"))
    assert code == 0
    ran = sorted(ln.split("::")[1] for ln in out.splitlines() if ln.startswith("PASS"))
    assert ran == ["pattern-solana-exact-over-namespace", "pattern-solana-namespace-wildcard"]


def test_folder_walk_skips_golden_and_other_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "golden").mkdir()
    (tmp_path / "golden" / "plan.json").write_text("not even json")
    (tmp_path / "plan.json").write_text('{"schema": "ais-plan/0.0.3", "nodes": []}')
    _write(tmp_path, "v.json", GOOD)
    code, out, _ = aisc(capsys, str(tmp_path))
    assert code == 0
    assert out.splitlines()[-1] == "2 passed, 0 failed"


# ------------------------------------------------------------------ formats


def test_json_format(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = aisc(capsys, "--format", "json", str(_write(tmp_path, "b.json", GOOD + WRONG + UNKNOWN)))
    assert code == 1
    doc = json.loads(out)
    assert doc["schema"] == "aisc-conformance-report/1"
    assert doc["ok"] is False
    assert {k: doc["summary"][k] for k in ("passed", "failed", "unknown", "total")} == {
        "passed": 2, "failed": 2, "unknown": 1, "total": 5}
    by_id = {c["id"]: c for c in doc["cases"]}
    assert by_id["wrong-type"]["expected"] == "evm_read"
    assert by_id["wrong-type"]["actual"] == "evm_call"
    assert by_id["wrong-substring"]["relation"] == "substring"
    assert by_id["mystery-case"]["status"] == "unknown"
    assert isinstance(by_id["good-select"]["duration_us"], int)


@pytest.mark.parametrize(("strict", "failures", "skipped"), [(False, 2, 1), (True, 3, 0)], ids=["plain", "strict"])
def test_junit_parses(tmp_path: Path, capsys: pytest.CaptureFixture[str], strict: bool, failures: int,
                      skipped: int) -> None:
    _write(tmp_path, "a.json", GOOD + WRONG)
    _write(tmp_path, "b.json", UNKNOWN)
    code, out, _ = aisc(capsys, "--format", "junit", *(["--strict"] if strict else []), str(tmp_path))
    assert code == 1
    root = ET.fromstring(out)
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == [f"{tmp_path}/a.json", f"{tmp_path}/b.json"]
    assert [len(s.findall("testcase")) for s in suites] == [4, 1]
    assert root.get("failures") == str(failures)
    assert root.get("skipped") == str(skipped)
    failed = {tc.get("name"): tc.find("failure") for tc in root.iter("testcase") if tc.find("failure") is not None}
    assert set(failed) == ({"wrong-type", "wrong-substring"} | ({"mystery-case"} if strict else set()))
    element = failed["wrong-type"]
    assert element is not None
    text = element.text or ""
    assert 'expected: "evm_read"' in text


# ------------------------------------------------------------------ new-case, schema, list-kinds


def _schema(capsys: pytest.CaptureFixture[str], *flags: str) -> dict[str, Any]:
    code, out, _ = aisc(capsys, "schema", *flags)
    assert code == 0
    schema: dict[str, Any] = json.loads(out)
    return schema


def test_schema_is_a_valid_json_schema_that_accepts_upstream(capsys: pytest.CaptureFixture[str]) -> None:
    import jsonschema  # type: ignore[import-untyped]

    schema = _schema(capsys)
    assert schema["$id"] == "urn:ais:0.0.2:conformance"
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for f in sorted(UPSTREAM.glob("*.json")):
        assert list(validator.iter_errors(json.loads(f.read_text()))) == [], f.name


def test_extended_schema_accepts_own_kinds_only_there(capsys: pytest.CaptureFixture[str]) -> None:
    import jsonschema

    own = {"schema": "ais-conformance/0.0.2", "cases": UNKNOWN}
    plain = jsonschema.Draft202012Validator(_schema(capsys))
    extended_schema = _schema(capsys, "--extended")
    jsonschema.Draft202012Validator.check_schema(extended_schema)
    extended = jsonschema.Draft202012Validator(extended_schema)
    assert not plain.is_valid(own)
    assert extended.is_valid(own)
    # an upstream kind still has to follow its own shape in the extended schema
    bad = {"schema": "ais-conformance/0.0.2", "cases": [_case("a", "cel_eval", {}, {"value_bigint": "1"})]}
    assert not extended.is_valid(bad)


def _documented_kinds() -> list[str]:
    from aisc.conformance.kinds_doc import KIND_DOCS

    return list(KIND_DOCS)


@pytest.mark.parametrize("kind", _documented_kinds())
def test_new_case_is_a_valid_case(tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str) -> None:
    import jsonschema

    from aisc.conformance import runner

    code, out, _ = aisc(capsys, "new-case", "--kind", kind, "--id", "my-case")
    assert code == 0
    case = json.loads(out)
    assert (case["id"], case["kind"]) == ("my-case", kind)
    path = _write(tmp_path, "new.json", [case])
    suite = runner.load_file(path, "new.json")
    assert suite is not None and [c.id for c in suite.cases] == ["my-case"]
    extended = jsonschema.Draft202012Validator(_schema(capsys, "--extended"))
    assert list(extended.iter_errors(json.loads(path.read_text()))) == []


def test_list_kinds(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = aisc(capsys, "list-kinds", "--format", "json")
    assert code == 0
    rows = {r["kind"]: r for r in json.loads(out)["kinds"]}
    assert rows["select_execution_spec"]["status"] == "available"
    assert rows["select_execution_spec"]["input"] == "{chain: str, execution: object}"
    upstream = {"jcs_canonicalize", "cel_eval", "cel_eval_string", "cel_eval_error", "evm_json_abi_encode",
                "select_execution_spec", "select_execution_spec_error", "workflow_plan"}
    assert upstream <= set(rows)
    code, out, _ = aisc(capsys, "list-kinds")
    assert code == 0
    assert any(ln.startswith("workflow_plan") for ln in out.splitlines())


# ------------------------------------------------------------------ bundled data


def _sync_module() -> Any:
    spec = importlib.util.spec_from_file_location("sync_bundled_data", REPO / "tools" / "sync_bundled_data.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_bundled_data_equals_repo_conformance() -> None:
    """aisc/data/conformance is a copy of conformance/ (run tools/sync_bundled_data.py when this fails)."""
    assert _sync_module().differences() == []


def test_sync_copies_and_checks(tmp_path: Path) -> None:
    mod = _sync_module()
    src, dst = tmp_path / "src", tmp_path / "dst"
    (src / "upstream" / "vectors").mkdir(parents=True)
    (src / "upstream" / "vectors" / "a.json").write_text("{}")
    (src / "notes.txt").write_text("not data")
    (dst / "stale").mkdir(parents=True)
    (dst / "stale" / "old.json").write_text("{}")
    assert mod.differences(src, dst) == ["missing in the package copy: upstream/vectors/a.json",
                                         "only in the package copy: stale/old.json"]
    mod.sync(src, dst)
    assert mod.differences(src, dst) == []
    assert sorted(p.relative_to(dst).as_posix() for p in dst.rglob("*") if p.is_file()) == ["upstream/vectors/a.json"]


def test_bundled_run_from_a_subprocess_reports_every_case() -> None:
    """The real entry point, no arguments: every bundled case runs (49 upstream + own)."""
    proc = subprocess.run([sys.executable, "-m", "aisc", "conformance", "--format", "json"],
                          capture_output=True, text=True, cwd="/", timeout=120)
    assert proc.returncode in (0, 1), proc.stderr
    doc = json.loads(proc.stdout)
    upstream = [c for c in doc["cases"] if c["file"].startswith("upstream/")]
    assert len(upstream) == 49
    assert doc["files"][:3] == ["upstream/vectors/core.json", "upstream/vectors/numeric.json",
                                "upstream/vectors/pattern.json"]
    assert doc["summary"]["unknown"] == 0


def test_run_pauses_the_collector_and_restores_it(monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """A conformance run has no cyclic collection (a cold-start cost); an in-process caller gets its
    collector back as it was."""
    import gc

    from aisc.conformance import runner

    seen: list[bool] = []
    real_run = runner.run

    def spy(*args: object, **kwargs: object) -> object:
        seen.append(gc.isenabled())
        return real_run(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(runner, "run", spy)
    gc.enable()
    assert main(["conformance", "-j", "1", "--kind", "jcs_canonicalize"]) == 0
    assert seen == [False]
    assert gc.isenabled()
    assert "passed" in capsys.readouterr().out
