"""aisc: a compiler and runtime for AIS (Agent Interaction Spec) documents.

Subpackages, top to bottom (enforced by the import-linter contract in pyproject.toml):

- ``aisc.cli`` / ``aisc.commands`` / ``aisc.conformance``: command line, one module per command.
- ``aisc.compiler`` (phases of a compilation) and ``aisc.runtime`` (plan interpreter).
- ``aisc.passes`` (static checks and lowering) and ``aisc.backends`` (EVM, Solana, plugins).
- ``aisc.frontend``: YAML/JSON → positioned nodes → typed documents.
- ``aisc.eval``: expression IR → fast callables; ValueRef evaluation.
- ``aisc.grammar``: the CEL grammar and parser.
- ``aisc.ir``: frozen attrs models and the one strict codec.
- bottom: ``aisc.diagnostics``, ``aisc.numeric``, ``aisc.jcs``, ``aisc.aisjson``, ``aisc.addresses``,
  ``aisc.exitcodes``.
"""

__version__ = "0.1.0"
