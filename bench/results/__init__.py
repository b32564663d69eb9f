"""The results on disk: one directory per run, never overwritten.

Owns the schema and the atomic store (``store``), the typed records that reach
disk (``records``), the summary a cell keeps of its repeats (``summary``),
what a run was measured with (``metadata``) and the compact archive of a run
a README cites (``archive``).
May import: ``bench.errors``, ``bench.plan.matrix`` (a cell's identity,
``Cell``, in the records), ``bench.serve.database`` (redacting a URL).
Every stage reads and writes results through this package.
"""
