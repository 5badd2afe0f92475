"""Webhook deliveries under faults (issue 14), against the throwaway
PostgreSQL cluster and a real task worker run as docker-compose runs it
(``manage.py task_worker``, django-tasks-db's ``db_worker`` that queues a
sweep at its start and waits out a database outage) with production settings:
the worker killed with SIGKILL in the middle of a delivery, the receiver down
for a while, PostgreSQL restarted while deliveries are pending. Each time:
nothing lost, in order, signed, each batch delivered at most once more than
needed, and organisation B's endpoint never receives A's draft.

Time is moved forward, not slept: the lease of a killed worker (two minutes)
and the retry backoff (30 s, doubling) are shortened by moving the stored
times (the endpoint's ``leased_until``/``next_attempt_at`` and the queued
tasks' ``run_after``) back, as if that much time had passed."""

import collections
import itertools
import json
import os
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psycopg
import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from .conftest import ROOT, manage, production_env

pytestmark = pytest.mark.faults

DRAFT_WORD = "Xyzzy"  # only in A's draft: B's receiver must never see it
RUNS = itertools.count(1)


class Receiver:
    """A partner's receiver on 127.0.0.1: verifies each delivery's signature
    (Standard Webhooks) and records it; ``stall_next`` holds the next
    delivery open (unanswered) until ``release`` is set."""

    def __init__(self):
        self.secret = ""
        self.arrivals: list[tuple[str, list[dict]]] = []  # (webhook-id, entries), verified, in arrival order
        self.refused: list[str] = []
        self.stall_next = False
        self.stalled = threading.Event()  # a delivery is being held
        self.release = threading.Event()
        self.lock = threading.Lock()
        self.port = 0
        self._server = None
        self.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                headers = dict(self.headers.items())
                try:
                    payload = Webhook(receiver.secret).verify(body, headers)
                except WebhookVerificationError as exc:
                    receiver.refused.append(str(exc))
                    status = 400
                else:
                    with receiver.lock:
                        receiver.arrivals.append((headers["webhook-id"], payload["data"]["entries"]))
                        stall, receiver.stall_next = receiver.stall_next, False
                    if stall:
                        receiver.stalled.set()
                        receiver.release.wait(timeout=60)
                    status = 200
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:
                    pass  # the worker is gone

            def log_message(self, *args):
                pass

        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        server.daemon_threads = True
        self._server = server
        self.port = server.server_address[1]
        threading.Thread(target=server.serve_forever, daemon=True).start()

    def stop(self):
        """Down: connections are refused (the port stays ours to start again)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def entries(self) -> list[dict]:
        """Each batch once (the first arrival of each webhook-id), in arrival order."""
        seen, result = set(), []
        for message_id, entries in self.arrivals:
            if message_id not in seen:
                seen.add(message_id)
                result.extend(entries)
        return result

    def cursors(self) -> list[int]:
        return [int(entry["cursor"]) for entry in self.entries()]


class Worker:
    """The task worker as docker-compose starts it (``manage.py task_worker``)."""

    def __init__(self, env: dict, log: Path):
        self.log = log
        self.handle = log.open("a")
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "task_worker", "--interval", "0.5", "--no-startup-delay"],
            cwd=ROOT,
            env=env,
            stdout=self.handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self):
        if self.alive():
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        self.handle.close()

    def stop(self):
        if self.alive():
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=30)
        self.handle.close()


def wait_until(check, timeout: float, what: str, *, worker: Worker | None = None, scene=None) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            state = scene.describe() if scene else ""
            log = worker.log.read_text()[-3000:] if worker else ""
            raise AssertionError(f"timed out waiting for {what}\n{state}\n{log}")
        time.sleep(0.1)


SETUP = """
import json
from agreements.models import Agreement, AgreementParty, Organisation, WebhookEndpoint
from agreements.models.agreements import AgreementStatus
import datetime
run = {run}
a, b = (
    Organisation.objects.create(slug=f"hook-{{x}}-{{run}}", name=f"Hook {{x}} {{run}}", country=country, kind="cluster")
    for x, country in (("a", "DE"), ("b", "PL"))
)
public = Agreement.objects.create(
    slug=f"hook-public-{{run}}", title_de="Offen 0", title_en="Open 0", status=AgreementStatus.SIGNED,
    signed_on=datetime.date(2021, 10, 7), is_public=True,
)
draft = Agreement.objects.create(
    slug=f"hook-draft-{{run}}", title_de="{draft} 0", title_en="{draft} 0", is_public=False
)
for agreement, parties in ((public, [a, b]), (draft, [a])):
    for position, organisation in enumerate(parties):
        AgreementParty.objects.create(agreement=agreement, organisation=organisation, position=position)
ends = [WebhookEndpoint.objects.create(organisation=o, url=url) for o, url in ((a, {url_a!r}), (b, {url_b!r}))]
print(json.dumps({{"public": public.slug, "draft": draft.slug, "endpoints": [e.pk for e in ends],
                  "secrets": [e.secret for e in ends], "cursor": ends[0].cursor}}))
"""

WRITES = """
from agreements.models import Agreement
for slug, title in {writes!r}:
    agreement = Agreement.objects.get(slug=slug)  # each save its own transaction, as each API write
    agreement.title_de = agreement.title_en = title
    agreement.save()
"""


ATTEMPTS = "SELECT endpoint_id, webhook_id, succeeded, error FROM agreements_webhookdelivery ORDER BY id"


class Scene:
    """Organisations A and B (a public agreement of both, a draft of A's), an
    endpoint each on its own receiver, and the database to look at."""

    def __init__(self, cluster, env: dict):
        self.cluster, self.env = cluster, env
        self.receiver_a, self.receiver_b = Receiver(), Receiver()
        code = SETUP.format(run=next(RUNS), draft=DRAFT_WORD, url_a=self.receiver_a.url, url_b=self.receiver_b.url)
        made = json.loads(manage(env, "shell", "-c", code).strip().splitlines()[-1])
        self.public, self.draft, self.start_cursor = made["public"], made["draft"], made["cursor"]
        self.endpoint_a, self.endpoint_b = made["endpoints"]
        self.receiver_a.secret, self.receiver_b.secret = made["secrets"]
        self.versions = 0

    def write(self, *slugs: str) -> None:
        """Retitle each agreement in turn, each write its own transaction (as the API's)."""
        writes = []
        for slug in slugs:
            self.versions += 1
            word = DRAFT_WORD if slug == self.draft else "Open"
            writes.append((slug, f"{word} {self.versions}"))
        manage(self.env, "shell", "-c", WRITES.format(writes=writes))

    def sql(self, query: str, *params):
        with psycopg.connect(self.cluster.url, autocommit=True) as conn:
            cursor = conn.execute(query, params)
            return cursor.fetchall() if cursor.description else None

    def feed(self, *slugs: str) -> list[tuple[int, str]]:
        """The change feed's entries of these agreements since the endpoints were made: (cursor, slug)."""
        return [
            (pk, slug)
            for pk, slug in self.sql(
                "SELECT id, slug FROM agreements_change WHERE id > %s AND slug = ANY(%s) ORDER BY id",
                self.start_cursor,
                list(slugs),
            )
        ]

    def endpoint(self, pk: int) -> dict:
        [row] = self.sql(
            "SELECT cursor, pending_through, consecutive_failures, leased_until > now(), is_active "
            "FROM agreements_webhookendpoint WHERE id = %s",
            pk,
        )
        return dict(zip(["cursor", "pending_through", "failures", "leased", "active"], row, strict=True))

    def failed_attempts(self, pk: int) -> list[tuple[str, str]]:
        return self.sql(
            "SELECT webhook_id, error FROM agreements_webhookdelivery WHERE endpoint_id = %s AND NOT succeeded",
            pk,
        )

    def pass_time(self, seconds: int) -> None:
        """As if ``seconds`` had passed for what is scheduled: leases, next attempts, queued tasks."""
        interval = f"{int(seconds)} seconds"
        self.sql(
            "UPDATE agreements_webhookendpoint SET leased_until = leased_until - %s::interval, "
            "next_attempt_at = next_attempt_at - %s::interval, failing_since = failing_since - %s::interval",
            interval,
            interval,
            interval,
        )
        self.sql(
            "UPDATE django_tasks_database_dbtaskresult SET run_after = run_after - %s::interval "
            "WHERE status = 'READY' AND run_after < '9999-01-01'",
            interval,
        )

    def describe(self) -> str:
        return "\n".join(
            [
                f"feed: {self.feed(self.public, self.draft)}",
                f"A received: {[(m, [e['cursor'] for e in es]) for m, es in self.receiver_a.arrivals]}",
                f"B received: {[(m, [e['cursor'] for e in es]) for m, es in self.receiver_b.arrivals]}",
                f"endpoints: {self.endpoint(self.endpoint_a)} {self.endpoint(self.endpoint_b)}",
                f"attempts: {self.sql(ATTEMPTS)}",
            ]
        )

    def delivered(self) -> bool:
        """Both receivers have every entry they may see (A: all; B: the public agreement's)."""
        everything = self.feed(self.public, self.draft)
        public = [entry for entry in everything if entry[1] == self.public]
        return (
            self.receiver_a.cursors() == [pk for pk, _slug in everything]
            and self.receiver_b.cursors() == [pk for pk, _slug in public]
            and self.endpoint(self.endpoint_a)["cursor"] == everything[-1][0]
        )

    def check(self, *, repeats_allowed: int) -> dict:
        """Nothing lost, in order, signed, nothing of A's draft at B; returns the repeats per webhook-id."""
        everything = self.feed(self.public, self.draft)
        assert [pk for pk, _slug in everything] == self.receiver_a.cursors()  # all, in order, each once
        assert [(int(e["cursor"]), e["slug"]) for e in self.receiver_a.entries()] == everything
        assert [(int(e["cursor"]), e["slug"]) for e in self.receiver_b.entries()] == [
            entry for entry in everything if entry[1] == self.public
        ]
        assert self.receiver_a.refused == [] and self.receiver_b.refused == []
        # B's receiver never saw A's draft: neither its entries nor a word of it.
        text_b = json.dumps(self.receiver_b.arrivals)
        assert self.draft not in text_b and DRAFT_WORD not in text_b
        assert self.draft in json.dumps(self.receiver_a.arrivals)  # (A's did: the check can fail)
        repeats = {}
        for receiver in (self.receiver_a, self.receiver_b):
            counts = collections.Counter(message_id for message_id, _entries in receiver.arrivals)
            # A batch sent again carries the same entries under the same webhook-id.
            for message_id, entries in receiver.arrivals:
                first = next(e for m, e in receiver.arrivals if m == message_id)
                assert [e["cursor"] for e in entries] == [e["cursor"] for e in first]
            assert max(counts.values()) <= 1 + repeats_allowed, counts
            repeats.update({m: n for m, n in counts.items() if n > 1})
        return repeats

    def close(self) -> None:
        for receiver in (self.receiver_a, self.receiver_b):
            receiver.release.set()
            receiver.stop()
        # Later tests' workers need not try these receivers again.
        self.sql(
            "UPDATE agreements_webhookendpoint SET is_active = false WHERE id = ANY(%s)",
            [self.endpoint_a, self.endpoint_b],
        )


@pytest.fixture(scope="module")
def hook_env(registry_data):
    return production_env(
        registry_data,
        WEBHOOK_ALLOW_HTTP="1",
        WEBHOOK_ALLOWED_NETWORKS="127.0.0.1/32",
        WEBHOOK_TIMEOUT_SECONDS="5",
        DJANGO_SITE_URL="https://registry.example.org",
    )


@pytest.fixture
def scene(registry_data, hook_env):
    instance = Scene(registry_data, hook_env)
    yield instance
    instance.close()


@pytest.fixture
def workers(hook_env, tmp_path):
    started: list[Worker] = []

    def start() -> Worker:
        worker = Worker(hook_env, tmp_path / "worker.log")
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


def test_a_worker_killed_mid_delivery_leaves_the_batch_to_the_next_which_sends_it_once_more(scene, workers):
    scene.receiver_a.stall_next = True
    worker = workers()
    scene.write(scene.public, scene.draft, scene.public)
    wait_until(scene.receiver_a.stalled.is_set, 30, "the first delivery to A", worker=worker, scene=scene)
    [(held_id, held_entries)] = scene.receiver_a.arrivals

    worker.kill()  # SIGKILL, the receiver still holding the request open
    scene.receiver_a.release.set()
    state = scene.endpoint(scene.endpoint_a)
    assert state["cursor"] == scene.start_cursor  # not acknowledged: not advanced
    assert state["pending_through"] == int(held_entries[-1]["cursor"])
    assert state["leased"]  # the dead worker's hold, until it runs out

    scene.pass_time(121)  # the lease (two minutes) runs out
    worker = workers()
    wait_until(scene.delivered, 30, "every entry at both receivers", worker=worker, scene=scene)

    repeats = scene.check(repeats_allowed=1)
    assert repeats == {held_id: 2}  # the held batch again, once; nothing else twice
    assert scene.endpoint(scene.endpoint_a)["pending_through"] is None


def test_a_receiver_down_for_a_while_gets_everything_in_order_when_it_returns(scene, workers):
    scene.receiver_a.stop()  # connection refused
    worker = workers()
    scene.write(scene.public, scene.draft)
    wait_until(lambda: scene.failed_attempts(scene.endpoint_a), 30, "a failed attempt to A", worker=worker, scene=scene)
    scene.write(scene.draft, scene.public)  # more while it is down
    wait_until(
        lambda: len(scene.receiver_b.entries()) == len(scene.feed(scene.public)), 30, "B's entries", worker=worker
    )
    assert scene.receiver_a.arrivals == []
    [(_message_id, error), *_rest] = scene.failed_attempts(scene.endpoint_a)
    assert "ConnectionRefused" in error
    assert scene.endpoint(scene.endpoint_a)["failures"] >= 1

    scene.receiver_a.start()  # back, on the same address
    scene.pass_time(30)  # the first retry is due
    wait_until(scene.delivered, 30, "every entry at both receivers", worker=worker, scene=scene)

    assert scene.check(repeats_allowed=0) == {}
    state = scene.endpoint(scene.endpoint_a)
    assert (state["failures"], state["pending_through"], state["active"]) == (0, None, True)


def test_postgresql_restarted_while_deliveries_are_pending_the_worker_delivers_everything(scene, workers):
    scene.receiver_a.stop()
    worker = workers()
    scene.write(scene.draft, scene.public, scene.draft)
    wait_until(lambda: scene.failed_attempts(scene.endpoint_a), 30, "a failed attempt to A", worker=worker, scene=scene)
    wait_until(
        lambda: len(scene.receiver_b.entries()) == len(scene.feed(scene.public)), 30, "B's entries", worker=worker
    )
    assert scene.endpoint(scene.endpoint_a)["pending_through"] is not None  # A's batch is pending

    scene.cluster.stop()
    wait_until(lambda: "lost the database" in worker.log.read_text(), 15, "the worker to notice", worker=worker)
    scene.cluster.start()
    scene.receiver_a.start()
    scene.pass_time(30)  # the retry is due
    wait_until(scene.delivered, 30, "every entry at both receivers", worker=worker, scene=scene)

    assert worker.alive()  # the same worker process: it waited the outage out
    assert scene.check(repeats_allowed=0) == {}
