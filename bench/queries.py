"""SQL statements per request, counted in-process: each scenario's request is
made twice through Django's test Client (the first warms per-process caches
such as content types and the language catalogue) and the second is counted
with CaptureQueriesContext, streamed bodies included. Reads scenarios as JSON
on stdin, writes {name: {"queries": n, "status": code}} on stdout.

Run by the runner with DJANGO_SETTINGS_MODULE set to the app under test."""

import json
import sys

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402


def main():
    scenarios = json.load(sys.stdin)
    client = Client(HTTP_HOST="127.0.0.1")
    result = {}
    for scenario in scenarios:
        headers = dict(scenario.get("headers") or {})
        for attempt in range(2):
            with CaptureQueriesContext(connection) as captured:
                response = client.get(scenario["path"], headers=headers)
                if response.streaming:
                    b"".join(response.streaming_content)
            if attempt == 0 and scenario.get("conditional") and response.has_header("ETag"):
                headers["If-None-Match"] = response["ETag"]
        result[scenario["name"]] = {"queries": len(captured), "status": response.status_code}
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
