"""SQL statements per request, counted in-process: each scenario's request is
made through Django's test Client against the same database: once to warm
per-process caches (content types, the language catalogue), then, with the
shared cache emptied, once counted cold (the answer is produced) and once
counted warm (the answer may come from the cache), streamed bodies included
(the CSV download: one counted request),
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
        # A streamed download is never cached: one counted request (the other
        # scenarios have warmed the process by then).
        attempts = 1 if scenario.get("once") else 3
        for attempt in range(attempts):
            if attempt == 1 or attempts == 1:
                cache.clear()
            with CaptureQueriesContext(connection) as captured:
                response = client.get(scenario["path"], headers=headers)
                if response.streaming:
                    b"".join(response.streaming_content)
            counted.append(len(captured))
            if attempt == 0 and scenario.get("conditional") and response.has_header("ETag"):
                headers["If-None-Match"] = response["ETag"]
        cold = counted[1] if attempts == 3 else counted[0]
        result[scenario["name"]] = {"cold": cold, "queries": counted[-1], "status": response.status_code}
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
