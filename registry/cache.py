"""The Redis cache, optional: when Redis does not answer, the registry answers
without it (from the database, a little slower), and comes back to it by itself.

Redis holds cached answers and pages, API rate-limit counters and import
files waiting for confirmation; everything reaches it through Django's
default cache, so this backend is the one place that decides what happens
when it is down:

- Every Redis call is bounded by short socket timeouts (CACHES OPTIONS in
  registry/settings.py) and is not retried, except once at once on a
  refused or reset connection, which is how a pooled connection left from
  before a Redis restart fails.
- A failure opens a circuit for CIRCUIT_SECONDS: for that time this process
  does not try Redis at all, so requests do not each wait for it. Then one
  request tries again; if Redis answers, the circuit closes.
- While the circuit is open, the cache is this process's own memory
  (Django's LocMemCache, bounded). Cached answers stay correct: their keys
  carry the data version, so an entry is never older than the data (and no
  code relies on deleting a key, which would not reach Redis). Rate
  limits *fail open to per-process counters*: each web process counts on its
  own, so a caller may get up to the limit times the number of processes.
- /readyz reports ``"cache": "unreachable"`` (still 200: the registry serves).

One line is logged when the circuit opens and one when Redis answers again.
"""

import logging
import threading
import time

from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

CIRCUIT_SECONDS = 5.0
# Bounded: cached answers are tens of kilobytes each.
FALLBACK_MAX_ENTRIES = 300
READY_KEY = "registry:readyz"


class CircuitBreaker:
    """Whether to try Redis now. One per Redis location and process, shared
    by every thread (Django's cache objects are per thread)."""

    def __init__(self, name: str, open_seconds: float):
        self.name = name
        self.open_seconds = open_seconds
        self._lock = threading.Lock()
        self._retry_at = 0.0  # 0: closed; else open until this monotonic time

    @property
    def is_open(self) -> bool:
        return self._retry_at != 0.0

    def allow(self) -> bool:
        """True when the caller should try Redis: the circuit is closed, or it
        has been open long enough and the caller is the one to try again (the
        others keep answering without Redis meanwhile)."""
        if self._retry_at == 0.0:
            return True
        with self._lock:
            now = time.monotonic()
            if self._retry_at == 0.0:
                return True
            if now < self._retry_at:
                return False
            self._retry_at = now + self.open_seconds
            return True

    def failed(self, exc: Exception) -> None:
        with self._lock:
            was_closed = self._retry_at == 0.0
            self._retry_at = time.monotonic() + self.open_seconds
        if was_closed:
            logger.warning(
                "Cache %s unreachable (%s: %s): answering without it, trying again every %.0f s",
                self.name,
                exc.__class__.__name__,
                exc,
                self.open_seconds,
            )

    def succeeded(self) -> None:
        if self._retry_at == 0.0:
            return
        with self._lock:
            self._retry_at = 0.0
        logger.warning("Cache %s answers again", self.name)


_breakers: dict[str, CircuitBreaker] = {}
_breakers_lock = threading.Lock()


def breaker_for(name: str, open_seconds: float) -> CircuitBreaker:
    with _breakers_lock:
        return _breakers.setdefault(name, CircuitBreaker(name, open_seconds))


class _SharedClientRedisCacheClient(RedisCacheClient):
    """Django's Redis client, with one redis-py client per connection pool
    instead of a new one per call (building one copies its ~200 response
    callbacks: a third of a cached answer's time). redis-py clients are
    thread-safe; connections still come from the pool."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class ResilientRedisCache(RedisCache):
    """Django's RedisCache behind a circuit breaker, with this process's
    memory as the cache while Redis is unreachable (see the module docstring).

    OPTIONS are redis-py's connection pool options, plus CIRCUIT_SECONDS.
    """

    def __init__(self, server, params):
        options = dict(params.get("OPTIONS") or {})
        open_seconds = float(options.pop("CIRCUIT_SECONDS", CIRCUIT_SECONDS))
        super().__init__(server, {**params, "OPTIONS": options})
        self._class = _SharedClientRedisCacheClient
        location = server if isinstance(server, str) else ",".join(server)
        self._breaker = breaker_for(location, open_seconds)
        # LocMemCache instances of one name share their storage in a process.
        self._fallback = LocMemCache(
            f"registry-fallback:{location}",
            {**params, "OPTIONS": {"MAX_ENTRIES": FALLBACK_MAX_ENTRIES}},
        )

    def _call(self, method: str, *args, **kwargs):
        if self._breaker.allow():
            try:
                result = getattr(super(), method)(*args, **kwargs)
            except RedisError as exc:
                self._breaker.failed(exc)
            else:
                self._breaker.succeeded()
                return result
        return getattr(self._fallback, method)(*args, **kwargs)

    def reachable(self) -> bool:
        """For /readyz: try Redis (unless the circuit is open) and tell whether it answers."""
        self.has_key(READY_KEY)
        return not self._breaker.is_open

    def add(self, *args, **kwargs):
        return self._call("add", *args, **kwargs)

    def get(self, *args, **kwargs):
        return self._call("get", *args, **kwargs)

    def set(self, *args, **kwargs):
        return self._call("set", *args, **kwargs)

    def touch(self, *args, **kwargs):
        return self._call("touch", *args, **kwargs)

    def delete(self, *args, **kwargs):
        return self._call("delete", *args, **kwargs)

    def get_many(self, *args, **kwargs):
        return self._call("get_many", *args, **kwargs)

    def has_key(self, *args, **kwargs):
        return self._call("has_key", *args, **kwargs)

    def incr(self, *args, **kwargs):
        return self._call("incr", *args, **kwargs)

    def set_many(self, *args, **kwargs):
        return self._call("set_many", *args, **kwargs)

    def delete_many(self, *args, **kwargs):
        return self._call("delete_many", *args, **kwargs)

    def clear(self):
        return self._call("clear")
