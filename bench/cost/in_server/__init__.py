"""Code that runs inside a server measured by the cost mode, never in the harness.

``window`` wraps the served WSGI or ASGI application with the control paths
that mark the counted requests. Imports only the standard library: the
server's interpreter may be another release's environment.
"""
