"""One module per ``aisc`` subcommand: ``HELP``, ``configure(parser)``, ``run(args) -> int``.

Commands render and map to exit codes; the work happens in compiler/runtime/conformance.
"""
