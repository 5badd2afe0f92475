"""Webhook deliveries without the worker, or the worker's first sweep.

    manage.py deliver_webhooks            deliver, in this process, to every endpoint that is due
    manage.py deliver_webhooks --enqueue  queue a sweep for the worker (manage.py task_worker) and return

The worker (``task_worker``) queues a sweep itself when it starts; the first
serves a setup without a worker (cron) and an operator who wants to see what
happens.
"""

from django.core.management.base import BaseCommand

from agreements import tasks, webhooks


class Command(BaseCommand):
    help = "Deliver pending webhook entries now, or queue a sweep for the worker (--enqueue)."

    def add_arguments(self, parser):
        parser.add_argument("--enqueue", action="store_true", help="Queue a sweep for the worker instead.")

    def handle(self, *args, enqueue: bool = False, **options):
        if enqueue:
            tasks.schedule_sweep()
            self.stdout.write("A webhook sweep is queued.")
            return
        outcomes = webhooks.deliver_due()
        for endpoint_id, outcome in outcomes.items():
            self.stdout.write(f"endpoint {endpoint_id}: {outcome}")
