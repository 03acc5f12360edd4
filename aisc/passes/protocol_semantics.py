"""Protocol semantics: returns ↔ ABI outputs, names, token_amount/asset_ref, type refinements."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from aisc.diagnostics import Diagnostic, Related, Span
from aisc.ir.execution import (
    AbiFunction,
    Composite,
    EvmCall,
    EvmMulticall,
    EvmMultiread,
    EvmRead,
    ExecutionSpec,
    SolanaInstruction,
)
from aisc.ir.protocol import Param, Protocol, Return
from aisc.ir.types import TypeParseError, parse_type
from aisc.ir.valueref import ArrayRef, Cel, ObjectRef, ValueRef


def _key(path: str, key: str) -> str:
    from aisc.ir.codec import path_key

    return path_key(path, key)


def check_protocol(doc: Protocol) -> list[Diagnostic]:
    """Semantic checks of one structured ``ais/0.0.2`` document (codes ``AISC-PROTO-NNN``)."""
    out: list[Diagnostic] = []
    for group, items in (("actions", doc.actions), ("queries", doc.queries or {})):
        for name, item in items.items():
            base = _key(f"$.{group}", name)
            params = item.params or ()
            returns = item.returns or ()
            _check_params(params, f"{base}.params", out)
            _check_unique((r.name for r in returns), [r.span for r in returns], f"{base}.returns", "return", out)
            for pattern, spec in item.execution.items():
                _check_spec(spec, returns, _key(f"{base}.execution", pattern), group == "queries", out)
                _check_addresses(spec, _key(f"{base}.execution", pattern), out)
    return out


def _check_addresses(spec: ExecutionSpec, path: str, out: list[Diagnostic]) -> None:
    """R059: a CEL value in an address position (``to``, an ``address`` ABI argument, a Solana program
    or account key) must not be built with ``+``."""
    from aisc.eval.static import uses_plus

    for vr, p in _address_positions(spec, path):
        for leaf, lp in _cel_leaves(vr, p):
            if uses_plus(leaf.expr):
                out.append(Diagnostic(
                    "AISC-PROTO-011", f"an address is built with '+' here: {leaf.expr!r} (R059)",
                    path=f"{lp}.cel", span=leaf.span,
                    hint="take the address from contracts.*, a param or a literal; AIS CEL does not build "
                         "addresses by concatenation"))


def _address_positions(spec: ExecutionSpec, path: str) -> Iterable[tuple[ValueRef, str]]:
    if isinstance(spec, Composite):
        for i, st in enumerate(spec.steps):
            yield from _address_positions(st.execution, f"{path}.steps[{i}].execution")
    elif isinstance(spec, EvmCall | EvmRead):
        yield spec.to, f"{path}.to"
        yield from _address_args(spec.abi, spec.args, f"{path}.args")
    elif isinstance(spec, EvmMulticall):
        yield spec.to, f"{path}.to"
        for i, call in enumerate(spec.calls):
            yield from _address_args(call.abi, call.args, f"{path}.calls[{i}].args")
    elif isinstance(spec, EvmMultiread):
        for i, rc in enumerate(spec.calls):
            yield rc.to, f"{path}.calls[{i}].to"
            yield from _address_args(rc.abi, rc.args, f"{path}.calls[{i}].args")
    elif isinstance(spec, SolanaInstruction):
        yield spec.program, f"{path}.program"
        for i, acc in enumerate(spec.accounts):
            yield acc.pubkey, f"{path}.accounts[{i}].pubkey"


def _address_args(abi: AbiFunction, args: Mapping[str, ValueRef], path: str) -> Iterable[tuple[ValueRef, str]]:
    for inp in abi.inputs:
        if inp.type == "address" and inp.name in args:
            yield args[inp.name], _key(path, inp.name)


def _cel_leaves(vr: ValueRef, path: str) -> Iterable[tuple[Cel, str]]:
    if isinstance(vr, Cel):
        yield vr, path
    elif isinstance(vr, ObjectRef):
        for k, v in vr.entries.items():
            yield from _cel_leaves(v, _key(f"{path}.object", k))
    elif isinstance(vr, ArrayRef):
        for i, v in enumerate(vr.items):
            yield from _cel_leaves(v, f"{path}.array[{i}]")


def _check_unique(names: Iterable[str], spans: list[Span | None], path: str, what: str,
                  out: list[Diagnostic]) -> None:
    seen: dict[str, int] = {}
    for i, n in enumerate(names):
        if n in seen:
            j = seen[n]
            out.append(Diagnostic("AISC-PROTO-006", f"duplicate {what} name {n!r}", path=f"{path}[{i}].name",
                                  span=spans[i], hint=f"give every {what} a unique name",
                                  related=(Related("first declared here", spans[j]),)))
        else:
            seen[n] = i


def _check_params(params: tuple[Param, ...], path: str, out: list[Diagnostic]) -> None:
    _check_unique((p.name for p in params), [p.span for p in params], path, "param", out)
    by_name: Mapping[str, Param] = {p.name: p for p in params}
    for i, p in enumerate(params):
        pp = f"{path}[{i}]"
        try:
            parse_type(p.type)
        except TypeParseError as e:
            out.append(Diagnostic("AISC-PROTO-010", f"{e} (R110)", path=f"{pp}.type", span=p.type_span or p.span,
                                  hint="intN/uintN need N % 8 == 0 and 8 <= N <= 256; bytesN needs 1 <= N <= 32"))
        if p.type == "token_amount":
            if p.asset_ref is None:
                out.append(Diagnostic("AISC-PROTO-007", f"token_amount param {p.name!r} has no asset_ref (R114)",
                                      path=pp, span=p.span, hint="add asset_ref: <name of an asset param>"))
            else:
                target = by_name.get(p.asset_ref)
                if target is None or target.type != "asset":
                    what = "no param" if target is None else f"a {target.type} param"
                    out.append(Diagnostic(
                        "AISC-PROTO-008", f"asset_ref {p.asset_ref!r} of {p.name!r} names {what}, not an asset param "
                                          "(R114)", path=f"{pp}.asset_ref", span=p.span,
                        hint="point asset_ref at a param whose type is 'asset'"))


def _check_spec(spec: ExecutionSpec, returns: tuple[Return, ...], path: str, is_query: bool,
                out: list[Diagnostic]) -> None:
    if isinstance(spec, Composite):
        for i, st in enumerate(spec.steps):
            _check_spec(st.execution, (), f"{path}.steps[{i}].execution", False, out)
        return
    if not isinstance(spec, EvmRead):
        return
    outputs = spec.abi.outputs or ()
    opath = f"{path}.abi.outputs"
    names = [o.name for o in outputs]
    for i, o in enumerate(outputs):
        if not o.name:
            out.append(Diagnostic("AISC-PROTO-004", "ABI output has an empty name (R105, R203)", path=f"{opath}[{i}].name",
                                  span=o.span, hint="name every output; returns map onto output names"))
        elif names.index(o.name) != i:
            out.append(Diagnostic("AISC-PROTO-005", f"duplicate ABI output name {o.name!r} (R203)",
                                  path=f"{opath}[{i}].name", span=o.span))
    if not is_query and not returns:
        return
    if returns and not outputs:
        out.append(Diagnostic("AISC-PROTO-004", "evm_read declares returns but abi.outputs is empty (R105)",
                              path=opath, span=spec.abi.span, hint="declare the function outputs in the ABI"))
        return
    if not returns and outputs:
        out.append(Diagnostic("AISC-PROTO-001", f"evm_read has {len(outputs)} ABI output(s) but the query declares "
                                                "no returns (R101)", path=opath, span=spec.abi.span,
                              hint="declare one return per ABI output, same order, names and types"))
        return
    if len(returns) != len(outputs):
        out.append(Diagnostic("AISC-PROTO-001", f"returns has {len(returns)} entries but abi.outputs has "
                                                f"{len(outputs)} (R101)", path=opath, span=spec.abi.span,
                              hint="declare one return per ABI output, same order, names and types"))
        return
    for i, (r, o) in enumerate(zip(returns, outputs, strict=True)):
        if r.name != o.name:
            code = "AISC-PROTO-002"
            msg = (f"returns[{i}] is {r.name!r} but abi.outputs[{i}] is {o.name!r}"
                   + (" (R102: same order)" if r.name in names else " (R103: same names)"))
            out.append(Diagnostic(code, msg, path=f"{opath}[{i}].name", span=o.span,
                                  related=(Related(f"returns[{i}] declared here", r.span),)))
        elif r.type != o.type:
            out.append(Diagnostic("AISC-PROTO-003", f"return {r.name!r} has type {r.type!r} but the ABI output is "
                                                    f"{o.type!r} (R104)", path=f"{opath}[{i}].type", span=o.span,
                                  related=(Related("return declared here", r.span),)))
