"""Governance hooks: veto, pause, notifications, loading; decisions land in events and history."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from aisc.runtime.history import from_store
from aisc.runtime.hooks import HookDecision, HookLoadError, HookSet, _normalize

from ._util import ReconcilingFake, plan, read, start, write

NORMALIZE = [
    ("none", None, "allow"), ("true", True, "allow"), ("false", False, "veto"), ("str-pause", "pause", "pause"),
    ("dict", {"decision": "veto", "reason": "r"}, "veto"), ("obj", HookDecision("pause", "x"), "pause"),
    ("garbage", 42, "veto"), ("unknown-str", "maybe", "veto"),
]


@pytest.mark.parametrize(("value", "action"), [c[1:] for c in NORMALIZE], ids=[c[0] for c in NORMALIZE])
def test_decision_normalization(value: Any, action: str) -> None:
    assert _normalize(value, "h").action == action


class Recorder:
    def __init__(self, step: Any = None, pre: Any = None) -> None:
        self.step, self.pre = step, pre
        self.calls: list[tuple[str, Any]] = []

    def pre_execution(self, plan: Any, context: Any) -> Any:
        self.calls.append(("pre_execution", context["run_id"]))
        return self.pre

    def pre_step(self, node: Any, inputs: Any, context: Any) -> Any:
        self.calls.append(("pre_step", node["id"]))
        return self.step(node) if callable(self.step) else self.step

    def on_step_result(self, node: Any, result: Any, context: Any) -> None:
        self.calls.append(("on_step_result", (node["id"], result["ok"])))

    def on_workflow_complete(self, run_id: str, summary: Any, context: Any) -> None:
        self.calls.append(("on_workflow_complete", summary["status"]))

    def on_panic(self, run_id: str, reason: str, context: Any) -> None:
        self.calls.append(("on_panic", reason))


def test_all_five_calls_in_order(tmp_path: Path) -> None:
    h = Recorder()
    out, _, _ = start(tmp_path, plan(read("q"), write("w", deps=["q"])), ReconcilingFake(), hooks=[h])
    assert out.status == "done"
    assert h.calls == [("pre_execution", "r1"), ("pre_step", "q"), ("on_step_result", ("q", True)),
                       ("pre_step", "w"), ("on_step_result", ("w", True)), ("on_workflow_complete", "done")]


def test_pre_step_veto_blocks_the_write_and_is_recorded(tmp_path: Path) -> None:
    h = Recorder(step=lambda n: "veto" if n["id"] == "w" else None)
    fake = ReconcilingFake()
    out, st, sink = start(tmp_path, plan(read("q"), write("w", deps=["q"])), fake, hooks=[h])
    assert (out.status, out.category, out.exit_code) == ("failed", "policy_blocked", 5)
    assert fake.intents == []  # nothing was signed or sent
    err = sink.of_type("error")[0]["event"]
    assert err["node_id"] == "w" and err["data"]["category"] == "policy_blocked"
    _, steps = from_store(st, "r1")
    w = next(s for s in steps if s["node_id"] == "w")
    assert w["failure_category"] == "policy_blocked" and w["hooks"][0]["decision"] == "veto"


def test_pre_step_pause_then_confirm_with_yes(tmp_path: Path) -> None:
    h = Recorder(step="pause")
    out, _, sink = start(tmp_path, plan(write("w")), ReconcilingFake(), hooks=[h])
    assert (out.status, out.exit_code) == ("paused", 4)
    assert "governance hook" in sink.of_type("need_user_confirm")[0]["event"]["data"]["reason"]
    out2, _, _ = start(tmp_path / "b", plan(write("w")), ReconcilingFake(), hooks=[Recorder(step="pause")],
                       auto_confirm=True)
    assert out2.status == "done"


PRE_EXECUTION = [("veto", "policy_blocked", 5, "error"), ("pause", "paused", 4, "engine_paused")]


@pytest.mark.parametrize(("decision", "status", "code", "event"), PRE_EXECUTION, ids=[p[0] for p in PRE_EXECUTION])
def test_pre_execution_stops_before_any_node(decision: str, status: str, code: int, event: str, tmp_path: Path) -> None:
    fake = ReconcilingFake()
    out, st, sink = start(tmp_path, plan(write("w")), fake, hooks=[Recorder(pre=decision)])
    assert (out.status, out.exit_code) == (status, code)
    assert sum(fake.calls.values()) == 0
    assert sink.of_type(event)[0]["event"]["extensions"]["aisc"]["hook"]["decision"] == decision
    wf, _ = from_store(st, "r1")
    assert wf["hooks"][0]["decision"] == decision


def test_raising_hooks_fail_closed_or_are_ignored(tmp_path: Path) -> None:
    class Boom:
        def pre_step(self, node: Any, inputs: Any, context: Any) -> Any:
            raise RuntimeError("policy service down")

        def on_workflow_complete(self, run_id: str, summary: Any, context: Any) -> None:
            raise RuntimeError("ignored")

    out, st, _ = start(tmp_path, plan(write("w")), ReconcilingFake(), hooks=[Boom()])
    assert out.category == "policy_blocked"
    assert {n["kind"] for n in st.notes("r1")} >= {"hook_error", "hook_veto"}


def test_on_panic_after_a_failure_following_writes(tmp_path: Path) -> None:
    h = Recorder()
    out, _, _ = start(tmp_path, plan(write("w1"), write("w2", deps=["w1"])),
                      ReconcilingFake({"w2": {"fail": "reverted"}}), hooks=[h])
    assert out.status == "failed"
    assert any(c[0] == "on_panic" and "after 1 write" in c[1] for c in h.calls)


LOAD_ERRORS = [("no-colon", "aisc.runtime.hooks"), ("no-module", "nope.mod:x"), ("no-attr", "aisc.runtime.hooks:nope"),
               ("not-a-hook", "aisc.runtime.hooks:ENTRY_POINT_GROUP")]


@pytest.mark.parametrize("spec", [c[1] for c in LOAD_ERRORS], ids=[c[0] for c in LOAD_ERRORS])
def test_hook_load_errors(spec: str) -> None:
    with pytest.raises(HookLoadError):
        HookSet.load([spec], plugins=False)


def test_hook_loaded_from_spec() -> None:
    spec = f"{__name__}:Recorder"
    hs = HookSet.load([spec], plugins=False)
    assert hs.names == [spec] and isinstance(hs.hooks[0][1], Recorder)
