"""Runs in a subprocess in the user's project environment: imports Django.

Started as ``python -m bench.site.in_site.<module>`` with the project's
directory as cwd. May import only the standard library, Django, asgiref and
each other: the user's environment need not have the harness's dependencies.
``asgi_client`` (the client's side of one in-process ASGI request) serves the
probe and the tests' in-process calls of the bundled project alike.
"""
