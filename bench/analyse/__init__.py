"""From results to answers: statistics, verdicts, fits; no process, no chart.

Owns the statistics (``stats``), the grouping of cells by identity
(``groups``), the verdicts a run answers (``verdicts``) and the cells
each compares, measured back to back (``pairs``), the
open-loop sustained rates and the search for a knee (``sustained``,
``search``), the held-connection cost (``held``) and the switch-cost fit
(``switchfit``).
May import: ``bench.results``, ``bench.plan`` (a cell's identity and its
scenario's comparisons). Nothing here draws or prints.
"""
