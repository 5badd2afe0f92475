"""Integrity rules the database itself enforces, and the model-level rules
(clean) that need more than one row."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import translation

from agreements.choices import AgreementStatus, DatePrecision
from agreements.models import Agreement, AgreementParty, DelegationTrip, Organisation, SigningEvent, Topic

from .factories import (
    AgreementFactory,
    DelegationTripFactory,
    OrganisationFactory,
    ProgrammeItemFactory,
    SigningEventFactory,
    TopicFactory,
    TripStopFactory,
)

pytestmark = pytest.mark.django_db


def rejected_by_database(make):
    """``make`` must fail with IntegrityError; the transaction stays usable."""
    with pytest.raises(IntegrityError), transaction.atomic():
        make()


def test_slugs_are_unique():
    OrganisationFactory(slug="amz")
    rejected_by_database(lambda: OrganisationFactory(slug="amz"))
    AgreementFactory(slug="a")
    rejected_by_database(lambda: AgreementFactory(slug="a"))
    DelegationTripFactory(slug="t")
    rejected_by_database(lambda: DelegationTripFactory(slug="t"))
    SigningEventFactory(slug="s")
    rejected_by_database(lambda: SigningEventFactory(slug="s"))
    TopicFactory(slug="x")
    rejected_by_database(lambda: TopicFactory(slug="x"))


def test_empty_slug_is_rejected():
    rejected_by_database(lambda: OrganisationFactory(slug=""))
    rejected_by_database(lambda: AgreementFactory(slug=""))


def test_organisation_at_most_once_per_agreement():
    agreement = AgreementFactory()
    organisation = agreement.parties.first().organisation
    rejected_by_database(lambda: AgreementParty.objects.create(agreement=agreement, organisation=organisation))
    assert agreement.parties.count() == 2


def test_valid_until_not_before_valid_from():
    rejected_by_database(
        lambda: AgreementFactory(valid_from=datetime.date(2022, 1, 1), valid_until=datetime.date(2021, 12, 31))
    )
    agreement = AgreementFactory(valid_from=datetime.date(2022, 1, 1))
    rejected_by_database(
        lambda: Agreement.objects.filter(pk=agreement.pk).update(valid_until=datetime.date(2021, 1, 1))
    )
    AgreementFactory(valid_from=datetime.date(2022, 1, 1), valid_until=datetime.date(2022, 1, 1))


def test_trip_end_not_before_start():
    rejected_by_database(
        lambda: DelegationTripFactory(start_date=datetime.date(2021, 10, 6), end_date=datetime.date(2021, 10, 5))
    )
    trip = DelegationTripFactory()
    rejected_by_database(lambda: DelegationTrip.objects.filter(pk=trip.pk).update(end_date=datetime.date(2000, 1, 1)))


def test_signed_agreement_needs_a_date_or_an_event():
    rejected_by_database(lambda: AgreementFactory(status=AgreementStatus.SIGNED, signed_on=None))
    rejected_by_database(lambda: AgreementFactory(status=AgreementStatus.TERMINATED, signed_on=None))
    draft = AgreementFactory()
    rejected_by_database(lambda: Agreement.objects.filter(pk=draft.pk).update(status=AgreementStatus.SIGNED))
    # Either one is enough.
    AgreementFactory(status=AgreementStatus.SIGNED, signed_on=datetime.date(2021, 10, 7))
    AgreementFactory(status=AgreementStatus.SIGNED, signing_event=SigningEventFactory())


def test_unknown_choice_values_are_rejected():
    rejected_by_database(lambda: AgreementFactory(status="expired"))
    rejected_by_database(lambda: AgreementFactory(kind="treaty"))
    rejected_by_database(lambda: OrganisationFactory(kind="club"))


def test_title_needed_in_at_least_one_language():
    rejected_by_database(lambda: AgreementFactory(title_de="", title_en="", title_pl=""))
    rejected_by_database(lambda: Topic.objects.create(slug="nameless"))
    AgreementFactory(title_de="", title_en="", title_pl="Umowa")


def test_date_precision_is_consistent():
    # A month-precise date is stored as the 1st, a year-precise one as 1 January.
    rejected_by_database(
        lambda: AgreementFactory(signed_on=datetime.date(2021, 10, 7), signed_on_precision=DatePrecision.MONTH)
    )
    rejected_by_database(
        lambda: AgreementFactory(signed_on=datetime.date(2021, 10, 1), signed_on_precision=DatePrecision.YEAR)
    )
    rejected_by_database(lambda: SigningEventFactory(date=datetime.date(2021, 10, 7), date_precision="month"))
    AgreementFactory(signed_on=datetime.date(2021, 10, 1), signed_on_precision=DatePrecision.MONTH)
    AgreementFactory(signed_on=datetime.date(2021, 1, 1), signed_on_precision=DatePrecision.YEAR)


def test_organisation_cannot_be_its_own_parent():
    organisation = OrganisationFactory()
    rejected_by_database(lambda: Organisation.objects.filter(pk=organisation.pk).update(parent=organisation))


def test_organisation_that_is_a_party_cannot_be_deleted():
    agreement = AgreementFactory()
    organisation = agreement.parties.first().organisation
    from django.db.models import ProtectedError

    with pytest.raises(ProtectedError), transaction.atomic():
        organisation.delete()
    assert Organisation.objects.filter(pk=organisation.pk).exists()


def test_full_clean_reports_constraints_as_form_errors():
    agreement = AgreementFactory.build(
        slug="x", valid_from=datetime.date(2022, 1, 1), valid_until=datetime.date(2021, 1, 1)
    )
    with pytest.raises(ValidationError) as caught:
        agreement.full_clean()
    assert "“Valid until” cannot be before “valid from”." in caught.value.messages


def test_clean_truncates_a_date_to_its_precision():
    agreement = AgreementFactory.build(signed_on=datetime.date(2021, 10, 17), signed_on_precision="month")
    agreement.full_clean(validate_constraints=False)
    assert agreement.signed_on == datetime.date(2021, 10, 1)


def test_programme_item_and_stop_dates_must_lie_within_the_trip():
    trip = DelegationTripFactory(start_date=datetime.date(2021, 10, 6), end_date=datetime.date(2021, 10, 9))
    item = ProgrammeItemFactory.build(trip=trip, date=datetime.date(2021, 10, 12))
    with pytest.raises(ValidationError) as caught:
        item.full_clean()
    assert "date" in caught.value.message_dict
    ProgrammeItemFactory.build(trip=trip, date=datetime.date(2021, 10, 9)).full_clean()
    stop = TripStopFactory.build(trip=trip, arrival_date=datetime.date(2021, 10, 1))
    with pytest.raises(ValidationError):
        stop.full_clean()


def test_signing_event_within_its_trip():
    trip = DelegationTripFactory()
    event = SigningEventFactory.build(trip=trip, date=datetime.date(2022, 1, 1))
    with pytest.raises(ValidationError):
        event.full_clean()


@pytest.mark.parametrize(
    ("language", "day", "month", "year"),
    [
        ("de", "7. Oktober 2021", "Oktober 2021", "2021"),
        ("en", "Oct. 7, 2021", "October 2021", "2021"),
        ("pl", "7 października 2021", "Październik 2021", "2021"),
    ],
)
def test_dates_display_with_their_precision(language, day, month, year):
    with translation.override(language):
        assert DatePrecision.DAY.format(datetime.date(2021, 10, 7)) == day
        assert DatePrecision.MONTH.format(datetime.date(2021, 10, 1)) == month
        assert DatePrecision.YEAR.format(datetime.date(2021, 1, 1)) == year
        agreement = AgreementFactory(signed_on=datetime.date(2021, 10, 1), signed_on_precision="month")
        assert agreement.signed_on_display == month


def test_agreement_without_date_shows_its_event_date():
    event = SigningEventFactory(date=datetime.date(2021, 10, 1), date_precision="month")
    agreement = AgreementFactory(status=AgreementStatus.SIGNED, signing_event=event)
    with translation.override("en"):
        assert agreement.signed_on_display == "October 2021"


def test_translated_text_falls_back_to_the_original_language():
    agreement = AgreementFactory(title_de="", title_en="", title_pl="Umowa", language="pl")
    with translation.override("de"):
        assert agreement.title == "Umowa"
    agreement = AgreementFactory(title_de="Vereinbarung", title_en="Agreement", title_pl="", language="en")
    with translation.override("pl"):
        assert agreement.title == "Agreement"
    with translation.override("de"):
        assert agreement.title == "Vereinbarung"


def test_expired_is_derived_from_valid_until():
    past = AgreementFactory(signed=True, valid_until=datetime.date(2020, 1, 1), valid_from=datetime.date(2019, 1, 1))
    open_ended = AgreementFactory(signed=True)
    assert past.is_expired and past.display_status == "expired"
    assert not open_ended.is_expired and open_ended.display_status == "signed"


def test_first_publication_is_timestamped_once():
    agreement = AgreementFactory(signed=True)
    first = agreement.published_at
    assert first is not None
    agreement.is_public = False
    agreement.save()
    agreement.is_public = True
    agreement.save()
    assert agreement.published_at == first
    draft = AgreementFactory(is_public=True)
    assert draft.published_at is None


def test_signing_event_date_is_kept_with_precision():
    event = SigningEventFactory(date=datetime.date(2021, 1, 1), date_precision="year")
    event.refresh_from_db()
    assert event.date_display == "2021"
    assert SigningEvent.objects.filter(date_precision="year").count() == 1


def test_history_records_field_and_topic_changes():
    agreement = AgreementFactory()
    assert agreement.history.count() == 1
    agreement.title_en = "Renamed"
    agreement.save()
    agreement.topics.set([TopicFactory()])
    records = list(agreement.history.all())
    assert len(records) == 3
    assert records[1].title_en == "Renamed" and records[2].title_en != "Renamed"
    assert records[0].topics.count() == 1 and records[1].topics.count() == 0
    # Parties have their own history too.
    party = agreement.parties.first()
    party.role = "lead"
    party.save()
    assert [h.role for h in party.history.all()] == ["lead", "party"]
