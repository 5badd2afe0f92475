import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "registry.settings")
# Web requests: a query running longer than this (ms) is cancelled and answered 503.
os.environ.setdefault("DATABASE_STATEMENT_TIMEOUT", "15000")
application = get_wsgi_application()
