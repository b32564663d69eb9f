"""Stage 1, the plan: what a run will measure, decided before any process starts.

Owns scenario discovery (``scenarios``), the matrix of cells with their
stable ids (``matrix``) and the checks of a plan that need no server
(``fdlimit``: enough file descriptors for the connections a cell holds).
May import: ``bench.errors``, ``bench.load.schedule`` (how many users an
open-loop rate needs) and ``bench.serve.servers`` (the server registry names a
cell's server). Nothing here starts a server or a load generator.
"""
