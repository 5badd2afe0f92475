"""Webhook deliveries (SPEC §9), to a real receiver on 127.0.0.1 that checks
every signature: in order, at least once, retried with backoff (time is moved
forward, not slept), disabled after a day of failures, never anything the
organisation may not see, and never to an address deliveries may not reach."""

import datetime
import socket
import time
import types

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from agreements import tasks, webhooks
from agreements.models import Agreement, WebhookDelivery, WebhookEndpoint

from .factories import AgreementFactory, OrganisationFactory
from .helpers import WebhookReceiver, logged_in

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def local_receivers(settings):
    settings.WEBHOOK_ALLOW_HTTP = True
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    settings.SITE_URL = "https://registry.example.org"


@pytest.fixture
def receiver():
    receiver = WebhookReceiver()
    yield receiver
    receiver.stop()


def endpoint_for(organisation, receiver, **fields) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.objects.create(organisation=organisation, url=receiver.url, **fields)
    receiver.secret = endpoint.secret
    return endpoint


def retitle(agreement, title):
    # Deliveries speak the organisation's language (German in the cast).
    Agreement.objects.filter(pk=agreement.pk).update(title_en=title, title_de=title)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_deliveries_arrive_in_order_signed_with_the_record_as_the_organisation_sees_it(cast, receiver):
    endpoint = endpoint_for(cast.org_a, receiver)
    for number in range(3):
        retitle(cast.public_a, f"Open cooperation, version {number}")
    retitle(cast.hidden_a, "Xyzzy draft, revised")

    assert webhooks.deliver(endpoint.pk) == "delivered"

    assert receiver.refused == []
    [delivery] = receiver.received
    assert delivery["payload"]["type"] == "registry.changes"
    assert delivery["headers"]["webhook-id"].startswith(f"msg_{endpoint.pk}_")
    entries = delivery["payload"]["data"]["entries"]
    cursors = [int(entry["cursor"]) for entry in entries]
    assert cursors == sorted(cursors) and len(set(cursors)) == 4
    assert [(e["slug"], e["kind"]) for e in entries] == [("public-a", "updated")] * 3 + [("hidden-a", "updated")]
    # The record as A's token reads it: the latest state, its own draft included.
    assert entries[0]["record"]["title"] == "Open cooperation, version 2"
    assert entries[-1]["record"]["title"] == "Xyzzy draft, revised"
    assert entries[-1]["url"] == "https://registry.example.org/api/v1/agreements/hidden-a/"
    endpoint.refresh_from_db()
    assert endpoint.cursor == cursors[-1]
    log = WebhookDelivery.objects.get()
    assert (log.status_code, log.succeeded, log.entries, log.last_cursor) == (200, True, 4, cursors[-1])
    assert log.response_excerpt == "ok"

    # Nothing new: nothing sent. A later change: only that.
    assert webhooks.deliver(endpoint.pk) == "nothing"
    retitle(cast.public_a, "Open cooperation, version 3")
    assert webhooks.deliver(endpoint.pk) == "delivered"
    assert [e["record"]["title"] for e in receiver.received[1]["payload"]["data"]["entries"]] == [
        "Open cooperation, version 3"
    ]


def test_b_never_receives_what_only_a_may_see(cast, receiver):
    receiver_b = WebhookReceiver()
    try:
        endpoint_a = endpoint_for(cast.org_a, receiver)
        endpoint_b = endpoint_for(cast.org_b, receiver_b)
        retitle(cast.hidden_a, "Xyzzy draft, revised")
        cast.hidden_a.delete()
        retitle(cast.public_a, "Open cooperation, new title")
        retitle(cast.hidden_b, "Private pact of Beta, revised")

        assert webhooks.deliver_due() == {endpoint_a.pk: "delivered", endpoint_b.pk: "delivered"}

        seen_by_b = [(e["slug"], e["kind"]) for e in receiver_b.entries()]
        assert seen_by_b == [("public-a", "updated"), ("hidden-b", "updated")]
        text_b = str(receiver_b.received)
        for secret in [*cast.secrets, "hidden-a", "Xyzzy"]:
            assert secret not in text_b
        seen_by_a = [(e["slug"], e["kind"]) for e in receiver.entries()]
        assert seen_by_a[0] == ("hidden-a", "updated")
        # Its parties go first, so A is told the draft left its view, then that it was deleted (as its feed says).
        assert seen_by_a[-3:] == [("hidden-a", "removed_from_view"), ("hidden-a", "deleted"), ("public-a", "updated")]
        assert "hidden-b" not in str(receiver.received)
        assert receiver.entries()[-3]["record"] is None and receiver.entries()[-2]["record"] is None
        # B's cursor moved past A's entries all the same.
        endpoint_b.refresh_from_db()
        endpoint_a.refresh_from_db()
        assert endpoint_b.cursor == endpoint_a.cursor
    finally:
        receiver_b.stop()


def test_kinds_filter_what_is_sent(cast, receiver):
    endpoint = endpoint_for(cast.org_a, receiver, kinds=["removed_from_view"])
    retitle(cast.public_a, "Changed")
    cast.hidden_a.delete()
    assert webhooks.deliver(endpoint.pk) == "delivered"
    assert [(e["slug"], e["kind"]) for e in receiver.entries()] == [("hidden-a", "removed_from_view")]


def test_a_receiver_that_is_down_gets_the_same_entries_when_it_returns(cast, receiver):
    endpoint = endpoint_for(cast.org_a, receiver)
    retitle(cast.public_a, "First")
    receiver.stop()
    start = timezone.now()

    assert webhooks.deliver(endpoint.pk, now=start) == "failed"
    endpoint.refresh_from_db()
    first_cursor = endpoint.cursor
    assert endpoint.consecutive_failures == 1
    assert endpoint.next_attempt_at == start + datetime.timedelta(seconds=30)
    # Not yet due: nothing is tried.
    assert webhooks.deliver(endpoint.pk, now=start + datetime.timedelta(seconds=10)) == "busy"
    retitle(cast.public_a, "Second")  # while the batch waits: it is sent after, not mixed in
    assert webhooks.deliver(endpoint.pk, now=start + datetime.timedelta(seconds=30)) == "failed"
    endpoint.refresh_from_db()
    assert endpoint.next_attempt_at == start + datetime.timedelta(seconds=90)  # 30 s, then 60 s
    assert endpoint.cursor == first_cursor  # only a 2xx moves it

    receiver.start()
    assert webhooks.deliver(endpoint.pk, now=start + datetime.timedelta(seconds=90)) == "delivered"
    titles = [e["record"]["title"] for e in receiver.entries()]
    assert titles == ["Second", "Second"]  # the pending batch (its record as it is now), then the next one
    ids = [delivery["headers"]["webhook-id"] for delivery in receiver.received]
    assert len(set(ids)) == 2
    attempts = list(WebhookDelivery.objects.order_by("pk").values_list("webhook_id", "attempt", "succeeded"))
    assert attempts == [(ids[0], 1, False), (ids[0], 2, False), (ids[0], 3, True), (ids[1], 1, True)]
    endpoint.refresh_from_db()
    assert (endpoint.consecutive_failures, endpoint.failing_since, endpoint.next_attempt_at) == (0, None, None)


def test_an_error_answer_is_retried_with_the_same_entries(cast, receiver):
    endpoint = endpoint_for(cast.org_a, receiver)
    retitle(cast.public_a, "Once")
    receiver.status = 500
    start = timezone.now()
    assert webhooks.deliver(endpoint.pk, now=start) == "failed"
    receiver.status = 200
    assert webhooks.deliver(endpoint.pk, now=start + datetime.timedelta(seconds=30)) == "delivered"
    first, second = receiver.received
    assert first["payload"]["data"] == second["payload"]["data"]  # at least once: the same entries again
    assert first["headers"]["webhook-id"] == second["headers"]["webhook-id"]
    log = WebhookDelivery.objects.order_by("pk").first()
    assert (log.status_code, log.succeeded, log.error) == (500, False, "The receiver answered 500.")


def test_after_a_day_of_failures_the_endpoint_is_disabled_and_people_are_told(cast, settings):
    cast.users["editor_a"].email = "editor-a@example.org"
    cast.users["editor_a"].save()
    cast.users["registry_admin"].email = "registrar@example.org"
    cast.users["registry_admin"].save()
    endpoint = WebhookEndpoint.objects.create(organisation=cast.org_a, url=f"http://127.0.0.1:{closed_port()}/")
    retitle(cast.public_a, "Never arrives")
    start = now = timezone.now()
    outcomes = []
    while len(outcomes) < 100:
        outcomes.append(webhooks.deliver(endpoint.pk, now=now))
        endpoint.refresh_from_db()
        if not endpoint.is_active:
            break
        delay = endpoint.next_attempt_at - now
        assert datetime.timedelta(seconds=30) <= delay <= datetime.timedelta(hours=1)
        now = endpoint.next_attempt_at
    assert outcomes[-1] == "disabled" and set(outcomes[:-1]) == {"failed"}
    assert now - start >= datetime.timedelta(hours=24)
    assert now - start < datetime.timedelta(hours=25)
    assert "ConnectionRefusedError" in endpoint.disabled_reason
    assert WebhookDelivery.objects.filter(endpoint=endpoint, succeeded=False).count() == len(outcomes)
    # A disabled endpoint is not tried.
    assert webhooks.deliver(endpoint.pk, now=now + datetime.timedelta(days=1)) == "busy"
    recipients = sorted(address for message in mail.outbox for address in message.to)
    assert recipients == ["editor-a@example.org", "registrar@example.org"]
    assert all(endpoint.url in message.subject for message in mail.outbox)


@pytest.mark.parametrize("address", ["127.0.0.1", "10.1.2.3", "169.254.169.254", "192.168.0.1", "::1", "0.0.0.0"])  # noqa: S104
def test_a_url_resolving_to_an_address_not_for_deliveries_is_refused(cast, receiver, settings, monkeypatch, address):
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    real = socket.getaddrinfo

    def resolver(host, port, *args, **kwargs):
        if host == "partner.example":
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            return [(family, socket.SOCK_STREAM, 6, "", (address, port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    endpoint = endpoint_for(cast.org_a, receiver)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(url=f"http://partner.example:{receiver.port}/hook")
    retitle(cast.public_a, "Changed")
    assert webhooks.deliver(endpoint.pk) == "failed"
    assert receiver.received == []
    assert "may not reach" in WebhookDelivery.objects.get().error
    assert webhooks.registration_problem(f"http://partner.example:{receiver.port}/hook")


def test_the_checked_address_is_the_one_connected_to(cast, receiver, monkeypatch):
    """The name is resolved once per delivery, checked, and the connection goes
    to that address with the name as Host: a rebinding resolver gains nothing."""
    answers = iter(["127.0.0.1", "169.254.169.254"])
    real = socket.getaddrinfo

    def resolver(host, port, *args, **kwargs):
        if host == "partner.example":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    endpoint = endpoint_for(cast.org_a, receiver)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(url=f"http://partner.example:{receiver.port}/hook")
    retitle(cast.public_a, "One")
    assert webhooks.deliver(endpoint.pk) == "delivered"
    assert receiver.received[0]["headers"]["Host"] == f"partner.example:{receiver.port}"
    retitle(cast.public_a, "Two")
    assert webhooks.deliver(endpoint.pk) == "failed"  # now the name points at the metadata address
    assert len(receiver.received) == 1


def test_an_allow_listed_address_is_delivered_to(cast, receiver, settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    endpoint = endpoint_for(cast.org_a, receiver)
    retitle(cast.public_a, "Changed")
    assert webhooks.deliver(endpoint.pk) == "failed"
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(next_attempt_at=None)
    assert webhooks.deliver(endpoint.pk) == "delivered"


def test_http_is_refused_unless_allowed(cast, receiver, settings):
    settings.WEBHOOK_ALLOW_HTTP = False
    endpoint = endpoint_for(cast.org_a, receiver)
    retitle(cast.public_a, "Changed")
    assert webhooks.deliver(endpoint.pk) == "failed"
    assert receiver.received == []
    assert WebhookDelivery.objects.get().error == "Webhook URLs must start with https://."


def test_a_redirect_is_not_followed(cast, receiver):
    target = WebhookReceiver()
    try:
        endpoint = endpoint_for(cast.org_a, receiver)
        target.secret = endpoint.secret
        receiver.status, receiver.location = 307, target.url
        retitle(cast.public_a, "Changed")
        assert webhooks.deliver(endpoint.pk) == "failed"
        assert len(receiver.received) == 1 and target.received == []
        endpoint.refresh_from_db()
        assert endpoint.pending_through is not None and WebhookDelivery.objects.get().status_code == 307
    finally:
        target.stop()


def test_a_long_run_renews_its_hold_so_no_other_worker_takes_over(cast, receiver, monkeypatch):
    """The hold (lease) is renewed before each batch and each request: a run of
    batches that together outlast one lease is not taken over meanwhile."""
    endpoint = endpoint_for(cast.org_a, receiver)
    monkeypatch.setattr(webhooks, "BATCH", 1)
    for number in range(3):
        retitle(cast.public_a, f"Version {number}")
    start = timezone.now()
    clock = [start]
    monkeypatch.setattr(webhooks, "_clock", lambda: clock[0])
    real_post, competitors = webhooks.post, []

    def slow_post(url, body, headers):
        if competitors and competitors[-1] == "running":  # the other worker's own request
            return real_post(url, body, headers)
        clock[0] += datetime.timedelta(seconds=100)  # each request takes 100 s; three outlast a lease
        competitors.append("running")
        competitors[-1] = webhooks.deliver(endpoint.pk, now=clock[0])  # another worker tries now
        return real_post(url, body, headers)

    monkeypatch.setattr(webhooks, "post", slow_post)
    assert webhooks.deliver(endpoint.pk, now=start) == "delivered"
    assert competitors == ["busy", "busy", "busy"]
    assert [e["record"]["title"] for e in receiver.entries()] == ["Version 2"] * 3
    assert len({int(e["cursor"]) for e in receiver.entries()}) == 3
    endpoint.refresh_from_db()
    assert endpoint.leased_until is None  # released at the end


def test_a_killed_delivery_is_sent_again_once_its_hold_runs_out(cast, receiver):
    """A worker killed mid-delivery leaves its hold (lease) and the pending batch:
    the batch goes again, once, after the hold ran out."""
    endpoint = endpoint_for(cast.org_a, receiver)
    retitle(cast.public_a, "Changed")
    start = timezone.now()
    # What a killed worker leaves: the endpoint held, the batch pending, nothing acknowledged.
    through = webhooks.next_batch_end(endpoint)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(leased_until=start + webhooks.LEASE, pending_through=through)
    assert webhooks.deliver(endpoint.pk, now=start + datetime.timedelta(seconds=5)) == "busy"
    assert webhooks.deliver(endpoint.pk, now=start + webhooks.LEASE + datetime.timedelta(seconds=1)) == "delivered"
    assert webhooks.deliver(endpoint.pk, now=start + webhooks.LEASE + datetime.timedelta(seconds=2)) == "nothing"
    assert len(receiver.received) == 1


@pytest.mark.django_db(transaction=True)
def test_a_committed_write_queues_a_sweep_and_the_worker_delivers(receiver):
    """Real commits: the write's commit queues one sweep; the worker (django-tasks-db's
    db_worker) runs it, it queues the endpoint's delivery and the next sweep, and delivers."""
    organisation = OrganisationFactory(slug="org-t", language="en")
    agreement = AgreementFactory(slug="committed", signed=True, parties=[organisation], title_en="Before")
    endpoint = endpoint_for(organisation, receiver)
    DBTaskResult.objects.all().delete()
    with transaction.atomic():
        agreement.title_en = "Saved through the ORM"
        agreement.save()
        agreement.topics.clear()
    assert DBTaskResult.objects.filter(task_path=tasks.sweep.module_path).count() == 1  # once per transaction
    call_command("db_worker", batch=True, startup_delay=False, verbosity=0)
    assert [e["record"]["title"] for e in receiver.entries()] == ["Saved through the ORM"]
    endpoint.refresh_from_db()
    assert endpoint.pending_through is None and endpoint.cursor > 0
    # The sweep queued the next one a minute later (raw SQL writes, leftovers of a killed worker).
    assert DBTaskResult.objects.filter(task_path=tasks.sweep.module_path, status="READY").count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_task_worker_queues_a_sweep_and_waits_out_a_database_outage(monkeypatch):
    """task_worker runs db_worker again once the database answers (db_worker exits on
    the first database error) and queues a sweep each time; the fault run restarts
    a real PostgreSQL under it (tests/faults/test_webhook_faults.py)."""
    from django.db.utils import OperationalError
    from django_tasks_db.management.commands import db_worker

    runs, waits = [], []

    def handle(self, *args, **options):
        runs.append(DBTaskResult.objects.filter(task_path=tasks.sweep.module_path, status="READY").count())
        if len(runs) < 3:
            raise OperationalError("the database system is shutting down")

    monkeypatch.setattr(db_worker.Command, "handle", handle)
    # The command's own clock only (time.sleep itself is also what other threads call).
    clock = types.SimpleNamespace(sleep=waits.append, monotonic=time.monotonic)
    monkeypatch.setattr("agreements.management.commands.task_worker.time", clock)
    DBTaskResult.objects.all().delete()
    call_command("task_worker", batch=True, interval=1, verbosity=0)
    assert runs == [1, 1, 1]  # a sweep queued before each run (not twice)
    assert waits == [1, 2]  # waiting longer each time


def test_a_failure_queues_its_retry_on_the_engine(cast):
    endpoint = WebhookEndpoint.objects.create(organisation=cast.org_a, url=f"http://127.0.0.1:{closed_port()}/")
    retitle(cast.public_a, "Changed")
    assert webhooks.deliver(endpoint.pk) == "failed"
    retry = DBTaskResult.objects.get(task_path=tasks.deliver_endpoint.module_path)
    endpoint.refresh_from_db()
    assert retry.run_after == endpoint.next_attempt_at
    assert retry.args_kwargs == {"args": [endpoint.pk], "kwargs": {}}


def test_the_signature_matches_the_specifications_example():
    """The Standard Webhooks test vector (its README): secret, id, timestamp, body → signature."""
    endpoint = WebhookEndpoint(secret="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    headers = webhooks.signed_headers(
        endpoint,
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        b'{"test": 2432232314}',
        datetime.datetime.fromtimestamp(1614265330, tz=datetime.UTC),
    )
    assert headers["webhook-signature"] == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    assert headers["webhook-timestamp"] == "1614265330"


def test_after_a_rotation_both_secrets_sign_until_the_grace_period_ends(cast, receiver, settings):
    settings.WEBHOOK_SECRET_GRACE_HOURS = 24
    endpoint = endpoint_for(cast.org_a, receiver)
    old = endpoint.secret
    start = timezone.now()
    endpoint = webhooks.endpoint_rotate_secret(endpoint, now=start)
    assert endpoint.secret != old and endpoint.previous_secret == old
    assert endpoint.previous_secret_expires_at == start + datetime.timedelta(hours=24)

    # During the grace period: two signatures; a receiver with either secret accepts.
    retitle(cast.public_a, "Old secret still works")
    assert webhooks.deliver(endpoint.pk, now=start + datetime.timedelta(hours=23)) == "delivered"
    assert len(receiver.received[-1]["headers"]["webhook-signature"].split(" ")) == 2
    receiver.secret = endpoint.secret
    retitle(cast.public_a, "New secret works")
    assert webhooks.deliver(endpoint.pk, now=start + datetime.timedelta(hours=23)) == "delivered"
    assert receiver.refused == []

    # After it: only the new secret's signature; a receiver still on the old one refuses.
    receiver.secret = old
    retitle(cast.public_a, "Only the new secret")
    later = start + datetime.timedelta(hours=24, seconds=1)
    assert webhooks.deliver(endpoint.pk, now=later) == "failed"
    assert receiver.refused == ["No matching signature found"]
    receiver.secret = endpoint.secret
    assert webhooks.deliver(endpoint.pk, now=later + datetime.timedelta(seconds=30)) == "delivered"
    assert len(receiver.received[-1]["headers"]["webhook-signature"].split(" ")) == 1
    assert [e["record"]["title"] for e in receiver.entries()][-1] == "Only the new secret"


def test_a_retry_keeps_its_webhook_id_and_a_staff_resend_gets_a_new_one(cast, receiver):
    """Standard Webhooks: a receiver deduplicates on webhook-id, which a retry of
    the same message keeps. A staff resend exists to be processed again: its
    messages (read afresh) have new ids; each entry's cursor stays its own."""
    endpoint = endpoint_for(cast.org_a, receiver)
    start_cursor = endpoint.cursor
    retitle(cast.public_a, "Once")
    receiver.status = 503
    start = timezone.now()
    assert webhooks.deliver(endpoint.pk, now=start) == "failed"
    receiver.status = 200
    assert webhooks.deliver(endpoint.pk, now=start + datetime.timedelta(seconds=30)) == "delivered"
    for _resend in range(2):
        endpoint.refresh_from_db()
        webhooks.endpoint_resend(endpoint, after=start_cursor)
        assert webhooks.deliver(endpoint.pk) == "delivered"
    ids = [delivery["headers"]["webhook-id"] for delivery in receiver.received]
    assert ids[0] == ids[1] and len(set(ids)) == 3
    assert ids[2] == f"{ids[0]}_r1" and ids[3] == f"{ids[0]}_r2"
    cursors = [[e["cursor"] for e in delivery["payload"]["data"]["entries"]] for delivery in receiver.received]
    assert cursors[0] == cursors[1] == cursors[2] == cursors[3]
    assert list(WebhookDelivery.objects.order_by("pk").values_list("webhook_id", flat=True)) == ids


def test_a_new_endpoint_starts_at_the_feeds_end_with_a_fresh_secret(cast, receiver):
    first = endpoint_for(cast.org_a, receiver)
    second = endpoint_for(cast.org_a, receiver)
    assert first.cursor > 0 and first.cursor == second.cursor
    assert first.secret.startswith("whsec_") and first.secret != second.secret
    assert webhooks.deliver(first.pk) == "nothing"


# --------------------------------------------------------------------------
# The admin


def test_staff_see_the_delivery_log_and_resend_from_a_cursor(cast, receiver, django_assert_max_num_queries):
    endpoint = endpoint_for(cast.org_a, receiver)
    start_cursor = endpoint.cursor
    retitle(cast.public_a, "Changed")
    assert webhooks.deliver(endpoint.pk) == "delivered"
    client = logged_in(cast.users["registry_admin"])

    page = client.get("/admin/agreements/webhookendpoint/")
    assert page.status_code == 200 and receiver.url in page.content.decode()
    page = client.get(f"/admin/agreements/webhookendpoint/{endpoint.pk}/change/")
    assert page.status_code == 200 and endpoint.secret in page.content.decode()
    log = client.get(f"/admin/agreements/webhookdelivery/?endpoint__id__exact={endpoint.pk}")
    assert log.status_code == 200 and f"msg_{endpoint.pk}_" in log.content.decode()
    detail = client.get(f"/admin/agreements/webhookdelivery/{WebhookDelivery.objects.get().pk}/change/")
    assert detail.status_code == 200 and "msg_" in detail.content.decode()

    response = client.post(
        "/admin/agreements/webhookendpoint/",
        {"action": "resend", "_selected_action": [endpoint.pk], "cursor": str(start_cursor), "index": "0"},
    )
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.cursor == start_cursor
    assert webhooks.deliver(endpoint.pk) == "delivered"
    assert [e["record"]["title"] for e in receiver.entries()] == ["Changed", "Changed"]


def test_staff_rotate_a_secret_in_the_admin(cast, receiver):
    endpoint = endpoint_for(cast.org_a, receiver)
    old = endpoint.secret
    client = logged_in(cast.users["registry_admin"])
    response = client.post(
        "/admin/agreements/webhookendpoint/",
        {"action": "rotate_secret", "_selected_action": [endpoint.pk], "index": "0"},
        follow=True,
    )
    assert response.status_code == 200 and "new signing secret" in response.content.decode()
    endpoint.refresh_from_db()
    assert endpoint.secret != old and endpoint.previous_secret == old
    page = client.get(f"/admin/agreements/webhookendpoint/{endpoint.pk}/change/").content.decode()
    assert endpoint.secret in page and old not in page  # the old secret is the receiver's to know, not shown


def test_the_delivery_log_is_read_only_and_for_registry_administrators(cast, receiver):
    endpoint = endpoint_for(cast.org_a, receiver)
    retitle(cast.public_a, "Changed")
    webhooks.deliver(endpoint.pk)
    delivery = WebhookDelivery.objects.get()
    admin = logged_in(cast.users["registry_admin"])
    assert admin.get("/admin/agreements/webhookdelivery/add/").status_code == 403
    assert admin.post(f"/admin/agreements/webhookdelivery/{delivery.pk}/delete/", {"post": "yes"}).status_code == 403
    for role in ("editor_a", "editor_b", "staff"):
        client = logged_in(cast.users[role])
        assert client.get("/admin/agreements/webhookdelivery/").status_code == 403, role
        assert client.get(f"/admin/agreements/webhookendpoint/{endpoint.pk}/change/").status_code in {403, 302}, role


def test_the_admin_refuses_an_unsafe_url(cast):
    client = logged_in(cast.users["registry_admin"])
    response = client.post(
        "/admin/agreements/webhookendpoint/add/",
        {"organisation": cast.org_a.pk, "url": "http://169.254.169.254/latest/", "is_active": "on"},
    )
    assert response.status_code == 200
    assert "may not reach" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_housekeeping_is_queued_by_the_sweeps_and_prunes_feed_and_task_results(db):
    """The change feed's retention and django-tasks-db's old results need no cron: the
    sweeps queue one housekeeping a day."""
    import datetime as _dt

    from django.utils import timezone as _tz

    from agreements.models import Change, ChangeFeedState

    from .factories import OrganisationFactory as _Org

    tasks.sweep.call()
    tasks.sweep.call()
    queued = DBTaskResult.objects.filter(task_path=tasks.housekeeping.module_path, status="READY")
    assert queued.count() == 1 and queued.get().run_after > _tz.now() + _dt.timedelta(hours=23)
    _Org(slug="old-news")
    Change.objects.update(changed_at=_tz.now() - _dt.timedelta(days=91))
    old = DBTaskResult.objects.filter(task_path=tasks.sweep.module_path).first()
    DBTaskResult.objects.filter(pk=old.pk).update(status="SUCCESSFUL", finished_at=_tz.now() - _dt.timedelta(days=8))
    report = tasks.housekeeping.call()
    assert "entries removed" in report
    assert not Change.objects.exists() and ChangeFeedState.objects.get().pruned_through > 0
    assert not DBTaskResult.objects.filter(pk=old.pk).exists()


def test_housekeeping_fails_task_runs_a_killed_worker_left_running(db, monkeypatch):
    """django-tasks-db leaves a killed worker's task RUNNING for ever: housekeeping
    marks those that started long ago FAILED (oldest first, a bounded number a
    day), so the results' prune removes them; a task still running is left."""
    now = timezone.now()
    started = {
        "oldest": now - datetime.timedelta(days=3),
        "old": now - tasks.ABANDONED_AFTER - datetime.timedelta(minutes=1),
        "older": now - datetime.timedelta(days=1),
        "running": now - datetime.timedelta(minutes=5),
    }
    rows = {}
    for name, at in started.items():
        result = tasks.deliver_endpoint.enqueue(1)
        DBTaskResult.objects.filter(pk=result.id).update(status="RUNNING", started_at=at, worker_ids=["dead"])
        rows[name] = result.id
    monkeypatch.setattr(tasks, "ABANDONED_PER_RUN", 2)

    def status() -> dict[str, str]:
        return {name: DBTaskResult.objects.get(pk=pk).status for name, pk in rows.items()}

    assert "2 abandoned task runs marked failed" in tasks.housekeeping.call()
    assert status() == {"oldest": "FAILED", "older": "FAILED", "old": "RUNNING", "running": "RUNNING"}
    assert "1 abandoned task runs marked failed" in tasks.housekeeping.call()
    assert status() == {"oldest": "FAILED", "older": "FAILED", "old": "FAILED", "running": "RUNNING"}
    failed = DBTaskResult.objects.get(pk=rows["old"])
    assert failed.finished_at is not None and failed.task_result.errors[0].exception_class_path.endswith("WorkerLost")
