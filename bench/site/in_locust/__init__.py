"""Runs inside locust: the locustfile of a user's pages (``--path``).

May import only the standard library and locust.
"""
