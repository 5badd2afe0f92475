"""The side doors that independent testing found open (issue 12, failures
1-5): the admin's History pages, the index overview and list-filter choices
follow the same access rules as the change form."""

import pytest
from django.urls import reverse

from agreements.models import Agreement, Organisation, Person, Topic

from .helpers import FormReader, body

pytestmark = pytest.mark.django_db

TAMPERED = "Tampered through the history page"


def version_url(record) -> str:
    opts = record._meta
    version = record.history.earliest()
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_simple_history", args=[record.pk, version.history_id])


def version_form(client, record) -> dict:
    """The History → version form as a registry administrator is offered it, with its text changed."""
    form = FormReader.read(body(client.get(version_url(record))))
    assert form, "the version page offers a form"
    for name in ("title_en", "name", "name_en", "title"):
        if name in form:
            form[name] = [TAMPERED]
    return form


@pytest.mark.parametrize("which", ["hidden_a", "public_a", "org_a", "public_person", "topic"])
def test_editor_of_b_cannot_write_through_a_history_version(cast, role_clients, which):
    record = getattr(cast, which)
    form = version_form(role_clients["superuser"], record)
    history_rows = record.history.count()

    response = role_clients["editor_b"].post(version_url(record), form)

    assert response.status_code in {403, 404}
    assert record.history.count() == history_rows
    fresh = type(record).objects.get(pk=record.pk)
    assert TAMPERED not in {getattr(fresh, name, None) for name in ("title_en", "name", "name_en")}


@pytest.mark.parametrize("which", ["hidden_a", "hidden_doc_a", "hidden_person_a"])
def test_editor_of_b_cannot_read_the_history_of_hidden_records(cast, role_clients, which):
    record = getattr(cast, which)
    opts = record._meta
    client = role_clients["editor_b"]

    listing = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_history", args=[record.pk]))
    version = client.get(version_url(record))

    assert listing.status_code == 404
    assert version.status_code == 404
    for page in (body(listing), body(version)):
        assert not [secret for secret in cast.secrets if secret in page]


def test_the_history_shows_to_those_who_may_change_the_record(cast, role_clients):
    url = reverse("admin:agreements_agreement_history", args=[cast.hidden_a.pk])

    assert role_clients["editor_a"].get(url).status_code == 200
    assert role_clients["registry_admin"].get(url).status_code == 200
    # Editor B sees A's public agreement, but not its earlier states.
    public = reverse("admin:agreements_agreement_history", args=[cast.public_a.pk])
    assert role_clients["editor_b"].get(public).status_code == 403


def overview(client) -> str:
    page = body(client.get(reverse("admin:index")))
    start = page.index('id="registry-overview"')
    return page[start : page.index("</div>", start)]


def test_the_admin_index_counts_and_lists_only_what_the_viewer_may_see(cast, role_clients):
    editor_b = overview(role_clients["editor_b"])
    editor_a = overview(role_clients["editor_a"])

    assert cast.hidden_a.title_en not in editor_b
    assert '<th scope="row">Draft</th><td>0</td>' in editor_b
    assert '<th scope="row">Signed</th><td>2</td>' in editor_b  # A's public one and B's own
    assert cast.hidden_a.title_en in editor_a
    assert cast.hidden_b.title_en not in editor_a
    assert '<th scope="row">Draft</th><td>1</td>' in editor_a
    assert '<th scope="row">Signed</th><td>1</td>' in editor_a


def test_changelist_filters_offer_only_what_the_viewer_may_see(cast, role_clients):
    url = reverse("admin:agreements_agreement_changelist")

    # Iceland is the country of a party that only A's hidden draft has.
    assert "Iceland" not in body(role_clients["editor_b"].get(url))
    assert "Iceland" in body(role_clients["editor_a"].get(url))


@pytest.mark.parametrize("model", [Agreement, Organisation, Person, Topic])
def test_a_registry_admin_reverts_to_an_earlier_version(cast, role_clients, model):
    record = {Agreement: cast.public_a, Organisation: cast.org_a, Person: cast.public_person, Topic: cast.topic}[model]
    field = {Agreement: "title_en", Organisation: "name", Person: "name", Topic: "name_en"}[model]
    original = getattr(record, field)
    setattr(record, field, "A later name")
    record.save()
    client = role_clients["registry_admin"]
    form = FormReader.read(body(client.get(version_url(record))))

    response = client.post(version_url(record), form)

    assert response.status_code == 302
    assert getattr(model.objects.get(pk=record.pk), field) == original
    assert record.history.first().history_user.username == "registrar"


@pytest.mark.parametrize(
    ("role", "page", "queries"),
    [
        # The change page's "confirmed by the parties" costs 2-3 more: the documents' hashes
        # and the event for the canonical form, the confirmations (the parties are read once).
        ("editor_a", "change", 40),
        ("editor_b", "change", 30),
        ("registry_admin", "change", 36),
        ("editor_a", "index", 13),
        ("registry_admin", "index", 12),
    ],
)
def test_the_access_seam_asks_each_question_once_per_request(
    cast, role_clients, django_assert_num_queries, role, page, queries
):
    # The viewer is resolved once and each record's edit rule asked once per
    # request, however many inlines, buttons and permission checks ask.
    url = {"change": f"/admin/agreements/agreement/{cast.public_a.pk}/change/", "index": "/admin/"}[page]
    client = role_clients[role]
    client.get(url)  # the session's first request writes it
    with django_assert_num_queries(queries):
        assert client.get(url).status_code == 200


def test_the_index_overview_rows_add_up_to_the_total(cast, role_clients):
    cast.public_a.valid_until = cast.public_a.signed_on  # long past: expired
    cast.public_a.save()

    page = overview(role_clients["registry_admin"])

    assert '<th scope="row">Signed</th><td>2</td>' in page
    assert '<tr class="part"><th scope="row">– of which expired</th><td>1</td></tr>' in page
    assert '<th scope="row">Draft</th><td>1</td>' in page
    assert '<tfoot><tr><th scope="row">Total</th><td>3</td></tr></tfoot>' in page
