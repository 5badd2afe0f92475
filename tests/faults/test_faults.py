"""Faults under load, against a throwaway PostgreSQL cluster and gunicorn with
production settings: the database goes away and comes back, a worker is
killed with SIGKILL, a query runs over the statement timeout."""

import collections
import json
import os
import shutil
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request

import psycopg
import pytest

from .conftest import manage, production_env, start_server, stop_server

pytestmark = pytest.mark.faults

PAGES = [
    "/en/",
    "/en/agreements/amz-sa-am-cooperation-2021/",
    "/api/v1/agreements/",
    "/api/v1/agreements/amz-sa-am-cooperation-2021/",
]


class Load:
    """A few client threads requesting pages in a loop, recording every answer."""

    def __init__(self, server, paths, threads=4):
        self.server, self.paths = server, paths
        self.results: list[tuple[float, str, object, dict, float]] = []
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self.run, daemon=True) for _ in range(threads)]

    def run(self):
        while not self.stop.is_set():
            for path in self.paths:
                started = time.monotonic()
                try:
                    status, headers, elapsed = self.server.get(path, timeout=15)
                except OSError as error:
                    status, headers, elapsed = f"error: {error.__class__.__name__}", {}, time.monotonic() - started
                self.results.append((started, path, status, headers, elapsed))

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=30)


def wait_until(check, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.25)
    return False


def test_database_outage_answers_503_quickly_and_recovers_by_itself(server, registry_data):
    with Load(server, PAGES) as load:
        time.sleep(2)
        registry_data.stop()
        down_at = time.monotonic()
        time.sleep(4)
        assert server.get("/healthz")[0] == 200
        status, headers, elapsed = server.get("/readyz")
        assert status == 503 and headers.get("Retry-After")
        for path in PAGES:
            status, headers, elapsed = server.get(path)
            assert status == 503, path
            assert headers.get("Retry-After") == "5"
            assert elapsed < 2 + 3  # within the connect timeout, not hanging
        restart_at = time.monotonic()
        registry_data.start()
        up_at = time.monotonic()
        assert wait_until(lambda: all(server.get(path)[0] == 200 for path in PAGES)), "no recovery"
        recovered_at = time.monotonic()
        assert server.get("/readyz")[0] == 200
        time.sleep(2)
    statuses = {result[2] for result in load.results}
    assert statuses <= {200, 503}, statuses
    during = [r for r in load.results if down_at + 0.5 < r[0] and r[0] + r[4] < restart_at]
    assert during, "no request during the outage"
    assert [r[:3] for r in during if r[2] != 503 or not r[3].get("Retry-After")] == []
    assert max(r[4] for r in load.results) < 2 + 5, "a request hung"
    after = [r for r in load.results if r[0] > recovered_at + 0.5]
    assert after, "no request after the recovery"
    assert [r[:3] for r in after if r[2] != 200] == []
    print(
        f"outage: {len(load.results)} requests, {len(during)} during the outage (all 503), "
        f"recovered {recovered_at - up_at:.1f} s after the restart"
    )


def staff_token(cluster) -> str:
    code = (
        "from django.contrib.auth import get_user_model; from agreements.services import token_create; "
        "u, _ = get_user_model().objects.get_or_create(username='fault-staff', defaults={'is_staff': True, "
        "'is_superuser': True}); print(token_create(name='faults', user=u)[1])"
    )
    return manage(production_env(cluster), "shell", "-c", code).strip().splitlines()[-1]


def post_json(url, body, key, timeout=15):
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Authorization": f"Token {key}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_a_killed_worker_loses_only_its_requests_and_no_write_is_half_done(server, registry_data):
    key = staff_token(registry_data)
    outcomes, lock, stop = [], threading.Lock(), threading.Event()
    counter = iter(range(1_000_000))

    def writer():
        while not stop.is_set():
            slug = f"fault-{next(counter)}"
            body = {
                "slug": slug,
                "kind": "cooperation_agreement",
                "status": "signed",
                "is_public": True,
                "title_en": f"Written under fire {slug}",
                "signed_on": "2021-10-07",
                "signed_on_precision": "day",
                "parties": [{"organisation": "amz"}, {"organisation": "sa-am"}],
                "topics": ["software-development"],
            }
            try:
                status = post_json(server.url + "/api/v1/agreements/", body, key)
            except OSError as error:
                status = f"error: {error.__class__.__name__}"
            with lock:
                outcomes.append((slug, status, threading.current_thread().name))

    with Load(server, PAGES, threads=2) as load:
        writers = [threading.Thread(target=writer, daemon=True) for _ in range(4)]
        for thread in writers:
            thread.start()
        time.sleep(3)
        victim = server.worker_pids()[0]
        os.kill(victim, signal.SIGKILL)
        time.sleep(4)
        stop.set()
        for thread in writers:
            thread.join(timeout=30)
    assert wait_until(lambda: len(server.worker_pids()) == 2 and victim not in server.worker_pids())

    failed_writes = [o for o in outcomes if o[1] != 201]
    failed_reads = [r for r in load.results if r[2] != 200]
    # At most what the killed worker had in flight: each of our 6 clients (4
    # writers, 2 readers) has one request at a time, and any of them may be
    # waiting on the killed worker (its threads, or its queue of accepted and
    # kept-alive connections; writes queue longer as they take turns on the
    # data version row). A client loses that one request, never more.
    assert len(failed_writes) + len(failed_reads) <= 6, (failed_writes, failed_reads)
    lost_per_writer = collections.Counter(o[2] for o in outcomes if o[1] != 201)
    assert max(lost_per_writer.values(), default=0) <= 1, lost_per_writer
    assert all(str(o[1]).startswith("error") for o in failed_writes)
    assert sum(1 for o in outcomes if o[1] == 201) > 5
    with psycopg.connect(registry_data.url) as conn:
        half_done = conn.execute(
            """SELECT a.slug FROM agreements_agreement a WHERE a.slug LIKE 'fault-%%'
               AND ((SELECT count(*) FROM agreements_agreementparty p WHERE p.agreement_id = a.id) <> 2
                 OR (SELECT count(*) FROM agreements_agreement_topics t WHERE t.agreement_id = a.id) <> 1)"""
        ).fetchall()
        stored = {row[0] for row in conn.execute("SELECT slug FROM agreements_agreement WHERE slug LIKE 'fault-%%'")}
    assert half_done == []
    assert {o[0] for o in outcomes if o[1] == 201} <= stored
    print(
        f"worker kill: {len(outcomes)} writes ({len(failed_writes)} lost), {len(load.results)} reads "
        f"({len(failed_reads)} lost); no half-written agreement"
    )


def test_a_query_over_the_statement_timeout_is_cancelled_and_answered_503(registry_data, tmp_path):
    server = start_server(registry_data, tmp_path, WEB_CONCURRENCY="1", DATABASE_STATEMENT_TIMEOUT="1000")
    try:
        assert server.get("/api/v1/agreements/")[0] == 200
        with psycopg.connect(registry_data.url) as blocker:
            # Another session holds the table: every read of it now waits, as a runaway query would.
            blocker.execute("LOCK TABLE agreements_agreement IN ACCESS EXCLUSIVE MODE")
            # An answer already cached needs no agreement row: still served.
            assert server.get("/api/v1/agreements/")[0] == 200
            for path in ("/api/v1/agreements/?page_size=3", "/en/"):
                status, headers, elapsed = server.get(path)
                assert status == 503 and headers.get("Retry-After") == "5", path
                assert 0.9 < elapsed < 5, elapsed
            waiting = blocker.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
            ).fetchone()[0]
            assert waiting == 0  # the server cancelled it: nothing left running
            blocker.rollback()
        assert server.get("/api/v1/agreements/")[0] == 200
        assert server.get("/en/")[0] == 200
    finally:
        stop_server(server)


@pytest.mark.skipif(shutil.which("slowhttptest") is None, reason="apt-get install slowhttptest")
@pytest.mark.parametrize("mode", ["-H", "-B"], ids=["slow-headers", "slow-body"])
def test_slow_clients_do_not_starve_the_workers(server, proxied, mode):
    """slowhttptest holds 150 connections open, sending headers (slowloris) or a
    body (slow POST) a few bytes at a time, against the deployment as
    docker-compose runs it (nginx buffering in front of gunicorn's gthread
    workers); other visitors are still served promptly. Against gunicorn
    alone, slow headers do tie up its 2 x 4 threads (measured: requests time out)."""
    port = proxied.url.rsplit(":", 1)[1]
    attack = subprocess.Popen(
        ["slowhttptest", mode, "-c", "150", "-r", "50", "-i", "5", "-x", "10", "-l", "25", "-p", "3",
         "-u", f"http://127.0.0.1:{port}/en/", "-t", "POST" if mode == "-B" else "GET"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        time.sleep(6)  # the slow connections are open by now
        timings = []
        for _ in range(10):
            started = time.monotonic()
            with urllib.request.urlopen(proxied.url + "/en/", timeout=10) as response:
                response.read()
                assert response.status == 200
            timings.append(time.monotonic() - started)
            time.sleep(0.5)
    finally:
        attack.terminate()
        attack.wait(timeout=30)
    assert max(timings) < 2, timings
    print(f"slow clients ({mode}) through nginx: ordinary requests answered in at most {max(timings):.2f} s")
