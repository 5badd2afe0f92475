"""SQL statements per request, counted in-process: each scenario's request is
made through Django's test Client against the same database: once to warm
per-process caches (content types, the language catalogue), then, with the
shared cache emptied, once counted cold (the answer is produced) and once
counted warm (the answer may come from the cache), streamed bodies included,
with CaptureQueriesContext. Reads scenarios as JSON on stdin, writes
{name: {"cold": n, "queries": n, "status": code}} on stdout.

Run by the runner with DJANGO_SETTINGS_MODULE set to the app under test."""

import json
import sys

import django

django.setup()

from django.core.cache import cache  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402


def main():
    scenarios = json.load(sys.stdin)
    client = Client(HTTP_HOST="127.0.0.1")
    result = {}
    for scenario in scenarios:
        headers = dict(scenario.get("headers") or {})
        counted = []
        for attempt in range(3):
            if attempt == 1:
                cache.clear()
            with CaptureQueriesContext(connection) as captured:
                response = client.get(scenario["path"], headers=headers)
                if response.streaming:
                    b"".join(response.streaming_content)
            counted.append(len(captured))
            if attempt == 0 and scenario.get("conditional") and response.has_header("ETag"):
                headers["If-None-Match"] = response["ETag"]
        result[scenario["name"]] = {"cold": counted[1], "queries": counted[2], "status": response.status_code}
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
