"""The conformance vector runner (``aisc conformance``): loads ``ais-conformance/0.0.2`` files and
checks each case with the handler registered for its kind.

May import everything below the CLI layer (compiler, runtime, backends, eval, ...); handler modules
are imported lazily, only for the kinds a run needs.
"""
