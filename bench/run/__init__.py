"""Stage 5, a whole run: a matrix executed, repeats interleaved, every figure kept.

Owns the execution of a matrix (``execute``; its options in ``options``, its
cells, repeats and order in ``cells``, its open-loop searches in ``sweeps``,
run.json and the cell files in ``document``, a repeat's console line in
``describe``, the stopping rule on the intervals' width in ``stopping``),
the load generator's ceiling (``calibrate``), the long single-cell run
(``soak``), the asgiref microbenchmark (``microbench``) and the live
progress display (``progress``).
May import every stage below it: ``plan``, ``serve``, ``load``, ``measure``,
``results``, ``analyse`` (the sustained-rate search, the pairs, the
verdicts the stopping rule reads), ``site``.
"""
