"""Agreement lifecycle: services (every transition, legal and illegal) and the admin actions."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from agreements import services
from agreements.models import Agreement

from .factories import AgreementFactory, OrganisationFactory, SigningEventFactory

pytestmark = pytest.mark.django_db
DAY = datetime.date(2021, 10, 7)


def test_draft_to_negotiating_to_draft_to_signed_to_terminated(admin_user):
    agreement = AgreementFactory()
    assert services.agreement_start_negotiation(agreement=agreement, user=admin_user).status == "negotiating"
    assert services.agreement_back_to_draft(agreement=agreement, user=admin_user).status == "draft"
    signed = services.agreement_sign(
        agreement=agreement, signed_on=datetime.date(2021, 10, 19), precision="month", user=admin_user
    )
    assert (signed.status, signed.signed_on, signed.signed_on_display) == (
        "signed",
        datetime.date(2021, 10, 1),
        "October 2021",
    )
    ended = services.agreement_terminate(
        agreement=agreement, terminated_on=datetime.date(2023, 1, 1), reason="Network dissolved", user=admin_user
    )
    assert ended.status == "terminated" and ended.termination_reason == "Network dissolved"
    history = list(Agreement.history.filter(id=agreement.pk))
    assert [h.history_change_reason for h in history[:4]] == [
        "terminated",
        "signed",
        "back to draft",
        "negotiation started",
    ]
    assert history[0].history_user == admin_user


def test_sign_with_an_event_instead_of_a_date():
    agreement = AgreementFactory(status="negotiating")
    event = SigningEventFactory()
    assert services.agreement_sign(agreement=agreement, signing_event=event).signing_event == event


@pytest.mark.parametrize(
    ("status", "call"),
    [
        ("draft", lambda a: services.agreement_terminate(agreement=a, terminated_on=DAY, reason="x")),
        ("negotiating", lambda a: services.agreement_start_negotiation(agreement=a)),
        ("signed", lambda a: services.agreement_sign(agreement=a, signed_on=DAY)),
        ("signed", lambda a: services.agreement_back_to_draft(agreement=a)),
        ("terminated", lambda a: services.agreement_start_negotiation(agreement=a)),
        ("terminated", lambda a: services.agreement_terminate(agreement=a, terminated_on=DAY, reason="x")),
    ],
)
def test_illegal_transitions_are_refused_and_change_nothing(status, call):
    extra = {"signed_on": DAY} if status in ("signed", "terminated") else {}
    if status == "terminated":
        extra |= {"terminated_on": DAY, "termination_reason": "ended"}
    agreement = AgreementFactory(status=status, **extra)
    before = agreement.history.count()
    with pytest.raises(ValidationError, match="cannot become"):
        call(agreement)
    agreement.refresh_from_db()
    assert agreement.status == status and agreement.history.count() == before


def test_signing_needs_two_parties_and_a_date_or_event():
    lonely = AgreementFactory(parties=[OrganisationFactory()])
    with pytest.raises(ValidationError, match="at least two parties"):
        services.agreement_sign(agreement=lonely, signed_on=DAY)
    agreement = AgreementFactory()
    with pytest.raises(ValidationError) as caught:
        services.agreement_sign(agreement=agreement)
    assert "signed_on" in caught.value.message_dict
    agreement.refresh_from_db()
    assert agreement.status == "draft"


def test_termination_needs_a_reason_and_a_sensible_date():
    agreement = AgreementFactory(signed=True)
    with pytest.raises(ValidationError):
        services.agreement_terminate(agreement=agreement, terminated_on=DAY, reason="  ")
    with pytest.raises(ValidationError, match="before it was signed"):
        services.agreement_terminate(agreement=agreement, terminated_on=datetime.date(2000, 1, 1), reason="x")
    with pytest.raises(IntegrityError), transaction.atomic():
        Agreement.objects.filter(pk=agreement.pk).update(status="terminated")


def test_renewal_links_both_ways_and_copies_parties():
    original = AgreementFactory(signed=True, slug="original", title_en="Original")
    renewal = services.agreement_succeed(predecessor=original, succession="renews", slug="renewal-2025")
    services.agreement_succeed(predecessor=original, succession="amends", slug="amendment")
    assert renewal.status == "draft" and renewal.predecessor == original and renewal.title_en == "Original"
    assert set(renewal.parties.values_list("organisation", flat=True)) == set(
        original.parties.values_list("organisation", flat=True)
    )
    assert [a.slug for a in original.chain()] == ["original", "renewal-2025", "amendment"]
    assert [a.slug for a in renewal.chain()] == ["original", "renewal-2025"]
    with pytest.raises(ValidationError):
        services.agreement_succeed(predecessor=renewal, succession="renews", slug="too-early")


def test_admin_offers_only_the_legal_actions(admin_client):
    agreement = AgreementFactory()
    page = admin_client.get(
        f"/admin/agreements/agreement/{agreement.pk}/change/", HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert "lifecycle/negotiate/" in page and "lifecycle/sign/" in page
    assert "lifecycle/terminate/" not in page and "lifecycle/renew/" not in page


def test_admin_sign_and_terminate(admin_client, admin_user):
    agreement = AgreementFactory()
    base = f"/admin/agreements/agreement/{agreement.pk}/lifecycle"
    assert admin_client.get(f"{base}/sign/").status_code == 200
    response = admin_client.post(f"{base}/sign/", {"signed_on": "2021-10-07", "precision": "day"})
    assert response.status_code == 302
    agreement.refresh_from_db()
    assert agreement.status == "signed"
    response = admin_client.post(f"{base}/terminate/", {"terminated_on": "2024-01-01", "reason": ""})
    assert response.status_code == 200 and "errorlist" in response.content.decode()
    response = admin_client.post(f"{base}/terminate/", {"terminated_on": "2024-01-01", "reason": "Expired"})
    assert response.status_code == 302
    agreement.refresh_from_db()
    assert agreement.status == "terminated"


def test_admin_refuses_an_illegal_action_typed_by_hand(admin_client):
    agreement = AgreementFactory()
    response = admin_client.post(
        f"/admin/agreements/agreement/{agreement.pk}/lifecycle/terminate/",
        {"terminated_on": "2024-01-01", "reason": "x"},
        HTTP_ACCEPT_LANGUAGE="en",
        follow=True,
    )
    assert "is not possible" in response.content.decode()
    agreement.refresh_from_db()
    assert agreement.status == "draft"
    unknown = admin_client.get(
        f"/admin/agreements/agreement/{agreement.pk}/lifecycle/nonsense/", HTTP_ACCEPT_LANGUAGE="en", follow=True
    )
    assert unknown.redirect_chain == [(f"/admin/agreements/agreement/{agreement.pk}/change/", 302)]
    assert "“nonsense” is not possible" in unknown.content.decode()


def test_admin_sign_without_a_date_or_an_event_is_a_form_error(admin_client):
    agreement = AgreementFactory()
    response = admin_client.post(
        f"/admin/agreements/agreement/{agreement.pk}/lifecycle/sign/", {"precision": "day"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 200
    assert response.context["form"].errors["signed_on"] == [
        "A signed agreement needs a signing date or a signing event."
    ]
    agreement.refresh_from_db()
    assert agreement.status == "draft"


def test_admin_sign_without_two_parties_shows_the_rule(admin_client):
    agreement = AgreementFactory(parties=[OrganisationFactory()])
    response = admin_client.post(
        f"/admin/agreements/agreement/{agreement.pk}/lifecycle/sign/",
        {"signed_on": "2021-10-07", "precision": "day"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    assert "at least two parties" in response.content.decode()


def test_status_is_read_only_in_the_change_form(admin_client):
    agreement = AgreementFactory()
    form = admin_client.get(f"/admin/agreements/agreement/{agreement.pk}/change/").context["adminform"].form
    assert "status" not in form.fields


def test_both_public_pages_show_the_chain(client):
    original = AgreementFactory(signed=True, slug="original", title_en="Original pact")
    renewal = services.agreement_succeed(predecessor=original, succession="renews", slug="renewal")
    services.agreement_sign(agreement=renewal, signed_on=datetime.date(2025, 1, 1))
    Agreement.objects.filter(pk=renewal.pk).update(is_public=True)
    for slug in ("original", "renewal"):
        html = client.get(f"/en/agreements/{slug}/").content.decode()
        assert "Renewals and amendments" in html and "Renews" in html
    draft = services.agreement_succeed(predecessor=original, succession="amends", slug="secret-amendment")
    html = client.get("/en/agreements/original/").content.decode()
    assert draft.slug not in html


def change_form_data(admin_client, agreement):
    """What the browser would post back: the change form as loaded, unchanged."""
    response = admin_client.get(f"/admin/agreements/agreement/{agreement.pk}/change/")
    form = response.context["adminform"].form
    data = {name: ("" if value is None else value) for name, value in form.initial.items() if name in form.fields}
    data["loaded_version"] = form.fields["loaded_version"].initial
    data["topics"] = [t.pk for t in agreement.topics.all()]
    for formset in response.context["inline_admin_formsets"]:
        management = formset.formset.management_form
        prefix = formset.formset.prefix
        data |= {f"{prefix}-{k}": v for k, v in management.initial.items()}
        for index, inline in enumerate(formset.formset.forms):
            for name, field in inline.fields.items():
                value = inline.initial.get(name, field.initial)
                data[f"{prefix}-{index}-{name}"] = "" if value is None else getattr(value, "pk", value)
    return data


def test_a_concurrent_edit_is_refused_naming_who_changed_it(admin_client, django_user_model):
    agreement = AgreementFactory(title_en="Original title")
    mine = change_form_data(admin_client, agreement)
    # Meanwhile a colleague saves a change.
    colleague = django_user_model.objects.create_user("colleague", is_staff=True)
    agreement.refresh_from_db()
    agreement.summary_en = "Colleague's summary"
    agreement._history_user = colleague
    agreement.save()
    mine["title_en"] = "My title"
    response = admin_client.post(f"/admin/agreements/agreement/{agreement.pk}/change/", mine, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "changed meanwhile by colleague" in response.content.decode()
    agreement.refresh_from_db()
    assert (agreement.title_en, agreement.summary_en) == ("Original title", "Colleague's summary")


def test_an_unconflicted_edit_saves(admin_client):
    agreement = AgreementFactory(title_en="Original title")
    mine = change_form_data(admin_client, agreement)
    mine["title_en"] = "My title"
    response = admin_client.post(f"/admin/agreements/agreement/{agreement.pk}/change/", mine)
    assert response.status_code == 302, response.context["adminform"].form.errors
    agreement.refresh_from_db()
    assert agreement.title_en == "My title"
