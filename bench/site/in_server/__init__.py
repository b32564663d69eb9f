"""Runs inside the server that serves a user's project: imports their application.

May import only the standard library, Django and each other.
"""
