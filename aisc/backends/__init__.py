"""Chain backends: the interface the runtime calls, the router, and the implementations.

Entry points:

- :mod:`aisc.backends.base`: the ``Backend`` Protocol, ``NodeCall``, ``ExecResult``, ``TxIntent``,
  ``BackendError``, ``io_kind`` (read/write classification).
- :mod:`aisc.backends.registry`: ``BackendRegistry`` routes a plan node by chain and execution
  type; built from a run config, it imports ``aisc.backends.evm`` / ``aisc.backends.solana`` only
  when a chain needs them.
- :mod:`aisc.backends.fake`: ``FakeBackend``, scriptable, for unit tests and benchmarks.
- :mod:`aisc.backends.testing`: ``BackendContract``, the test suite every backend subclass runs.
- ``aisc.backends.evm``, ``aisc.backends.solana``: the real chains.

May import: ``aisc.eval``, ``aisc.grammar``, ``aisc.ir`` and the bottom layer. Never
``aisc.frontend``, ``aisc.passes``, ``aisc.compiler`` or ``aisc.runtime``.
"""
