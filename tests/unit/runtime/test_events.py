"""Engine event records (R180–R189): envelope, sinks, codec, redaction."""

from __future__ import annotations

import io
import json
import re

import pytest

from aisc.runtime.events import CallbackSink, Emitter, JsonlSink, ListSink, MultiSink, redact
from aisc.runtime.testing import validate_event


def test_r180_envelope_and_monotonic_seq() -> None:
    sink = ListSink()
    em = Emitter("run-1", sink)
    em.emit("plan_ready", {"plan": {}})
    em.emit("node_ready", {}, node_id="a")
    r0, r1 = sink.records
    assert (r0["seq"], r1["seq"]) == (0, 1)
    assert r0["schema"] == "ais-engine-event/0.0.3" and r0["run_id"] == "run-1"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", r0["ts"])
    assert "node_id" not in r0["event"] and r1["event"]["node_id"] == "a"


def test_unknown_event_type_rejected() -> None:
    with pytest.raises(ValueError, match="unknown engine event type"):
        Emitter("r", None).emit("node_done", {})


def test_r264_jsonl_uses_ais_json_codec_for_big_ints() -> None:
    buf = io.StringIO()
    Emitter("r", JsonlSink(buf)).emit("query_result", {"outputs": {"balance": 2**200, "n": 3}}, node_id="q")
    line = buf.getvalue()
    assert line.endswith("\n") and line.count("\n") == 1
    out = json.loads(line)["event"]["data"]["outputs"]
    assert out["balance"] == {"__ais_json_type": "bigint", "value": str(2**200)}
    assert out["n"] == 3
    validate_event(line.strip())


def test_jsonl_sink_file(tmp_path: object) -> None:
    import pathlib

    path = pathlib.Path(str(tmp_path)) / "ev.jsonl"
    sink = JsonlSink(str(path))
    em = Emitter("r", MultiSink([sink, CallbackSink(lambda rec: None)]))
    em.emit("node_ready", {}, node_id="a")
    em.emit("skipped", {"reason": "condition=false"}, node_id="b")
    sink.close()
    lines = path.read_text().splitlines()
    assert [json.loads(x)["seq"] for x in lines] == [0, 1]


def test_r183_need_user_confirm_requires_details() -> None:
    bad = {"schema": "ais-engine-event/0.0.3", "run_id": "r", "seq": 0, "ts": "2026-01-01T00:00:00.000Z",
           "event": {"type": "need_user_confirm", "node_id": "a", "data": {"reason": "x", "details": {"node_id": "a"}}}}
    with pytest.raises(AssertionError, match="action_ref"):
        validate_event(bad)


@pytest.mark.parametrize(("mode", "raw_kept"), [("default", False), ("audit", True), ("off", True)])
def test_r186_r187_redaction_modes(mode: str, raw_kept: bool) -> None:
    data = {"tx": {"raw": "0xf8", "private_key": "0x" + "ab" * 32, "nested": [{"mnemonic": "a b c"}]}}
    out = redact(data, mode)  # type: ignore[arg-type]
    assert out["tx"]["private_key"] == "[redacted]"
    assert out["tx"]["nested"][0]["mnemonic"] == "[redacted]"
    assert (out["tx"]["raw"] == "0xf8") is raw_kept
