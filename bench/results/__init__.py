"""The results on disk: one directory per run, never overwritten.

Owns the schema and the atomic store (``store``), the typed records that reach
disk (``records``), what a run was measured with (``metadata``) and the
compact archive of a run a README cites (``archive``).
May import: ``bench.errors``, ``bench.analyse.stats`` (the summary of repeats),
``bench.plan.matrix`` (a cell's identity, ``Cell``, in the records).
Every stage reads and writes results through this package.
"""
