"""From answers to pages: charts, report.md, report.html, comparisons.

Owns the report of a run: what it says, computed without drawing
(``contents``; its opening answer in words, ``answer``; ``caveats``, with
those that recur per cell said once, ``noise``), which charts it gets (``drawing``), its documents
(``pages``, ``templates/``) and the whole build (``build``); the matplotlib
charts (``charts/``) and their look (``style``), the comparison of two runs
(``compare``) and the switch-cost result (``switch_report``).
May import: ``bench.analyse``, ``bench.results``, ``bench.site.verdict``.
"""
