"""Runs inside the server that serves a user's project: imports their application.

May import only the standard library, Django and each other; and, under a
private name, this repository's ``project.accounting`` (``app`` says why).
"""
