"""The Django project under test.

It stands apart from the harness: the harness never imports it, it only starts
servers on ``project.wsgi:application`` and ``project.asgi:application`` and
talks to them over HTTP, so nothing the harness does can bend what it measures.
"""
