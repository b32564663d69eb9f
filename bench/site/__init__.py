"""A user's own Django project as the application of a run (``--project``).

``project`` and ``verdict`` run in the harness: they inspect a project through
a subprocess, serve it under the harness's servers, and say what its run
means. The harness never imports the user's project, nor Django:
``in_site/`` runs in a subprocess in the project's own environment (its
inspection, the in-process probe of its thread hops, the count of its
database connections), ``in_server/`` runs inside the server that serves it
(the wrapper application and its exception files), ``in_locust/`` inside
locust (the locustfile of its pages).
May import: ``bench.serve``, ``bench.plan``, ``bench.measure`` (the primer
request), ``bench.analyse`` (for the verdict).
"""
