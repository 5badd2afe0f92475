"""GET /api/v1/changes/: every change the caller may see, in commit order,
written by the database in the transaction of the write."""

import datetime
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone
from rest_framework.test import APIClient

from agreements import feed_triggers
from agreements.choices import AgreementStatus
from agreements.models import Agreement, AgreementParty, Change, ChangeFeedState, Person
from agreements.services import token_create

from ..factories import AgreementFactory, OrganisationFactory, PersonFactory, UserFactory
from ..helpers import ROLES, SEES_HIDDEN_OF_A, SEES_HIDDEN_OF_B

pytestmark = pytest.mark.django_db

URL = "/api/v1/changes/"


@pytest.fixture
def world(db):
    org_a, org_b, org_c = (OrganisationFactory(slug=s) for s in ("org-a", "org-b", "org-c"))
    _, key_a = token_create(name="A", organisation=org_a)
    _, key_b = token_create(name="B", organisation=org_b)
    staff = UserFactory(username="feed-admin", is_staff=True, is_superuser=True)
    clients = {"anonymous": APIClient(), "a": APIClient(), "b": APIClient(), "admin": APIClient()}
    clients["a"].credentials(HTTP_AUTHORIZATION=f"Token {key_a}")
    clients["b"].credentials(HTTP_AUTHORIZATION=f"Token {key_b}")
    clients["admin"].force_authenticate(staff)
    start = Change.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    return {"orgs": (org_a, org_b, org_c), "clients": clients, "start": start}


def feed(client, after=0, **params):
    response = client.get(URL, {"after": after, **params})
    assert response.status_code == 200, response.content
    return response.json()


def entries(client, after=0, slug=None):
    results = feed(client, after, limit=1000)["results"]
    return [(e["resource"], e["slug"], e["kind"]) for e in results if slug is None or e["slug"] == slug]


def kinds(client, slug, after=0):
    return [kind for _resource, s, kind in entries(client, after) if s == slug]


def test_a_published_agreement_is_in_everyones_feed(world):
    org_a, _, org_c = world["orgs"]
    AgreementFactory(signed=True, slug="public-one", parties=[org_a, org_c])
    for role in ("anonymous", "a", "b", "admin"):
        assert kinds(world["clients"][role], "public-one", world["start"])[0] == "created", role
    entry = feed(world["clients"]["anonymous"], world["start"])["results"][-1]
    assert entry["url"].endswith("/api/v1/agreements/public-one/")
    assert entry["resource"] == "agreements"


def test_b_never_learns_of_as_hidden_draft(world):
    org_a, _, org_c = world["orgs"]
    draft = AgreementFactory(slug="a-secret-draft", parties=[org_a, org_c])
    draft.title_en = "Changed"
    draft.save()
    Agreement.objects.filter(pk=draft.pk).update(summary_en="bulk")
    draft.delete()
    for role in ("anonymous", "b"):
        assert kinds(world["clients"][role], "a-secret-draft", world["start"]) == [], role
    seen_by_a = kinds(world["clients"]["a"], "a-secret-draft", world["start"])
    assert "updated" in seen_by_a and seen_by_a[-1] == "deleted"
    assert kinds(world["clients"]["admin"], "a-secret-draft", world["start"])[-1] == "deleted"


def latest_cursor() -> int:
    return Change.objects.order_by("-pk").values_list("pk", flat=True).first()


def test_a_deleted_drafts_parties_learn_it_was_deleted_and_nobody_else_learns_anything(world):
    """Deleting a draft removes its parties first (the models' cascade, or raw SQL in
    that order): each party is told it lost the draft and then that it was deleted.
    An organisation removed from it before a later change, or never a party, learns
    nothing of the deletion."""
    org_a, _, org_c = world["orgs"]
    org_d = OrganisationFactory(slug="org-d")
    clients = dict(world["clients"])
    for name, organisation in (("c", org_c), ("d", org_d)):
        _, key = token_create(name=name.upper(), organisation=organisation)
        clients[name] = APIClient()
        clients[name].credentials(HTTP_AUTHORIZATION=f"Token {key}")
    draft = AgreementFactory(slug="draft-to-delete", parties=[org_a, org_c, org_d])
    AgreementParty.objects.filter(agreement=draft, organisation=org_d).delete()  # D loses it ...
    draft.title_en = "Last words"
    draft.save()  # ... before a change D never saw
    after = latest_cursor()
    draft.delete()
    for party in ("a", "c"):
        assert kinds(clients[party], "draft-to-delete", after)[-1] == "deleted", party
    assert kinds(clients["d"], "draft-to-delete", after) == []
    for outsider in ("anonymous", "b"):
        assert kinds(clients[outsider], "draft-to-delete", world["start"]) == [], outsider
    assert kinds(clients["admin"], "draft-to-delete", after)[-1] == "deleted"

    # The same by raw SQL, parts first as the foreign keys require.
    raw = AgreementFactory(slug="raw-draft", parties=[org_a])
    after = latest_cursor()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM agreements_agreementparty WHERE agreement_id = %s", [raw.pk])
        cursor.execute("DELETE FROM agreements_agreement WHERE id = %s", [raw.pk])
    assert kinds(clients["a"], "raw-draft", after) == ["removed_from_view", "deleted"]
    assert kinds(clients["c"], "raw-draft", world["start"]) == []


def test_unpublishing_is_told_to_each_reader_as_it_sees_it(world):
    org_a, _, org_c = world["orgs"]
    agreement = AgreementFactory(signed=True, slug="to-unpublish", parties=[org_a, org_c])
    after = Change.objects.order_by("-pk").values_list("pk", flat=True).first()
    agreement.is_public = False
    agreement.save()
    assert kinds(world["clients"]["anonymous"], "to-unpublish", after) == ["removed_from_view"]
    assert kinds(world["clients"]["b"], "to-unpublish", after) == ["removed_from_view"]
    assert kinds(world["clients"]["a"], "to-unpublish", after) == ["unpublished"]
    assert kinds(world["clients"]["admin"], "to-unpublish", after) == ["unpublished"]
    after = Change.objects.order_by("-pk").values_list("pk", flat=True).first()
    agreement.is_public = True
    agreement.save()
    assert kinds(world["clients"]["anonymous"], "to-unpublish", after) == ["published"]


def test_a_party_removed_is_told_it_lost_the_record(world):
    org_a, org_b, org_c = world["orgs"]
    draft = AgreementFactory(slug="shared-draft", parties=[org_a, org_b, org_c])
    after = Change.objects.order_by("-pk").values_list("pk", flat=True).first()
    AgreementParty.objects.filter(agreement=draft, organisation=org_b).delete()
    assert kinds(world["clients"]["b"], "shared-draft", after) == ["removed_from_view"]
    assert kinds(world["clients"]["a"], "shared-draft", after) == ["updated"]
    assert kinds(world["clients"]["anonymous"], "shared-draft", after) == []


def test_writes_that_bypass_the_models_are_in_the_feed_and_rolled_back_ones_are_not(world):
    org_a, _, org_c = world["orgs"]
    agreement = AgreementFactory(signed=True, slug="bypassed", parties=[org_a, org_c])
    after = Change.objects.order_by("-pk").values_list("pk", flat=True).first()
    Agreement.objects.filter(pk=agreement.pk).update(title_en="Bulk")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE agreements_agreement SET summary_en = 'Raw' WHERE id = %s", [agreement.pk])
    with pytest.raises(RuntimeError), transaction.atomic():
        Agreement.objects.filter(pk=agreement.pk).update(title_en="Never")
        raise RuntimeError("rolled back")
    assert kinds(world["clients"]["anonymous"], "bypassed", after) == ["updated", "updated"]
    # Derived columns alone (the search document, the effective date, the time stamp) are no change.
    Agreement.objects.filter(pk=agreement.pk).update(updated_at=timezone.now())
    assert kinds(world["clients"]["anonymous"], "bypassed", after) == ["updated", "updated"]


def test_people_follow_their_own_rule(world):
    org_a, _, _ = world["orgs"]
    PersonFactory(slug="private-person", organisation=org_a, is_public=False)
    PersonFactory(slug="public-person", is_public=True)
    anonymous = [s for r, s, _k in entries(world["clients"]["anonymous"], world["start"]) if r == "people"]
    assert anonymous == ["public-person"]
    assert "private-person" in [s for r, s, _k in entries(world["clients"]["a"], world["start"]) if r == "people"]
    assert "private-person" not in [s for _r, s, _k in entries(world["clients"]["b"], world["start"])]
    Person.objects.filter(slug="public-person").update(is_public=False)
    assert entries(world["clients"]["anonymous"], world["start"], "public-person")[-1][2] == "removed_from_view"


def test_cursors_page_through_in_order(world):
    org_a, _, org_c = world["orgs"]
    for n in range(3):
        AgreementFactory(signed=True, slug=f"paged-{n}", parties=[org_a, org_c])
    client = world["clients"]["anonymous"]
    everything = feed(client, world["start"], limit=1000)["results"]
    cursors = [int(e["cursor"]) for e in everything]
    assert cursors == sorted(cursors) and len(set(cursors)) == len(cursors)
    seen, after = [], world["start"]
    while True:
        page = feed(client, after, limit=2)
        if not page["results"]:
            assert page["cursor"] == str(after)
            break
        seen += page["results"]
        assert f"after={page['cursor']}" in page["next"]
        after = int(page["cursor"])
    assert seen == everything


@pytest.mark.parametrize(
    ("query", "parameter"),
    [("after=-1", "after"), ("after=abc", "after"), ("limit=0", "limit"), ("limit=1001", "limit")],
)
def test_a_bad_cursor_or_limit_is_a_400_naming_it(world, query, parameter):
    response = world["clients"]["anonymous"].get(f"{URL}?{query}")
    assert response.status_code == 400
    assert parameter in response.json()


def test_an_empty_parameter_is_not_given(world):
    assert world["clients"]["anonymous"].get(f"{URL}?after=&limit=").status_code == 200


def test_retention_prunes_old_entries_and_an_older_cursor_is_410(world, settings):
    org_a, _, org_c = world["orgs"]
    AgreementFactory(signed=True, slug="old-news", parties=[org_a, org_c])
    Change.objects.update(changed_at=timezone.now() - datetime.timedelta(days=91))
    AgreementFactory(signed=True, slug="fresh-news", parties=[org_a, org_c])
    out = StringIO()
    call_command("prune_change_feed", stdout=out)
    assert "entries removed" in out.getvalue()
    pruned_through = ChangeFeedState.objects.get().pruned_through
    response = world["clients"]["anonymous"].get(URL, {"after": pruned_through - 1})
    assert response.status_code == 410
    assert "after" in response.json()
    fresh = feed(world["clients"]["anonymous"], pruned_through)["results"]
    assert {e["slug"] for e in fresh} == {"fresh-news"}


def test_the_feed_costs_the_same_queries_whatever_its_length(world, django_assert_max_num_queries):
    org_a, _, org_c = world["orgs"]
    client = world["clients"]["a"]
    AgreementFactory(signed=True, slug="one", parties=[org_a, org_c])
    client.get(URL)  # the token's first use is recorded
    with django_assert_max_num_queries(12) as few:
        feed(client, world["start"])
    for n in range(10):
        AgreementFactory(signed=True, slug=f"many-{n}", parties=[org_a, org_c])
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(feed(client, world["start"])["results"]) > 30


def test_a_signed_draft_keeps_its_status_history_in_the_feed(world):
    org_a, _, org_c = world["orgs"]
    draft = AgreementFactory(slug="to-sign", parties=[org_a, org_c])
    after = Change.objects.order_by("-pk").values_list("pk", flat=True).first()
    Agreement.objects.filter(pk=draft.pk).update(status=AgreementStatus.SIGNED, signed_on="2021-10-07", is_public=True)
    assert kinds(world["clients"]["b"], "to-sign", after) == ["published"]


@pytest.mark.parametrize("role", ROLES)
def test_the_feed_follows_the_visibility_rule_for_every_role(cast, role_clients, role):
    """The cast's records as each role's feed names them: hidden ones only for those who may see them."""
    cast.hidden_a.title_en = "Changed again"
    cast.hidden_a.save()
    response = role_clients[role].get(URL, {"limit": 1000})
    assert response.status_code == 200
    slugs = {(e["resource"], e["slug"]) for e in response.json()["results"]}
    assert ("agreements", cast.public_a.slug) in slugs
    assert (("agreements", cast.hidden_a.slug) in slugs) == (role in SEES_HIDDEN_OF_A)
    assert (("agreements", cast.hidden_b.slug) in slugs) == (role in SEES_HIDDEN_OF_B)
    assert (("people", cast.hidden_person_a.slug) in slugs) == (role in SEES_HIDDEN_OF_A)
    assert ("people", cast.public_person.slug) in slugs


def _change_triggers() -> dict[str, str]:
    """{trigger name: its definition} of the change feed's triggers."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger WHERE tgname LIKE %s", ["%_chg_%"])
        else:
            cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name LIKE '%_chg_%'")
        return dict(cursor.fetchall())


def test_every_table_the_api_shows_writes_the_feed_and_every_column_counts(db):
    """A migration that adds a table or a column the API shows must extend the feed's triggers (see 0020)."""
    from django.apps import apps

    triggers = _change_triggers()
    not_in_api = {"Change", "ChangeFeedState", "DataVersion", "IdempotencyKey", "ApiToken", "ExpiryReminder"}
    not_in_api |= {"Organisation_members", "LegalPage"}
    not_in_api |= {"WebhookEndpoint", "WebhookDelivery"}  # a partner's own configuration, not a record
    for model in apps.get_app_config("agreements").get_models(include_auto_created=True):
        if model.__name__.startswith("Historical") or model.__name__ in not_in_api:
            continue
        table = model._meta.db_table
        for event in ("insert", "update", "delete"):
            assert f"{table}_chg_{event}" in triggers, f"{table} writes no feed entry on {event}"
        if model._meta.auto_created or "slug" not in {f.name for f in model._meta.fields}:
            continue
        definition = triggers[f"{table}_chg_update"]
        derived = feed_triggers.NOT_CONTENT
        for field in model._meta.concrete_fields:
            if field.column not in derived:
                assert field.column in definition, f"a change of {table}.{field.column} writes no feed entry"
