"""Stage 3, the load: locust, driven from outside and extended from inside.

``loadgen`` runs in the harness: it builds locust's command line, starts it as
a subprocess and relays its markers; ``output`` reads what it leaves behind
(the plugin's samples, locust's totals). ``schedule`` is pure arithmetic
(when open-loop requests fall due) shared by both sides.
``in_locust/`` runs inside the locust process, never in the harness: the
plugin loaded beside every scenario, the open-loop sender, the calibration
locustfile, and the scenario checker (run as ``python -m``).
May import: ``bench.errors``, ``bench.serve`` (ports, processes).
"""
