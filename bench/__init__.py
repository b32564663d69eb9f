"""The benchmark harness: runs the Django project under WSGI and ASGI servers,
drives locust against each cell of a matrix, and records every figure.

It never imports the Django project: servers, load generator and harness are
separate processes that talk over HTTP, so the harness cannot bend what it
measures.
"""

from pathlib import Path

__version__ = "0.1.0"

# The checkout: the project, the scenarios and the results live beside bench/.
ROOT = Path(__file__).resolve().parent.parent
