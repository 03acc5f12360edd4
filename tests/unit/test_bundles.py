"""Offline bundles: deterministic build, verification, tamper detection, unsafe members (aisc/bundles.py)."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from aisc import bundles
from aisc.bundles import (
    BundleError,
    build_bundle,
    load_verified_bundle,
    read_members,
    verify_bundle,
    write_archive,
)

WS = Path(__file__).resolve().parents[1] / "golden" / "workspace"
FLOW = WS / "flows" / "pay.ais-flow.yaml"
EVM_TO = "0x2222222222222222222222222222222222222222"


@pytest.fixture(scope="module")
def built() -> tuple[bytes, dict[str, Any]]:
    mp = pytest.MonkeyPatch()
    mp.setenv("SOURCE_DATE_EPOCH", "1700000000")
    try:
        return build_bundle(FLOW, workspace=WS)
    finally:
        mp.undo()


def _members(data: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        return {m.name: tar.extractfile(m).read() for m in tar if m.isreg()}  # type: ignore[union-attr]


def _write(tmp_path: Path, data: bytes, name: str = "b.tar.gz") -> Path:
    p = tmp_path / name
    p.write_bytes(data)
    return p


def test_bundle_layout_and_manifest(built: tuple[bytes, dict[str, Any]]) -> None:
    data, manifest = built
    members = _members(data)
    assert sorted(members) == ["manifest.json", "plan.json", "sources/flows/pay.ais-flow.yaml",
                               "sources/packs/demo.ais-pack.yaml", "sources/protocols/demo.ais.yaml"]
    assert members["sources/flows/pay.ais-flow.yaml"] == FLOW.read_bytes()
    assert manifest["created_at"] == "2023-11-14T22:13:20.000Z"
    roles = {e["path"]: e["role"] for e in manifest["members"]}
    assert roles == {"plan.json": "plan", "sources/flows/pay.ais-flow.yaml": "workflow",
                     "sources/packs/demo.ais-pack.yaml": "pack", "sources/protocols/demo.ais.yaml": "protocol"}
    for e in manifest["members"]:
        assert e["sha256"] == hashlib.sha256(members[e["path"]]).hexdigest()
        assert e["size"] == len(members[e["path"]])
        assert str(e["spec_hash"]).startswith("0x") and len(e["spec_hash"]) == 66
    plan = json.loads(members["plan.json"])
    assert plan["meta"]["created_at"] == manifest["created_at"]
    assert manifest["plan"]["plan_hash"] == plan["extensions"]["aisc"]["plan_hash"]
    assert json.loads(members["manifest.json"]) == manifest


def test_deterministic_bytes(built: tuple[bytes, dict[str, Any]], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    again, _ = build_bundle(FLOW, workspace=WS)
    assert again == built[0]
    with tarfile.open(fileobj=io.BytesIO(again), mode="r:gz") as tar:
        infos = tar.getmembers()
    assert [i.name for i in infos] == sorted(i.name for i in infos)
    assert {(i.mtime, i.uid, i.gid, i.uname, i.gname, i.mode) for i in infos} == {(0, 0, 0, "", "", 0o644)}
    assert again[4:8] == b"\x00\x00\x00\x00"  # gzip header mtime


def test_verify_ok_and_recompiles(built: tuple[bytes, dict[str, Any]], tmp_path: Path) -> None:
    v = verify_bundle(_write(tmp_path, built[0]))
    assert v.ok and v.recompiled and v.diagnostics == ()
    plan, manifest = load_verified_bundle(_write(tmp_path, built[0]))
    assert plan["schema"] == "ais-plan/0.0.3" and manifest == built[1]


def _flip(data: bytes) -> bytes:
    i = len(data) // 2
    return data[:i] + bytes([data[i] ^ 0x01]) + data[i + 1:]


MEMBER_NAMES = ["manifest.json", "plan.json", "sources/flows/pay.ais-flow.yaml", "sources/packs/demo.ais-pack.yaml",
                "sources/protocols/demo.ais.yaml"]


@pytest.mark.parametrize("member", MEMBER_NAMES)
def test_flipping_one_byte_of_any_member_is_caught(built: tuple[bytes, dict[str, Any]], tmp_path: Path,
                                                   member: str) -> None:
    members = _members(built[0])
    members[member] = _flip(members[member])
    path = _write(tmp_path, write_archive(members))
    v = verify_bundle(path)
    assert not v.ok and v.plan is None
    errors = [d for d in v.diagnostics if d.is_error]
    assert errors and all(d.code.startswith("AISC-BUNDLE-") for d in errors)
    assert any(f"member {member}:" in d.message for d in errors), [d.message for d in errors]
    with pytest.raises(BundleError) as e:
        load_verified_bundle(path)
    assert any(member in d.message for d in e.value.diagnostics)


def test_flipping_a_byte_of_the_archive_is_caught(built: tuple[bytes, dict[str, Any]], tmp_path: Path) -> None:
    v = verify_bundle(_write(tmp_path, _flip(built[0])))
    assert not v.ok and v.diagnostics[0].code in ("AISC-BUNDLE-001", "AISC-BUNDLE-002")


def _reseal(members: dict[str, bytes], changed: str) -> dict[str, bytes]:
    """Forge a consistent manifest after changing ``changed`` (what an attacker without the sources could do)."""
    from aisc.compiler import plan_hash

    m = json.loads(members["manifest.json"])
    for e in m["members"]:
        if e["path"] == changed:
            e["sha256"] = hashlib.sha256(members[changed]).hexdigest()
            e["size"] = len(members[changed])
            if changed == "plan.json":
                e["spec_hash"] = m["plan"]["plan_hash"] = plan_hash(json.loads(members[changed]))
    m["manifest_sha256"] = bundles._manifest_digest(m)
    members["manifest.json"] = bundles._canonical_json(m)
    return members


def test_forged_plan_with_resealed_manifest_fails_recompile(built: tuple[bytes, dict[str, Any]],
                                                            tmp_path: Path) -> None:
    members = _members(built[0])
    plan = json.loads(members["plan.json"])
    plan["nodes"][1]["execution"]["to"] = {"lit": EVM_TO}
    from aisc.compiler import plan_text

    members["plan.json"] = plan_text(plan).encode()
    v = verify_bundle(_write(tmp_path, write_archive(_reseal(members, "plan.json"))))
    assert [d.code for d in v.diagnostics] == ["AISC-BUNDLE-015"]
    assert "member plan.json:" in v.diagnostics[0].message
    # without the recompile step the forgery is not detectable by digests alone
    assert verify_bundle(tmp_path / "b.tar.gz", recompile=False).ok


def test_forged_source_with_resealed_manifest_fails_spec_hash(built: tuple[bytes, dict[str, Any]],
                                                              tmp_path: Path) -> None:
    members = _members(built[0])
    name = "sources/protocols/demo.ais.yaml"
    members[name] = members[name].replace(b"0x1111111111111111111111111111111111111111", EVM_TO.encode())
    v = verify_bundle(_write(tmp_path, write_archive(_reseal(members, name))))
    assert [d.code for d in v.diagnostics] == ["AISC-BUNDLE-013"] and name in v.diagnostics[0].message


def _tar(entries: list[tuple[tarfile.TarInfo, bytes]]) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for info, data in entries:
            tar.addfile(info, io.BytesIO(data) if info.isreg() else None)
    return gzip.compress(raw.getvalue(), mtime=0)


def _reg(name: str, data: bytes = b"x") -> tuple[tarfile.TarInfo, bytes]:
    i = tarfile.TarInfo(name)
    i.size = len(data)
    return i, data


def _link(name: str, kind: bytes) -> tuple[tarfile.TarInfo, bytes]:
    i = tarfile.TarInfo(name)
    i.type = kind
    i.linkname = "/etc/passwd"
    return i, b""


UNSAFE: list[tuple[str, Callable[[dict[str, bytes]], list[tuple[tarfile.TarInfo, bytes]]], str, str]] = [
    ("absolute_path", lambda m: [_reg("/etc/evil")], "AISC-BUNDLE-003", "/etc/evil"),
    ("dot_dot", lambda m: [_reg("sources/../../evil")], "AISC-BUNDLE-003", "sources/../../evil"),
    ("dot_segment", lambda m: [_reg("./plan2.json")], "AISC-BUNDLE-003", "./plan2.json"),
    ("backslash", lambda m: [_reg("sources\\..\\evil")], "AISC-BUNDLE-003", "sources\\..\\evil"),
    ("windows_drive", lambda m: [_reg("C:/evil")], "AISC-BUNDLE-003", "C:/evil"),
    ("symlink", lambda m: [_link("sources/link.yaml", tarfile.SYMTYPE)], "AISC-BUNDLE-004", "sources/link.yaml"),
    ("hardlink", lambda m: [_link("sources/hard.yaml", tarfile.LNKTYPE)], "AISC-BUNDLE-004", "sources/hard.yaml"),
    ("directory", lambda m: [(_dir("sources"), b"")], "AISC-BUNDLE-004", "sources"),
    ("duplicate", lambda m: [_reg("plan.json", m["plan.json"])], "AISC-BUNDLE-005", "plan.json"),
    ("unlisted_extra", lambda m: [_reg("sources/extra.ais.yaml")], "AISC-BUNDLE-010", "sources/extra.ais.yaml"),
]


def _dir(name: str) -> tarfile.TarInfo:
    i = tarfile.TarInfo(name)
    i.type = tarfile.DIRTYPE
    return i


@pytest.mark.parametrize(("make", "code", "member"), [u[1:] for u in UNSAFE], ids=[u[0] for u in UNSAFE])
def test_unsafe_members_are_refused(built: tuple[bytes, dict[str, Any]], tmp_path: Path,
                                    make: Callable[[dict[str, bytes]], list[tuple[tarfile.TarInfo, bytes]]],
                                    code: str, member: str) -> None:
    members = _members(built[0])
    entries = [_reg(n, d) for n, d in sorted(members.items())] + make(members)
    v = verify_bundle(_write(tmp_path, _tar(entries)))
    assert not v.ok
    assert (code, f"member {member}:") in {(d.code, d.message.split(" ", 2)[0] + " " + d.message.split(" ", 2)[1])
                                           for d in v.diagnostics}


def test_missing_member_is_refused(built: tuple[bytes, dict[str, Any]], tmp_path: Path) -> None:
    members = _members(built[0])
    del members["sources/packs/demo.ais-pack.yaml"]
    v = verify_bundle(_write(tmp_path, write_archive(members)))
    assert [(d.code, d.message.split(":")[0]) for d in v.diagnostics] == [
        ("AISC-BUNDLE-009", "member sources/packs/demo.ais-pack.yaml")]


def test_oversize_member_is_refused(built: tuple[bytes, dict[str, Any]], tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bundles, "MAX_MEMBER_BYTES", 1000)
    v = verify_bundle(_write(tmp_path, built[0]))
    assert not v.ok and v.diagnostics[0].code == "AISC-BUNDLE-006" and "member " in v.diagnostics[0].message


def test_decompression_bomb_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bundles, "MAX_TOTAL_BYTES", 10_000)
    p = _write(tmp_path, gzip.compress(b"\0" * 2_000_000, mtime=0))
    members, diags = read_members(p)
    assert members == {} and [d.code for d in diags] == ["AISC-BUNDLE-006"]


@pytest.mark.parametrize(("edit", "code"), [
    (lambda m: {**m, "extra": 1}, "AISC-BUNDLE-007"),
    (lambda m: {**m, "format": "aisc-bundle/9"}, "AISC-BUNDLE-020"),
    (lambda m: {**m, "created_at": "2000-01-01T00:00:00.000Z"}, "AISC-BUNDLE-008"),
], ids=["unknown_key", "future_format", "edited_without_digest"])
def test_manifest_shape_and_digest(built: tuple[bytes, dict[str, Any]], tmp_path: Path,
                                   edit: Callable[[dict[str, Any]], dict[str, Any]], code: str) -> None:
    members = _members(built[0])
    members["manifest.json"] = bundles._canonical_json(edit(json.loads(members["manifest.json"])))
    v = verify_bundle(_write(tmp_path, write_archive(members)))
    assert [d.code for d in v.diagnostics] == [code] and "member manifest.json:" in v.diagnostics[0].message


def test_not_a_bundle(tmp_path: Path) -> None:
    p = tmp_path / "x.tar.gz"
    p.write_text("hello")
    assert not bundles.is_bundle(p)
    assert [d.code for d in verify_bundle(p).diagnostics] == ["AISC-BUNDLE-001"]
    assert [d.code for d in verify_bundle(tmp_path / "missing").diagnostics] == ["AISC-BUNDLE-001"]


def test_round_trip_runs_on_the_fake_backend(built: tuple[bytes, dict[str, Any]], tmp_path: Path) -> None:
    """bundle → verify → run: the verified plan executes both nodes on the fake backend."""
    from aisc.backends.fake import FakeBackend
    from aisc.backends.registry import BackendRegistry
    from aisc.ir.plan import plan_from_json
    from aisc.runtime.engine import Engine, RunOptions
    from aisc.runtime.events import ListSink

    plan_json, _ = load_verified_bundle(_write(tmp_path, built[0]))
    be = FakeBackend({"q_balance": {"outputs": {"balance": 5}}})
    reg = BackendRegistry()
    reg.register(be)
    eng = Engine(plan_from_json(plan_json), reg, inputs={"amount": "5", "to": EVM_TO, "owner": EVM_TO},
                 ctx={"wallet_address": "0x00000000000000000000000000000000000000a1"},
                 options=RunOptions(run_id="bundle-test", auto_confirm=True), sink=ListSink())
    result = eng.run()
    assert result.status == "done" and dict(be.calls) == {"q_balance": 1, "a_pay": 1}
