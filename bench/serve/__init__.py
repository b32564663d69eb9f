"""Stage 2, the servers: start what is measured, make it ready, always stop it.

Owns the server registry and what a server serves (``servers``), starting a
server and waiting until it is ready (``launch``), the child processes the
harness starts, pinned and logged (``processes``), loopback ports and the
loopback-only rule (``ports``), and the database a run's project uses
(``database``).
May import: ``bench.errors``.
The server processes run the Django project; this package only launches them
and never imports Django itself.
"""
