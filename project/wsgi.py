"""WSGI entry point: ``project.wsgi:application``."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")

from django.core.wsgi import get_wsgi_application

from project import accounting

application = get_wsgi_application()
if accounting.enabled():
    application = accounting.wrap_wsgi(application)
