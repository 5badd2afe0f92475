"""Faults that must degrade, not fail (issue 13, items 8-11), in-process: Redis
unreachable or hung, the database watchdog, one traceback per outage, and the
deployment instructions. The same faults against gunicorn and real servers
are in tests/faults."""

import logging
import runpy
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from django.core.cache import caches
from django.db import OperationalError, connection, connections
from django.http import HttpResponse
from django.test import Client
from django.urls import path
from rest_framework.settings import api_settings
from rest_framework.test import APIClient

from registry import cache as resilient_cache
from registry import urls as registry_urls
from registry import views as registry_views
from registry.database import DatabaseWatchdog, outage_log

from .factories import AgreementFactory

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def redis_at(settings, monkeypatch):
    """Point the default cache at a Redis URL, configured exactly as
    registry/settings.py configures REDIS_URL (no state left from other tests)."""

    def configure(url: str, **options):
        monkeypatch.setenv("REDIS_URL", url)
        config = runpy.run_path(str(ROOT / "registry" / "settings.py"))["CACHES"]
        config["default"]["OPTIONS"] = {**config["default"].get("OPTIONS", {}), **options}
        resilient_cache._breakers.clear()
        settings.CACHES = config
        caches["default"]._fallback.clear()
        return caches["default"]

    yield configure
    resilient_cache._breakers.clear()


@pytest.fixture
def redis_server():
    """A throwaway redis-server on a free port (the shared one is never touched)."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed")
    port = free_port()
    processes = []

    def start():
        process = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )
        processes.append(process)
        client = redis.Redis(port=port, socket_timeout=1)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                client.ping()
                return client
            except redis.ConnectionError:
                time.sleep(0.05)
        raise AssertionError("redis-server did not start")

    def stop():
        processes[-1].kill()
        processes[-1].wait(timeout=10)

    class Server:
        url = f"redis://127.0.0.1:{port}/0"

    server = Server()
    server.start, server.stop = start, stop
    server.client = start()
    yield server
    for process in processes:
        process.kill()
        process.wait(timeout=10)


# Item 8: Redis down means slower, never broken.


@pytest.mark.django_db
def test_pages_and_the_api_answer_from_the_database_when_redis_is_down(redis_at):
    redis_at(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    agreement = AgreementFactory(signed=True)
    started = time.monotonic()
    for url in ("/en/", f"/en/agreements/{agreement.slug}/", "/api/v1/agreements/", "/agreements.csv"):
        for _ in range(2):  # the second time from this process's own memory
            assert Client().get(url).status_code == 200, url
    assert time.monotonic() - started < 5


@pytest.mark.django_db
def test_rate_limits_fall_back_to_per_process_counters_when_redis_is_down(redis_at, settings):
    redis_at(f"redis://127.0.0.1:{free_port()}/0")
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anonymous": "3/minute", "partner": "5/minute", "staff": "100/minute"},
    }
    assert api_settings.DEFAULT_THROTTLE_RATES["anonymous"] == "3/minute"
    client = APIClient()
    assert [client.get("/api/v1/topics/").status_code for _ in range(4)] == [200, 200, 200, 429]


def test_a_hung_redis_costs_one_short_wait_then_none_while_the_circuit_is_open(redis_at):
    # A socket that is listened on but never answered: connecting succeeds,
    # every command waits for an answer that never comes (a frozen Redis).
    with socket.socket() as hung:
        hung.bind(("127.0.0.1", 0))
        hung.listen(64)
        backend = redis_at(f"redis://127.0.0.1:{hung.getsockname()[1]}/0")
        started = time.monotonic()
        assert backend.get("anything", "fallback") == "fallback"
        first = time.monotonic() - started
        started = time.monotonic()
        backend.set("key", "value")
        assert backend.get("key") == "value"  # this process's memory meanwhile
        rest = time.monotonic() - started
    assert first < 1.5, first
    assert rest < 0.05, rest


@pytest.mark.django_db
def test_readyz_reports_the_degradation_and_recovery_follows_by_itself(redis_at, redis_server, client):
    backend = redis_at(redis_server.url, CIRCUIT_SECONDS=0.3)
    assert client.get("/readyz").json() == {"status": "ok", "cache": "ok"}
    backend.set("before", 1)
    assert redis_server.client.exists(":1:before")

    redis_server.stop()
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "degraded", "cache": "unreachable"}
    assert client.get("/en/").status_code == 200
    backend.set("during", 2)
    assert backend.get("during") == 2

    redis_server.client = redis_server.start()
    time.sleep(0.4)  # the circuit's open time
    assert client.get("/readyz").json() == {"status": "ok", "cache": "ok"}
    backend.set("after", 3)
    assert redis_server.client.exists(":1:after")


def test_the_breaker_logs_one_line_when_it_opens_and_one_when_it_closes(redis_at, redis_server, caplog):
    backend = redis_at(redis_server.url, CIRCUIT_SECONDS=0.05)
    backend.get("x")
    redis_server.stop()
    with caplog.at_level(logging.WARNING, logger="registry.cache"):
        for _ in range(5):
            backend.get("x")
            time.sleep(0.02)
        redis_server.client = redis_server.start()
        time.sleep(0.1)
        backend.get("x")
        backend.get("x")
    messages = [r.getMessage().split(" (")[0] for r in caplog.records]
    assert messages == [f"Cache {redis_server.url} unreachable", f"Cache {redis_server.url} answers again"]
    assert all(r.exc_info is None for r in caplog.records)


# Item 9: a hung database is answered 503 within seconds.


def test_postgresql_connections_carry_client_side_bounds():
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import os; os.environ['DJANGO_SETTINGS_MODULE'] = 'registry.settings'; "
            "from django.conf import settings; print(settings.DATABASES['default']['OPTIONS'])",
        ],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "DJANGO_DEBUG": "1", "DATABASE_URL": "postgres://r@db.example.org/registry"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    for option in (
        "'connect_timeout': 5",
        "'keepalives': 1",
        "'keepalives_idle': 10",
        "'keepalives_interval': 5",
        "'keepalives_count': 3",
        "'tcp_user_timeout': 10000",
    ):
        assert option in result.stdout


class FakeWrapper:
    """A database connection another thread waits on: one end of a socket pair."""

    made: list["FakeWrapper"] = []

    def __init__(self):
        self.ours, self.theirs = socket.socketpair()
        self.connection = self
        self.made.append(self)

    def fileno(self):
        return self.ours.fileno()


@pytest.fixture(autouse=True)
def _close_fake_connections():
    yield
    while FakeWrapper.made:
        fake = FakeWrapper.made.pop()
        fake.ours.close()
        fake.theirs.close()


def test_the_watchdog_breaks_off_requests_waiting_on_a_hung_database_and_refuses_new_ones(monkeypatch, client, caplog):
    dog = DatabaseWatchdog()
    monkeypatch.setattr("registry.database.SLOW_SECONDS", 0)
    monkeypatch.setattr("registry.database.PROBE_EVERY", 0)
    monkeypatch.setattr("registry.middleware.watchdog", dog)
    monkeypatch.setattr("registry.views.watchdog", dog)
    monkeypatch.setattr(dog, "_start", lambda: None)
    waiting = FakeWrapper()
    answers = [False]
    monkeypatch.setattr(dog, "answers", lambda: answers[0])

    with dog._watch([waiting]):
        dog.probe()
        # The waiting request's connection is shut: its read ends at once.
        waiting.ours.settimeout(1)
        assert waiting.ours.recv(10) == b""
        assert dog.database_hung
        # A request that began before the hang was noticed is broken off at the next tick.
        late = FakeWrapper()
        with dog._watch([late]):
            dog.check()
            late.ours.settimeout(1)
            assert late.ours.recv(10) == b""
    # Meanwhile requests are refused at once, /readyz says why, /healthz is alive.
    caplog.clear()
    with caplog.at_level(logging.INFO):
        response = client.get("/en/")
    assert response.status_code == 503 and response["Retry-After"] == "5"
    assert [r.getMessage() for r in caplog.records] == ["503 for GET /en/: the database does not answer"]
    api = client.get("/api/v1/agreements/")
    assert api.status_code == 503 and api["Retry-After"] == "5" and api.json()["detail"]
    assert client.get("/readyz").status_code == 503
    assert client.get("/healthz").status_code == 200

    answers[0] = True
    dog.probe()
    assert not dog.database_hung
    assert client.get("/healthz").status_code == 200


def test_while_the_database_hangs_a_new_connection_fails_at_once():
    dog = DatabaseWatchdog()
    wrapper = connections.create_connection("default")
    dog._guard_connecting(wrapper)
    dog.hung_since = time.monotonic()
    with pytest.raises(wrapper.Database.OperationalError, match="does not answer"):
        wrapper.get_new_connection(wrapper.get_connection_params())


def test_a_slow_query_on_a_database_that_answers_is_left_alone(monkeypatch):
    dog = DatabaseWatchdog()
    monkeypatch.setattr("registry.database.SLOW_SECONDS", 0)
    monkeypatch.setattr("registry.database.PROBE_EVERY", 0)
    monkeypatch.setattr(dog, "_start", lambda: None)
    monkeypatch.setattr(dog, "answers", lambda: True)
    waiting = FakeWrapper()
    with dog._watch([waiting]):
        dog.probe()
        waiting.ours.setblocking(False)
        with pytest.raises(BlockingIOError):
            waiting.ours.recv(10)  # still open, nothing arrived
    assert not dog.database_hung


# Item 10: one traceback per outage, one line per refused request.


def failing(request):
    raise OperationalError('connection to server at "db" failed: Connection refused\n\tIs the server running?')


def answering(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok")


urlpatterns = [path("failing/", failing), path("answering/", answering), *registry_urls.urlpatterns]
handler500 = "registry.views.server_error"


@pytest.mark.django_db(transaction=True)  # server_error closes a connection found in a transaction
@pytest.mark.urls("tests.test_resilience")
def test_an_outage_logs_one_traceback_and_one_line_per_refused_request(caplog):
    client = Client(raise_request_exception=False)
    outage_log.answered()
    caplog.set_level(logging.INFO)
    for _ in range(5):
        response = client.get("/failing/")
        assert response.status_code == 503 and response["Retry-After"] == registry_views.RETRY_AFTER_SECONDS
    refusals = [r for r in caplog.records if "503" in r.getMessage() or r.name == "django.request"]
    assert len(refusals) == 5, [r.getMessage() for r in caplog.records]
    assert [bool(r.exc_info) for r in refusals] == [True, False, False, False, False]
    assert refusals[1].getMessage() == (
        '503 for GET /failing/: OperationalError: connection to server at "db" failed: Connection refused'
    )

    # The database answers again: the next outage gets its traceback.
    caplog.clear()
    assert client.get("/answering/").status_code == 200
    client.get("/failing/")
    client.get("/failing/")
    refusals = [r for r in caplog.records if "503" in r.getMessage() or r.name == "django.request"]
    assert [bool(r.exc_info) for r in refusals] == [True, False]


# Item 11: slow clients wait in the buffering proxy, not in gunicorn's threads.


def test_production_instructions_put_the_buffering_proxy_in_front_of_gunicorn():
    readme = (ROOT / "README.md").read_text()
    production = readme[readme.index("## Production") : readme.index("## Development")]
    assert "deploy/nginx.conf.template" in production
    assert "slow client" in production
    config = (ROOT / "gunicorn.conf.py").read_text()
    assert "Threads serve slow clients" not in config
    assert "nginx" in config


def test_a_refusal_while_the_database_hangs_speaks_the_requests_language(monkeypatch, client):
    """The guard answers before the locale middleware runs: it must not speak the
    language the thread's previous request left active."""
    from django.utils import translation

    dog = DatabaseWatchdog()
    monkeypatch.setattr("registry.middleware.watchdog", dog)
    monkeypatch.setattr("registry.views.watchdog", dog)
    dog.hung_since = time.monotonic()
    translation.activate("de")  # what a previous German request on this thread left behind
    api = client.get("/api/v1/agreements/", HTTP_ACCEPT_LANGUAGE="en")
    assert api.status_code == 503
    assert api.json()["detail"] == "The registry cannot answer right now. Please try again in a moment."
    polish = client.get("/pl/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Chwilowo niedostępne" in polish
    german = client.get("/", HTTP_ACCEPT_LANGUAGE="pl").content.decode()
    assert "Vorübergehend nicht verfügbar" in german
