"""The task worker (webhook deliveries): django-tasks-db's ``db_worker``, with
the same options, that queues a sweep when it starts and outlives a database
outage.

``db_worker`` itself exits on the first database error that is not a lock
(PostgreSQL restarted, the network to it gone): its polling loop re-raises
it. This command runs it again once the database answers, waiting
``--interval`` seconds, doubled on each failure up to ``OUTAGE_WAIT_MAX``, and
queues a sweep on each (re)start, so whatever was due meanwhile is delivered
without a supervisor's restart. A task that was running when the database
went away keeps its RUNNING row; what it was delivering goes again once its
endpoint's hold runs out (``agreements.webhooks``: the outbox is the change
feed, not the task).

    manage.py task_worker --interval 1     (compose's worker service; bin/start)
"""

import contextlib
import logging
import time

from django.db import connections
from django.db.utils import InterfaceError, OperationalError
from django_tasks_db.management.commands import db_worker

from agreements import tasks

logger = logging.getLogger(__name__)

OUTAGE_WAIT_MAX = 10.0  # seconds between attempts while the database is away


class Command(db_worker.Command):
    help = "Run the task worker (db_worker) that queues a sweep at its start and waits out database outages."

    def handle(self, *args, **options):
        first_wait = wait = max(options["interval"], 0.5)
        while True:
            started = time.monotonic()
            try:
                tasks.schedule_sweep()
                return super().handle(*args, **options)
            except (OperationalError, InterfaceError) as exc:
                if time.monotonic() - started > OUTAGE_WAIT_MAX:
                    wait = first_wait  # it had worked meanwhile: a new outage
                logger.warning("The task worker lost the database (%s); trying again in %.1f s.", exc, wait)
            for connection in connections.all(initialized_only=True):
                with contextlib.suppress(Exception):  # a connection to a database that is gone
                    connection.close()
            time.sleep(wait)
            wait = min(wait * 2, OUTAGE_WAIT_MAX)
