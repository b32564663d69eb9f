"""From answers to pages: charts, report.md, report.html, comparisons.

Owns the report of a run (``build``), its templates (``templates/``), the
matplotlib charts (``charts/``) and their look (``style``), the comparison of
two runs (``compare``) and the switch-cost result (``switch_report``).
May import: ``bench.analyse``, ``bench.results``, ``bench.site.verdict``.
"""
