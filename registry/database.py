"""Web processes and a database that stops answering.

A stopped or unreachable PostgreSQL fails fast by itself: a refused
connection, or the connect timeout. A *hung* one does not: a server frozen
by a stuck host (or SIGSTOP) still has its kernel acknowledge every packet,
so neither TCP keepalives nor tcp_user_timeout notice, its statement_timeout
cannot fire, and gunicorn's timeout does not cover gthread request threads.
A request on a pooled connection would wait as long as the freeze.

The watchdog (one thread per web process) bounds that wait. When a request
has run for SLOW_SECONDS, it checks whether the server still answers, by
opening a new connection with the shortest connect timeout (PROBE_TIMEOUT).
A server that merely runs a slow query answers at once, and nothing happens
(its statement_timeout stays in charge). A server that does not answer is
hung: the watchdog breaks the connections of the requests waiting on it
(their query fails and they are answered 503 with Retry-After), and until a
check succeeds again new connections fail at once and requests are refused
at once with 503 rather than joining the wait (DatabaseGuardMiddleware). It checks again every
PROBE_EVERY seconds, so answers come back within about a second of the
database. Only PostgreSQL databases are watched.

The outage log: during an outage every request is refused, and a traceback
each is noise (6.7 KB per request). The first refusal after the database last
answered a query logs its traceback; the others log one line each.
"""

import logging
import os
import socket
import threading
import time
import weakref
from contextlib import contextmanager, nullcontext

from django.db import connections

logger = logging.getLogger(__name__)

SLOW_SECONDS = 1.0  # a request running this long has the watchdog check the server
PROBE_EVERY = 1.0  # at most one check a second per process
PROBE_TIMEOUT = 2  # seconds; libpq's shortest connect timeout
TICK = 0.25


class DatabaseWatchdog:
    def __init__(self):
        self._lock = threading.Lock()
        self._watched: dict[object, tuple[float, list]] = {}
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._last_probe = 0.0
        self._probing = False
        self._broken = weakref.WeakSet()  # each connection is broken off once
        self.hung_since: float | None = None

    @property
    def aliases(self) -> list[str]:
        return [
            alias
            for alias, config in connections.settings.items()
            if config["ENGINE"] == "django.db.backends.postgresql"
        ]

    @property
    def database_hung(self) -> bool:
        return self.hung_since is not None

    def watching(self):
        """Around a request: should the database hang while it runs, its
        connections are broken, so that it fails (503) instead of waiting."""
        aliases = self.aliases
        if not aliases:
            return nullcontext()
        wrappers = [connections[alias] for alias in aliases]
        for wrapper in wrappers:
            self._guard_connecting(wrapper)
        return self._watch(wrappers)

    def _guard_connecting(self, wrapper) -> None:
        """While the database hangs, a new connection fails at once instead of
        waiting for the connect timeout: a request whose connection was broken
        off during Django's health check would otherwise reconnect and wait.
        (Set on this thread's connection object, once.)"""
        if "get_new_connection" in vars(wrapper):
            return
        connect = wrapper.get_new_connection

        def get_new_connection(conn_params):
            if self.hung_since is not None:
                raise wrapper.Database.OperationalError("the database does not answer (watchdog)")
            return connect(conn_params)

        wrapper.get_new_connection = get_new_connection

    @contextmanager
    def _watch(self, wrappers):
        self._start()
        token = object()
        with self._lock:
            self._watched[token] = (time.monotonic(), wrappers)
        try:
            yield
        finally:
            with self._lock:
                del self._watched[token]

    def _start(self):
        # Started on first use in each process (gunicorn forks the workers
        # before any request), and again should it ever have stopped.
        if self._pid == os.getpid() and self._thread is not None and self._thread.is_alive():
            return
        with self._lock:
            if self._pid == os.getpid() and self._thread is not None and self._thread.is_alive():
                return
            self._pid = os.getpid()
            self._thread = threading.Thread(target=self._run, name="database-watchdog", daemon=True)
            self._thread.start()

    def _run(self):
        while True:
            time.sleep(TICK)
            try:
                self.check()
            except Exception:
                logger.exception("The database watchdog failed; it carries on")

    def _running(self, now: float, at_least: float) -> list:
        """The connections of the requests running for at_least seconds."""
        with self._lock:
            return [
                wrapper
                for started, wrappers in self._watched.values()
                if now - started >= at_least
                for wrapper in wrappers
            ]

    def check(self) -> None:
        """One tick. While the database hangs, the connections of all watched
        requests are broken off at once (they all began before the hang was
        noticed: later ones are refused). The server is checked in a thread of
        its own (a check may take PROBE_TIMEOUT), at most every PROBE_EVERY
        seconds, while a request is slow or the database hangs."""
        now = time.monotonic()
        if self.hung_since is not None:
            self._break_off(self._running(now, 0))
        if self._probing or now - self._last_probe < PROBE_EVERY:
            return
        if self.hung_since is None and not self._running(now, SLOW_SECONDS):
            return
        self._last_probe = now
        self._probing = True
        threading.Thread(target=self.probe, name="database-probe", daemon=True).start()

    def probe(self) -> None:
        """Check the server; note when it starts to hang and when it answers again."""
        try:
            answers = self.answers()
        finally:
            self._probing = False
        if answers:
            if self.hung_since is not None:
                logger.warning("The database answers again (after %.1f s)", time.monotonic() - self.hung_since)
                self.hung_since = None
            return
        if self.hung_since is None:
            self.hung_since = time.monotonic()
            logger.error(
                "The database does not answer (no connection within %s s): requests waiting on it "
                "are broken off, new ones refused with 503 until it answers",
                PROBE_TIMEOUT,
            )
        self._break_off(self._running(time.monotonic(), SLOW_SECONDS))

    def _break_off(self, wrappers) -> None:
        for wrapper in wrappers:
            connection = wrapper.connection
            if connection is not None and connection not in self._broken and break_connection(connection):
                self._broken.add(connection)

    def answers(self) -> bool:
        """Whether every watched database accepts a new connection in time. A
        refused or rejected connection counts as an answer: the server is not
        hung, and requests fail fast by themselves."""
        import psycopg

        for alias in self.aliases:
            wrapper = connections.create_connection(alias)
            params = {**wrapper.get_connection_params(), "connect_timeout": PROBE_TIMEOUT}
            try:
                wrapper.Database.connect(**params).close()
            except psycopg.errors.ConnectionTimeout:
                return False
            except psycopg.Error:
                continue
        return True


def break_connection(connection) -> bool:
    """Shut the socket of a connection another thread is waiting on: its wait
    ends at once with an error ("server closed the connection")."""
    import psycopg

    try:
        with socket.socket(fileno=os.dup(connection.fileno())) as sock:
            sock.shutdown(socket.SHUT_RDWR)
    except (OSError, psycopg.Error):  # closed meanwhile: nothing left to break
        return False
    logger.debug("Broke off a database connection of a request waiting on it")
    return True


class OutageLog:
    """One traceback per outage, one line per refused request."""

    def __init__(self):
        self._lock = threading.Lock()
        self._traced = False

    def refused(self, request, reason: str, exc: BaseException | None = None) -> None:
        with self._lock:
            trace = exc is not None and not self._traced
            self._traced = self._traced or trace
        if trace:
            logger.error(
                "503 for %s %s: %s (the traceback is logged once per outage; further refusals one line each)",
                request.method,
                request.path,
                reason,
                exc_info=exc,
            )
        else:
            logger.warning("503 for %s %s: %s", request.method, request.path, reason)

    def answered(self) -> None:
        if self._traced:
            with self._lock:
                self._traced = False

    def note_answers(self) -> None:
        """Have each database connection of this thread report its successful queries."""
        for alias in connections:
            wrappers = connections[alias].execute_wrappers
            if self._query_answered not in wrappers:
                wrappers.append(self._query_answered)

    def _query_answered(self, execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        self.answered()
        return result


watchdog = DatabaseWatchdog()
outage_log = OutageLog()
