import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "registry.settings")
os.environ.setdefault("DATABASE_STATEMENT_TIMEOUT", "15000")  # as in wsgi.py
application = get_asgi_application()
