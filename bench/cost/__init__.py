"""Instructions per request: the noise-free cost of whole Django requests (issue 21).

Timed figures move 20-45% within an hour on a shared host; the number of
instructions a request executes does not. This package runs a cell's server
under valgrind, sends it a fixed number of requests from one sequential
keep-alive client, and reads valgrind's per-process counts.

Owns valgrind's command line and output files (``valgrind``), the client
that sends the requests (``client``), the typed records of a cost run
(``records``), one cell's measurement by differencing two server runs and its
hop count (``measure``), the whole run, cell by cell, written as it goes
(``execute``), and the check of a run against a baseline (``gate``). What
runs inside the measured server is ``in_server``.
May import: ``bench.errors``, ``bench.plan`` (the cells), ``bench.serve``
(servers, child processes, ports), ``bench.results`` (the store's run
directory and atomic writes, metadata, the record base) and
``bench.measure.counter_files`` (the project's switch counters) and
``bench.site.project`` (a user's site, served as the timed runs serve it).
The servers
run the Django project; this package never imports Django itself.
"""
