import datetime

import factory
from django.contrib.auth import get_user_model

from agreements.choices import AgreementStatus, DatePrecision, OrganisationKind, ProgrammeItemKind
from agreements.models import (
    Agreement,
    AgreementDocument,
    AgreementParty,
    AgreementSource,
    DelegationTrip,
    Organisation,
    Person,
    ProgrammeItem,
    Signatory,
    SigningEvent,
    Topic,
    TripStop,
)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("correct horse battery staple")


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Organisation {n}")
    short_name = factory.Sequence(lambda n: f"ORG{n}")
    slug = factory.Sequence(lambda n: f"organisation-{n}")
    kind = OrganisationKind.CLUSTER
    country = "DE"
    description_de = "Beschreibung"
    description_en = "Description"


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person

    name = factory.Sequence(lambda n: f"Person {n}")
    slug = factory.Sequence(lambda n: f"person-{n}")
    position_de = "Geschäftsführerin"
    position_en = "Managing director"
    organisation = factory.SubFactory(OrganisationFactory)
    is_public = True


class TopicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Topic

    slug = factory.Sequence(lambda n: f"topic-{n}")
    name_de = factory.Sequence(lambda n: f"Thema {n}")
    name_en = factory.Sequence(lambda n: f"Topic {n}")


class DelegationTripFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DelegationTrip

    slug = factory.Sequence(lambda n: f"trip-{n}")
    title_de = factory.Sequence(lambda n: f"Reise {n}")
    title_en = factory.Sequence(lambda n: f"Trip {n}")
    leader = factory.SubFactory(PersonFactory)
    organiser = factory.SubFactory(OrganisationFactory)
    destination_country = "PL"
    start_date = datetime.date(2021, 10, 6)
    end_date = datetime.date(2021, 10, 9)


class TripStopFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TripStop

    trip = factory.SubFactory(DelegationTripFactory)
    city = factory.Sequence(lambda n: f"City {n}")


class SigningEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SigningEvent

    slug = factory.Sequence(lambda n: f"signing-{n}")
    title_de = factory.Sequence(lambda n: f"Unterzeichnung {n}")
    title_en = factory.Sequence(lambda n: f"Signing {n}")
    date = datetime.date(2021, 10, 7)
    date_precision = DatePrecision.DAY
    city = "Katowice"
    country = "PL"
    trip = factory.SubFactory(DelegationTripFactory)


class ProgrammeItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProgrammeItem

    trip = factory.SubFactory(DelegationTripFactory)
    kind = ProgrammeItemKind.WORKSHOP
    title_de = factory.Sequence(lambda n: f"Werkstatt {n}")
    title_en = factory.Sequence(lambda n: f"Workshop {n}")
    date = factory.LazyAttribute(lambda item: item.trip.start_date)
    city = "Katowice"


class AgreementFactory(factory.django.DjangoModelFactory):
    """A draft by default; ``signed=True`` gives a public, signed agreement with two parties."""

    class Meta:
        model = Agreement
        skip_postgeneration_save = True

    class Params:
        signed = factory.Trait(
            status=AgreementStatus.SIGNED,
            signed_on=datetime.date(2021, 10, 7),
            is_public=True,
        )

    slug = factory.Sequence(lambda n: f"agreement-{n}")
    title_de = factory.Sequence(lambda n: f"Vereinbarung {n}")
    title_en = factory.Sequence(lambda n: f"Agreement {n}")
    summary_de = "Zusammenfassung"
    summary_en = "Summary"

    @factory.post_generation
    def parties(self, create, extracted, **kwargs):
        if not create:
            return
        organisations = extracted if extracted is not None else [OrganisationFactory(), OrganisationFactory()]
        for position, organisation in enumerate(organisations):
            AgreementParty.objects.create(agreement=self, organisation=organisation, position=position)

    @factory.post_generation
    def topics(self, create, extracted, **kwargs):
        if create and extracted:
            self.topics.set(extracted)


class AgreementSourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AgreementSource

    agreement = factory.SubFactory(AgreementFactory)
    title = "Press release"
    url = factory.Sequence(lambda n: f"https://example.org/news/{n}")


class AgreementDocumentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AgreementDocument

    agreement = factory.SubFactory(AgreementFactory)
    kind = "signed_scan"
    title = "Signed copy"
    file = factory.django.FileField(filename="signed.pdf", data=b"%PDF-1.4\n%%EOF\n")


class SignatoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Signatory

    agreement = factory.SubFactory(AgreementFactory)
    person = factory.SubFactory(PersonFactory)
    organisation = factory.LazyAttribute(lambda s: s.agreement.parties.first().organisation)
