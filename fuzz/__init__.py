"""Coverage-guided fuzzing of aisc's input parsers and decoders (not shipped; see docs/fuzzing.md).

``fuzz/targets/<name>.py`` holds one target each: ``test_one(data: bytes)`` turns fuzzer bytes into
one call of the code under test and raises :class:`fuzz.oracle.OracleViolation` (or lets any
unexpected exception escape) when the oracle is broken. ``fuzz/run.py`` drives them with atheris
(libFuzzer) or, without atheris, with a seeded random mutator.
"""
