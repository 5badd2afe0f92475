"""gunicorn settings (read with ``gunicorn -c gunicorn.conf.py registry.wsgi``).

Run it behind the buffering proxy (nginx with deploy/nginx.conf.template, as
docker-compose does), never facing clients directly: a gthread worker's
thread reads a request's headers and body itself, so each client that sends
them slowly holds a thread for as long as it likes, and about as many such
connections as there are threads (WEB_CONCURRENCY x GUNICORN_THREADS) leave
none to answer anyone, /healthz included (tests/faults shows it). nginx holds
slow clients at almost no cost and passes on only complete requests.

Threads let one process serve several requests while they wait on the
database; workers are recycled after a number of requests so a leak cannot
grow without bound. gunicorn's ``timeout`` restarts a worker whose main loop
stops, not a request thread that waits: the database watchdog bounds those
(registry/database.py).
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() + 1))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", 4))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 30))
graceful_timeout = 30
keepalive = 5
# Recycle each worker after this many requests (a leak can't grow for ever);
# high enough that a busy worker isn't restarted every few seconds.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", 10000))
max_requests_jitter = max_requests // 10
accesslog = "-"
errorlog = "-"
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
