"""Benchmarks for stockade: a seeded cluster generator, a slow reference evaluator, runners.

Kept importable (``benchmarks.generate``, ``benchmarks.reference``) so that the harness and
its tests share one implementation; nothing in ``src/stockade`` depends on this package.
"""
