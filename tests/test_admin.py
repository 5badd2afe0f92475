"""The staff admin: every page answers, changelists run a constant number of
queries, validation across inlines, publish actions and change history."""

import datetime

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from agreements.models import (
    Agreement,
    AgreementDocument,
    ApiToken,
    DelegationTrip,
    LegalPage,
    Organisation,
    Person,
    ProgrammeItem,
    SigningEvent,
    Topic,
    WebhookDelivery,
    WebhookEndpoint,
)
from agreements.services import token_create

from .factories import (
    AgreementDocumentFactory,
    AgreementFactory,
    DelegationTripFactory,
    OrganisationFactory,
    PersonFactory,
    ProgrammeItemFactory,
    SigningEventFactory,
    TopicFactory,
)
from .helpers import agreement_form, organisation_form, parties

pytestmark = pytest.mark.django_db

FACTORIES = {
    Organisation: OrganisationFactory,
    Person: PersonFactory,
    Topic: TopicFactory,
    Agreement: lambda: AgreementFactory(signed=True, topics=[TopicFactory()]),
    AgreementDocument: AgreementDocumentFactory,
    SigningEvent: SigningEventFactory,
    DelegationTrip: DelegationTripFactory,
    ProgrammeItem: ProgrammeItemFactory,
    ApiToken: lambda: token_create(name="partner system", organisation=OrganisationFactory())[0],
}
REGISTERED = [model for model in admin.site._registry if model._meta.app_label == "agreements"]


@pytest.fixture
def admin_client(admin_client):
    """Staff who read English (the admin follows Accept-Language)."""
    admin_client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return admin_client


def url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def test_every_domain_model_with_a_page_of_its_own_is_registered():
    # The legal pages are three rows that are always there (tests/test_public_site.py); the
    # webhook endpoints and their delivery log have their own tests (tests/test_webhooks.py).
    assert set(REGISTERED) == {*FACTORIES, LegalPage, WebhookEndpoint, WebhookDelivery}


@pytest.mark.parametrize("model", FACTORIES, ids=lambda m: m.__name__)
def test_changelist_add_change_and_history_pages_answer(admin_client, model):
    obj = FACTORIES[model]()
    for page in (
        url(model, "changelist"),
        url(model, "add"),
        url(model, "change", obj.pk),
        url(model, "history", obj.pk),
        url(model, "changelist") + "?q=a",
    ):
        response = admin_client.get(page)
        assert response.status_code == 200, page


def test_founding_data_pages_answer(admin_client, founding_data):
    for model in FACTORIES:
        for obj in model.objects.all():
            assert admin_client.get(url(model, "change", obj.pk)).status_code == 200


def count_queries(client, page) -> int:
    with CaptureQueriesContext(connection) as context:
        response = client.get(page)
    assert response.status_code == 200
    return len(context.captured_queries)


@pytest.mark.parametrize("model", FACTORIES, ids=lambda m: m.__name__)
def test_changelist_queries_do_not_grow_with_rows(admin_client, model):
    FACTORIES[model]()
    one = count_queries(admin_client, url(model, "changelist"))
    for _ in range(29):
        FACTORIES[model]()
    assert model.objects.count() == 30
    thirty = count_queries(admin_client, url(model, "changelist"))
    assert one == thirty, f"{model.__name__}: {one} queries for 1 row, {thirty} for 30"


def test_changelist_filters_and_date_hierarchy(admin_client):
    AgreementFactory(signed=True, title_en="Alpha accord", signed_on=datetime.date(2021, 10, 7))
    AgreementFactory(title_en="Beta draft")
    response = admin_client.get(url(Agreement, "changelist"), {"status__exact": "signed"})
    assert "Alpha accord" in response.content.decode() or "Vereinbarung" in response.content.decode()
    assert response.context["cl"].result_count == 1
    response = admin_client.get(url(Agreement, "changelist"), {"signed_on__year": "2021"})
    assert response.context["cl"].result_count == 1
    response = admin_client.get(url(Agreement, "changelist"), {"q": "Beta"})
    assert response.context["cl"].result_count == 1


def test_autocomplete_finds_organisations(admin_client):
    OrganisationFactory(name="Silesia Automotive", short_name="SA&AM")
    OrganisationFactory(name="Other")
    response = admin_client.get(
        reverse("admin:autocomplete"),
        {"term": "silesia", "app_label": "agreements", "model_name": "agreementparty", "field_name": "organisation"},
    )
    assert response.status_code == 200
    assert [r["text"] for r in response.json()["results"]] == ["Silesia Automotive (SA&AM)"]


def test_publish_and_unpublish_actions_record_history(admin_client, admin_user):
    agreements = [AgreementFactory(signed=True, is_public=False) for _ in range(2)]
    ids = [a.pk for a in agreements]
    response = admin_client.post(
        url(Agreement, "changelist"), {"action": "publish", "_selected_action": ids}, follow=True
    )
    assert response.status_code == 200
    assert Agreement.objects.filter(pk__in=ids, is_public=True).count() == 2
    assert all(a.published_at for a in Agreement.objects.filter(pk__in=ids))
    latest = Agreement.history.filter(id=ids[0]).first()
    assert latest.is_public and latest.history_user == admin_user
    admin_client.post(url(Agreement, "changelist"), {"action": "unpublish", "_selected_action": ids})
    assert Agreement.objects.filter(pk__in=ids, is_public=False).count() == 2


def test_edit_is_recorded_in_history_with_the_user(admin_client, admin_user):
    organisation = OrganisationFactory(name="Old name")
    response = admin_client.post(
        url(Organisation, "change", organisation.pk), organisation_form(organisation, name="New name")
    )
    assert response.status_code == 302
    history = list(organisation.history.all())
    assert [h.name for h in history] == ["New name", "Old name"]
    assert history[0].history_user == admin_user and history[0].history_type == "~"
    page = admin_client.get(url(Organisation, "history", organisation.pk)).content.decode()
    assert admin_user.username in page  # who changed it
    assert "Old name" in page and "New name" in page  # what changed


def test_form_reports_database_constraints(admin_client):
    OrganisationFactory(slug="amz")
    other = OrganisationFactory()
    response = admin_client.post(url(Organisation, "change", other.pk), organisation_form(other, slug="amz"))
    assert response.status_code == 200
    assert "An organisation with this slug already exists." in response.content.decode()


def test_signed_agreement_needs_two_distinct_parties_in_the_admin(admin_client):
    a, b = OrganisationFactory(), OrganisationFactory()
    response = admin_client.post(url(Agreement, "add"), agreement_form(**parties(a)))
    assert response.status_code == 200
    assert "A signed agreement needs at least two parties." in response.content.decode()
    response = admin_client.post(url(Agreement, "add"), agreement_form(**parties(a, a)))
    assert response.status_code == 200
    assert response.context["inline_admin_formsets"][0].formset.non_form_errors()
    assert not Agreement.objects.exists()

    response = admin_client.post(url(Agreement, "add"), agreement_form(**parties(a, b)))
    assert response.status_code == 302
    agreement = Agreement.objects.get(slug="new-agreement")
    assert agreement.parties.count() == 2


def test_draft_may_have_fewer_parties(admin_client):
    response = admin_client.post(url(Agreement, "add"), agreement_form(status="draft", signed_on=""))
    assert response.status_code == 302


def test_signed_agreement_without_date_or_event_is_a_form_error(admin_client):
    a, b = OrganisationFactory(), OrganisationFactory()
    response = admin_client.post(url(Agreement, "add"), agreement_form(signed_on="", **parties(a, b)))
    assert response.status_code == 200
    assert "A signed agreement needs a signing date or a signing event." in response.content.decode()
    assert not Agreement.objects.exists()


def test_signing_event_lists_its_agreements(admin_client):
    event = SigningEventFactory()
    AgreementFactory(signed=True, signing_event=event, title_en="Signed on the spot")
    page = admin_client.get(url(SigningEvent, "change", event.pk)).content.decode()
    assert "Signed on the spot" in page


def test_anonymous_and_non_staff_are_sent_to_login(client, django_user_model):
    response = client.get(url(Agreement, "changelist"))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    client.force_login(django_user_model.objects.create_user("plain", password="x" * 12))
    response = client.get(url(Agreement, "changelist"))
    assert response.status_code == 302


def test_admin_pages_are_not_indexed(admin_client):
    page = admin_client.get("/admin/").content.decode()
    assert '<meta name="robots" content="noindex, nofollow">' in page
    assert "Cooperation Agreement Registry" in page


def test_admin_index_overview(admin_client):
    import datetime as dt

    from django.utils import timezone

    today = timezone.localdate()
    AgreementFactory(
        signed=True,
        title_en="Ends soon",
        valid_from=today - dt.timedelta(days=400),
        valid_until=today + dt.timedelta(days=30),
    )
    AgreementFactory(signed=True, title_en="Ends later", valid_until=today + dt.timedelta(days=300))
    AgreementFactory(title_en="A draft")
    page = admin_client.get("/admin/").content.decode()
    assert "Expiring within 90 days" in page
    overview = page[page.index('id="registry-overview"') :]
    assert "Ends soon" in overview and "Ends later" not in overview.split("Latest changes")[0]
    assert '<th scope="row">Draft</th><td>1</td>' in overview
    assert '<th scope="row">Signed</th><td>2</td>' in overview
    assert "A draft" in overview.split("Latest changes")[1]
