"""The plan runtime: scheduler, evaluation, policy gate, patches, events, commands.

Entry points:

- :class:`aisc.runtime.engine.Engine` / :func:`aisc.runtime.engine.run_plan`: run one
  ``ais-plan/0.0.3`` (:class:`aisc.ir.plan.Plan`) against a backend router.
- :mod:`aisc.runtime.policy`: gate input extraction, the decision, allowlists, confirmation details.
- :mod:`aisc.runtime.patch`: RuntimePatch guard and audit.
- :mod:`aisc.runtime.events`: engine event records and sinks (JSONL through ``aisc.aisjson``).
- :mod:`aisc.runtime.progress`: the terminal progress view.
- :mod:`aisc.runtime.testing`: ``validate_event`` for tests.

May import: ``aisc.backends``, ``aisc.eval``, ``aisc.grammar``, ``aisc.ir`` and the bottom layer.
Never ``aisc.frontend``, ``aisc.passes`` or ``aisc.compiler``: the runtime runs any valid plan,
also one another AIS implementation produced. User documentation: docs/runtime.md.
"""
