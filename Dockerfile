# The registry's production image: gunicorn serving registry.wsgi from /app as
# an unprivileged user; docker-compose.yml runs it with PostgreSQL, Redis and
# nginx. No Docker engine runs on the project's machines, so CI builds this
# image's file tree from this file and .dockerignore (.ci/image_check.py
# follows FROM, ENV, WORKDIR, COPY, RUN, USER, EXPOSE, HEALTHCHECK and CMD)
# and serves the registry from it with compose's settings: keep to those.
FROM python:3.12-slim-trixie

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# pg_dump and pg_restore for bin/backup and bin/restore, of the major version
# of compose's postgres image (pg_dump refuses a server newer than itself).
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client-17 \
    && rm -rf /var/lib/apt/lists/*

RUN useradd --system --uid 10001 --no-create-home registry

WORKDIR /app

# Dependencies first: the runtime ones (pyproject's [project] dependencies, not
# the dev extra), each pinned by requirements.lock. This layer depends on these
# two files only, so a code change reuses it.
COPY pyproject.toml requirements.lock ./
RUN python -c "import tomllib; print(*tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies'], sep='\n')" \
        > runtime-requirements.txt \
    && pip install --no-cache-dir --root-user-action=ignore -c requirements.lock -r runtime-requirements.txt \
    && rm runtime-requirements.txt

# The application, run from /app (not installed as a package). What stays out
# on purpose (tests, bench, CI, development scripts, local data, secrets) is
# listed in .dockerignore; CI fails on a tracked file that is in neither.
COPY manage.py gunicorn.conf.py ./
COPY registry ./registry
COPY agreements ./agreements
COPY templates ./templates
COPY static ./static
# The German and Polish interface: the compiled catalogues (.mo) are committed.
COPY locale ./locale
# The operators' bin/backup and bin/restore (bin/start and bin/test stay out).
COPY bin ./bin

# collectstatic needs settings, not secrets: a throwaway key for the build only.
RUN DJANGO_SECRET_KEY=collectstatic-only DJANGO_DEBUG=0 python manage.py collectstatic --no-input -v0

# Written at run time: uploaded documents and backups (volumes in docker-compose.yml).
RUN mkdir -p /app/media /app/backups && chown registry /app/media /app/backups
USER registry

EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
CMD ["gunicorn", "-c", "gunicorn.conf.py", "registry.wsgi"]
