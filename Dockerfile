FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first (pinned by requirements.lock), so code changes reuse this layer.
COPY pyproject.toml requirements.lock README.md ./
COPY registry ./registry
COPY agreements ./agreements
RUN pip install --no-cache-dir -c requirements.lock .

COPY manage.py gunicorn.conf.py ./
COPY templates ./templates
COPY static ./static
# collectstatic needs settings, not secrets: a throwaway key for the build only.
RUN DJANGO_SECRET_KEY=collectstatic-only DJANGO_DEBUG=0 python manage.py collectstatic --no-input -v0

RUN useradd --system --uid 10001 registry && mkdir -p /app/media && chown registry /app/media
USER registry

EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
CMD ["gunicorn", "-c", "gunicorn.conf.py", "registry.wsgi"]
