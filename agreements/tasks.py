"""Background tasks on Django's tasks framework (``TASKS``: the
``django-tasks-db`` backend; the worker is ``manage.py task_worker``: its
``db_worker`` that also waits out a database outage).

Webhook deliveries (``agreements.webhooks``) are started three ways, so that
none of them has to survive for nothing to be lost (the change feed's entries
are the outbox; each endpoint's cursor says what is still to send):

- after each commit of a write to the registry's records, one ``sweep`` is
  queued (``kick``, from the models' save/delete signals);
- every sweep queues the next one a minute later (writes that bypass the ORM,
  such as raw SQL or a restore, are picked up by it; so is anything a killed
  worker left), and the worker queues one when it starts and when the database
  is back after an outage (``task_worker``);
- a failed delivery queues its own retry at the endpoint's next attempt time.

A sweep only queues ``deliver_endpoint`` for each endpoint that has something
due; the delivery holds its endpoint, so duplicates are harmless.
"""

import datetime

from django.db import connection, transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.tasks import task
from django.utils import timezone

SWEEP_EVERY = datetime.timedelta(seconds=60)
HOUSEKEEPING_EVERY = datetime.timedelta(days=1)
# Finished task results are kept this long for the admin, then removed.
TASK_RESULTS_KEPT_DAYS = 7
# A task still RUNNING this long after it started was left by a killed worker:
# ours take minutes at most (a delivery run: ten batches, each under a lease).
ABANDONED_AFTER = datetime.timedelta(hours=6)
ABANDONED_PER_RUN = 1000  # rows marked per housekeeping, oldest first


class WorkerLost(Exception):
    """What an abandoned task run failed of (``fail_abandoned_tasks``)."""


@task()
def deliver_endpoint(endpoint_id: int) -> str:
    from .webhooks import deliver

    return deliver(endpoint_id)


@task()
def sweep() -> list[int]:
    """Queue a delivery for each endpoint with entries due, and the next sweep."""
    from .webhooks import due_endpoint_ids

    schedule_sweep(timezone.now() + SWEEP_EVERY)
    schedule_housekeeping(timezone.now() + HOUSEKEEPING_EVERY)
    due = due_endpoint_ids()
    for endpoint_id in due:
        deliver_endpoint.enqueue(endpoint_id)
    return due


@task()
def housekeeping() -> str:
    """Once a day (queued by the sweeps): the change feed's retention
    (``prune_change_feed``), the task rows a killed worker left RUNNING
    (``fail_abandoned_tasks``), and django-tasks-db's finished results, which
    it keeps for ever otherwise (a sweep a minute is 1,440 rows a day)."""
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("prune_change_feed", stdout=out)
    out.write(f"{fail_abandoned_tasks()} abandoned task runs marked failed.\n")
    call_command("prune_db_task_results", min_age_days=TASK_RESULTS_KEPT_DAYS, stdout=out, stderr=out)
    return out.getvalue()


def fail_abandoned_tasks(now: datetime.datetime | None = None) -> int:
    """Mark FAILED the task rows still RUNNING ``ABANDONED_AFTER`` after they
    started (their worker was killed: django-tasks-db never finishes them), at
    most ``ABANDONED_PER_RUN`` a day, so the prune removes them in time. They
    are not run again: what a delivery left is found by the sweeps (the
    endpoint's cursor and pending batch say it), and a task that killed its
    worker must not do it again."""
    from django_tasks_db.models import DBTaskResult

    now = now or timezone.now()
    abandoned = (
        DBTaskResult.objects.running()
        .filter(started_at__lt=now - ABANDONED_AFTER)
        .order_by("started_at")
        .values_list("pk", flat=True)[:ABANDONED_PER_RUN]
    )
    return (
        DBTaskResult.objects.running()
        .filter(pk__in=list(abandoned))
        .update(
            status="FAILED",
            finished_at=now,
            exception_class_path=f"{WorkerLost.__module__}.{WorkerLost.__qualname__}",
            traceback=f"Still running {ABANDONED_AFTER} after it started: its worker was stopped.",
        )
    )


def schedule_housekeeping(run_after: datetime.datetime) -> None:
    """Queue the day's housekeeping unless one is queued already."""
    if not _queued(housekeeping, later=True).exists() and not _queued(housekeeping, later=False).exists():
        housekeeping.using(run_after=run_after).enqueue()


def _queued(task_object, *, later: bool):
    from django_tasks_db.models import DBTaskResult, get_date_max

    queued = DBTaskResult.objects.filter(task_path=task_object.module_path, status="READY")
    if later:
        return queued.filter(run_after__gt=timezone.now()).exclude(run_after=get_date_max())
    return queued.ready()


def schedule_sweep(run_after: datetime.datetime | None = None) -> None:
    """Queue a sweep (now, or at ``run_after``) unless one is queued already."""
    if run_after is None:
        if not _queued(sweep, later=False).exists():
            sweep.enqueue()
    elif not _queued(sweep, later=True).exists():
        sweep.using(run_after=run_after).enqueue()


def schedule_retry(endpoint_id: int, run_after: datetime.datetime) -> None:
    deliver_endpoint.using(run_after=run_after).enqueue(endpoint_id)


# --------------------------------------------------------------------------
# After a write commits


def kick() -> None:
    """A write to the registry's records committed: queue a sweep if any endpoint listens."""
    from .models import WebhookEndpoint

    if WebhookEndpoint.objects.filter(is_active=True).exists():
        schedule_sweep()


def _feed_tables() -> set[str]:
    from .feed_triggers import SOURCES

    return {table for table, *_rest in SOURCES}


def _written(sender, **kwargs) -> None:
    if sender._meta.db_table not in FEED_TABLES:
        return
    # Once per transaction: not again while a queued kick would be kept with this write
    # (one queued in this savepoint or an enclosing one; a rolled-back savepoint drops its own).
    savepoints = set(connection.savepoint_ids)
    if not any(callback is kick and sids <= savepoints for sids, callback, _robust in connection.run_on_commit):
        transaction.on_commit(kick, robust=True)


FEED_TABLES: set[str] = set()


def connect_signals() -> None:
    """From ``AgreementsConfig.ready``."""
    FEED_TABLES.update(_feed_tables())
    post_save.connect(_written, dispatch_uid="webhooks_kick_save")
    post_delete.connect(_written, dispatch_uid="webhooks_kick_delete")
    m2m_changed.connect(_written, dispatch_uid="webhooks_kick_m2m")
