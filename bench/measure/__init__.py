"""Stage 4, one repeat of one cell: start, verify, load, sample, stop, derive.

Owns the repeat (``repeat``: its processes, its window's edges), what it is
given (``settings``: the run's settings, its plan, the interrupt), the primer
request (``primer``), the record made of a finished window (``derive``), the
load generator's guard (``guards``) and an open-loop window's figures
(``open_loop``), the resource sampler that watches the server and locust from
outside with psutil (``sampler``), the project's switch counter files
(``counter_files``), the database's CPU over a window (``dbcpu``) and the
write check (``rowcheck``). A repeat ends as one record
(``bench.results.records.RepeatRecord``) written to its cell's JSON.
May import: ``bench.serve``, ``bench.load``, ``bench.analyse.stats``,
``bench.results``.
"""
