"""The backend contract suite (eth-tester style): tests every backend must pass.

Subclass :class:`BackendContract` in a test module and provide the fixtures; pytest collects the
inherited tests::

    class TestMyBackend(BackendContract):
        @pytest.fixture
        def backend(self): return MyBackend(...)
        @pytest.fixture
        def read_call(self, backend): return NodeCall(...)       # a read the backend can run
        @pytest.fixture
        def write_call(self, backend): return NodeCall(...)      # a write (or None to skip writes)
        @pytest.fixture
        def failing_call(self, backend): return NodeCall(...)    # a call that must fail

Import-light: only pytest and the base interface. ``make_call`` builds a NodeCall whose
``evaluate`` understands ``lit`` and ``ref`` ValueRefs over a plain root.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from aisc.backends.base import Backend, BackendError, ExecResult, NodeCall, TxIntent


def make_call(node_id: str, chain: str, execution: Mapping[str, Any], *, root: Mapping[str, Any] | None = None,
              attempt: int = 1, record_intent: Any = None) -> NodeCall:
    """A NodeCall with a small lit/ref evaluator (enough for contract tests)."""
    data = dict(root or {})

    def evaluate(ref: Any) -> Any:
        if isinstance(ref, Mapping) and "lit" in ref:
            return ref["lit"]
        if isinstance(ref, Mapping) and "ref" in ref:
            cur: Any = data
            for seg in str(ref["ref"]).split("."):
                if not isinstance(cur, Mapping) or seg not in cur:
                    raise BackendError(f"Missing ref: {ref['ref']}", category="validation")
                cur = cur[seg]
            return cur
        raise BackendError(f"contract evaluator cannot evaluate {ref!r}", category="validation")

    kwargs: dict[str, Any] = {}
    if record_intent is not None:
        kwargs["record_intent"] = record_intent
    return NodeCall(node_id=node_id, chain=chain, execution=execution, evaluate=evaluate, attempt=attempt, **kwargs)


class BackendContract:
    """Inherited tests. Fixtures ``backend``, ``read_call``, ``write_call`` and ``failing_call``
    come from the subclass; ``write_call`` may return None for a read-only backend."""

    def test_is_a_backend(self, backend: Backend) -> None:
        assert isinstance(backend, Backend)
        assert isinstance(backend.name, str) and backend.name

    def test_supports_its_own_calls(self, backend: Backend, read_call: NodeCall) -> None:
        assert backend.supports(read_call.chain, read_call.execution_type) is True

    def test_supports_rejects_unknown_type(self, backend: Backend, read_call: NodeCall) -> None:
        assert backend.supports(read_call.chain, "no_such_execution_type_x") is False

    def test_read_returns_mapping_and_records_no_intent(self, backend: Backend, read_call: NodeCall) -> None:
        intents: list[TxIntent] = []
        call = NodeCall(node_id=read_call.node_id, chain=read_call.chain, execution=read_call.execution,
                        evaluate=read_call.evaluate, record_intent=intents.append)
        res = backend.execute(call)
        assert isinstance(res, ExecResult)
        assert isinstance(res.outputs, Mapping)
        assert intents == []
        for etype, data in res.events:
            assert etype not in ("tx_sent", "tx_confirmed")
            assert isinstance(data, Mapping)

    def test_write_records_intent_before_tx_sent(self, backend: Backend, write_call: NodeCall | None) -> None:
        if write_call is None:
            pytest.skip("read-only backend: no writes to check")  # the fixture opts out explicitly
        intents: list[TxIntent] = []
        call = NodeCall(node_id=write_call.node_id, chain=write_call.chain, execution=write_call.execution,
                        evaluate=write_call.evaluate, record_intent=intents.append)
        res = backend.execute(call)
        assert len(intents) == 1, "a write must record exactly one intent per attempt"
        intent = intents[0]
        assert intent.tx_id and intent.chain == write_call.chain
        sent = [d for t, d in res.events if t == "tx_sent"]
        if sent:
            assert sent[0]["tx_hash"] == intent.tx_id
        assert backend.reconcile(intent) is not None

    def test_errors_are_backend_errors(self, backend: Backend, failing_call: NodeCall) -> None:
        with pytest.raises(BackendError) as ei:
            backend.execute(failing_call)
        assert isinstance(ei.value.category, str) and isinstance(ei.value.retryable, bool)

    def test_preview_has_no_side_effects(self, backend: Backend, write_call: NodeCall | None,
                                         read_call: NodeCall) -> None:
        call = write_call or read_call
        intents: list[TxIntent] = []
        probe = NodeCall(node_id=call.node_id, chain=call.chain, execution=call.execution,
                         evaluate=call.evaluate, record_intent=intents.append)
        pv = backend.preview(probe)
        assert isinstance(pv, dict) and intents == []
        assert pv.get("chain", call.chain) == call.chain

    def test_signer_address_is_str_or_none(self, backend: Backend, read_call: NodeCall) -> None:
        addr = backend.signer_address(read_call.chain)
        assert addr is None or isinstance(addr, str)
        assert "private" not in str(addr).lower()
