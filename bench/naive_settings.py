"""The *naive* reference: the product's settings with the tutorial-style API
of ``bench/naive_urls.py`` as the only URLs. Never part of the product."""

from bench.product_settings import *  # noqa: F403

ROOT_URLCONF = "bench.naive_urls"
