"""RuntimePatch guard and audit (R290–R295, SPEC-MAP §7.7)."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from aisc.runtime.engine import new_root
from aisc.runtime.patch import RuntimePatchError, apply_patches, build_guard_policy, check_path_allowed

GUARD = build_guard_policy()

PATHS = [
    ("r291-inputs", "inputs.amount", None),
    ("r291-ctx", "ctx.wallet_address", None),
    ("r291-contracts", "contracts.router", None),
    ("r291-policy", "policy.x", None),
    ("r291-nodes-denied", "nodes.a.outputs", 'patch path root "nodes" is blocked by guard policy'),
    ("r291-query-denied", "query.q", 'patch path root "query" is not allowed (allowed roots: inputs, ctx, contracts, policy)'),
    ("empty", "   ", "patch path is empty"),
]


@pytest.mark.parametrize(("path", "reason"), [(p, r) for _, p, r in PATHS], ids=[i for i, _, _ in PATHS])
def test_r291_default_guard(path: str, reason: str | None) -> None:
    """R291/R217: by default only inputs, ctx, contracts and policy are writable; nodes.* is not."""
    assert check_path_allowed(path, GUARD) == reason


def test_r292_guard_config() -> None:
    g = build_guard_policy({"allow_roots": ["inputs"], "allow_path_patterns": ["^calculated\\.", "("],
                            "allow_nodes_paths": ["^nodes\\.a\\.outputs$"]})
    assert check_path_allowed("calculated.x", g) is None
    assert check_path_allowed("ctx.x", g) is not None
    assert check_path_allowed("nodes.a.outputs", g) is None
    assert check_path_allowed("nodes.b.outputs", g) == 'patch path under "nodes" is not matched by allow_nodes_paths'
    assert build_guard_policy({"allow_roots": []}).allow_roots == ("inputs", "ctx", "contracts", "policy")


BAD = [
    ("not-list", {"op": "set"}, "invalid_patches_input"),
    ("bad-op", [{"op": "add", "path": "inputs.a", "value": 1}], "invalid_patch"),
    ("no-value", [{"op": "set", "path": "inputs.a"}], "invalid_patch"),
    ("extra-field", [{"op": "set", "path": "inputs.a", "value": 1, "why": "x"}], "invalid_patch"),
    ("guard", [{"op": "set", "path": "nodes.a", "value": 1}], "guard_rejected"),
    ("merge-non-object", [{"op": "merge", "path": "inputs", "value": 3}], "merge_type_error"),
    ("merge-into-scalar", [{"op": "set", "path": "inputs.a", "value": 1}, {"op": "merge", "path": "inputs.a",
                                                                         "value": {"b": 1}}], "merge_type_error"),
]


@pytest.mark.parametrize(("patches", "code"), [(p, c) for _, p, c in BAD], ids=[i for i, _, _ in BAD])
def test_r293_errors(patches: Any, code: str) -> None:
    with pytest.raises(RuntimePatchError) as ei:
        apply_patches(new_root(), patches, guard=GUARD)
    assert ei.value.code == code


def test_bad_guard_config() -> None:
    with pytest.raises(RuntimePatchError) as ei:
        build_guard_policy({"allow_roots": "inputs"})
    assert ei.value.code == "invalid_guard_config"


def test_r294_audit_and_hash() -> None:
    root = new_root()
    res = apply_patches(root, [{"op": "set", "path": "inputs.a", "value": 1},
                               {"op": "set", "path": "nodes.x", "value": 2},
                               {"op": "merge", "path": "ctx", "value": {"w": "0x1"}}],
                        guard=GUARD, continue_on_error=True, record_undo=True)
    assert root["inputs"] == {"a": 1} and root["ctx"]["w"] == "0x1" and "x" not in root["nodes"]
    expected_json = ('[{"index":0,"op":"set","path":"inputs.a","status":"applied"},'
                     '{"index":1,"op":"set","path":"nodes.x","status":"rejected",'
                     '"reason":"patch path root \\"nodes\\" is blocked by guard policy"},'
                     '{"index":2,"op":"merge","path":"ctx","status":"applied"}]')
    assert res.audit == {
        "patch_count": 3, "applied_count": 2, "rejected_count": 1, "affected_paths": ["inputs.a", "ctx"],
        "partial_success": True, "hash": hashlib.sha256(expected_json.encode()).hexdigest(),
    }
    assert res.undo[0] == {"op": "set", "path": "inputs.a", "value": None}


def test_set_creates_intermediate_objects_and_rejects_unknown_root() -> None:
    root = new_root()
    apply_patches(root, [{"op": "set", "path": "contracts.a.b", "value": "0x1"}])
    assert root["contracts"] == {"a": {"b": "0x1"}}
    with pytest.raises(RuntimePatchError, match="Unknown ref root"):
        apply_patches(root, [{"op": "set", "path": "elsewhere.a", "value": 1}])
