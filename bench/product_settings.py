"""The product's own settings, with one change for the benchmark: static files
are collected into a folder the runner owns (``BENCH_STATIC_ROOT``) instead of
the project's ``staticfiles/``. Everything else comes from the environment,
exactly as in production."""

import os

from registry.settings import *  # noqa: F403

STATIC_ROOT = os.environ["BENCH_STATIC_ROOT"]
