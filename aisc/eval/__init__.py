"""AIS CEL evaluation and ValueRef evaluation, shared by the passes and the runtime.

Entry points:
- :func:`compile_cel` ``(expr, options=None) -> f(root)``: parse + compile to closures, cached by
  source text (and function table / enabled extras); :func:`evaluate_cel` ``(expr, root, options)``.
- :class:`EvalOptions`: engine functions (override builtins), capability set (enables the
  ``MAX_UINT256`` / ``derive_ata`` extras and gates ``detect.requires_capabilities``), detect
  resolver and chain.
- :func:`evaluate_value_ref` over the runtime root, with :class:`MissingRef`, :class:`CelEvalFailed`,
  :class:`DetectError`, :class:`DetectCapabilitiesMissing`, :class:`DetectUnsupported`,
  :class:`DetectResolver`; :func:`resolve_ref`; :func:`with_params`.
- :mod:`aisc.eval.detect`: pack allowlist / provider choice (``check_detect_allowed``,
  ``pick_detect_provider``) over plain data.
- :mod:`aisc.eval.static`: ``analyze_cel`` / ``check_cel`` for the compile passes.

Value model: ``int`` (never ``bool``), :class:`aisc.numeric.Dec`, ``str``, ``bool``, ``None``,
lists, maps. No floats: a float reached during evaluation is an error.

May import: ``aisc.grammar``, ``aisc.ir``, ``aisc.diagnostics``, ``aisc.numeric``; ``solders``
(lazily, for ``derive_ata``). Never lark directly.
"""

from aisc.grammar.errors import CelError, CelEvalError, CelSyntaxError

from .builtins import BUILTINS, CAP_DERIVE_ATA, CAP_MAX_UINT256, Builtin
from .compiler import Compiled, EvalOptions, compile_cel, evaluate_cel
from .valueref import (
    RUNTIME_ROOTS,
    CelEvalFailed,
    DetectCapabilitiesMissing,
    DetectError,
    DetectResolver,
    DetectUnsupported,
    MissingRef,
    ValueRefEvalError,
    evaluate_value_ref,
    resolve_ref,
    with_params,
)

__all__ = [
    "BUILTINS",
    "CAP_DERIVE_ATA",
    "CAP_MAX_UINT256",
    "RUNTIME_ROOTS",
    "Builtin",
    "CelError",
    "CelEvalError",
    "CelEvalFailed",
    "CelSyntaxError",
    "Compiled",
    "DetectCapabilitiesMissing",
    "DetectError",
    "DetectResolver",
    "DetectUnsupported",
    "EvalOptions",
    "MissingRef",
    "ValueRefEvalError",
    "compile_cel",
    "evaluate_cel",
    "evaluate_value_ref",
    "resolve_ref",
    "with_params",
]
