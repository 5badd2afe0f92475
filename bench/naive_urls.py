"""The *naive* reference: agreements through a DRF ``ModelViewSet`` with
default nested ``ModelSerializer``s and no ``select_related``/``prefetch_related``,
as a tutorial would write it. Same rows as the product (public, signed
agreements; the product's FilterSet and pagination, so filtered and searched
scenarios answer the same rows), different query pattern: every nested
object is fetched lazily, one query per relation per row."""

from django.urls import include, path
from rest_framework import routers, serializers, viewsets

from agreements.filtersets import AgreementFilterSet
from agreements.models import (
    Agreement,
    AgreementDocument,
    AgreementParty,
    AgreementSource,
    DelegationTrip,
    Organisation,
    Person,
    Signatory,
    SigningEvent,
    Topic,
)


class OrganisationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organisation
        fields = ["slug", "name", "short_name", "country", "website"]


class PartySerializer(serializers.ModelSerializer):
    organisation = OrganisationSerializer()

    class Meta:
        model = AgreementParty
        fields = ["organisation", "role"]


class TopicSerializer(serializers.ModelSerializer):
    class Meta:
        model = Topic
        fields = ["slug", "name_de", "name_en", "name_pl"]


class TripSerializer(serializers.ModelSerializer):
    class Meta:
        model = DelegationTrip
        fields = ["slug", "title_de", "title_en", "title_pl", "start_date", "end_date"]


class SigningEventSerializer(serializers.ModelSerializer):
    trip = TripSerializer()

    class Meta:
        model = SigningEvent
        fields = ["slug", "title_de", "title_en", "title_pl", "date", "date_precision", "city", "trip"]


class PersonSerializer(serializers.ModelSerializer):
    class Meta:
        model = Person
        fields = ["slug", "name", "position_de", "position_en", "position_pl"]


class SignatorySerializer(serializers.ModelSerializer):
    person = PersonSerializer()
    organisation = OrganisationSerializer()

    class Meta:
        model = Signatory
        fields = ["person", "organisation"]


class DocumentSerializer(serializers.ModelSerializer):
    class Meta:
        model = AgreementDocument
        fields = ["title", "kind", "language", "is_public"]


class SourceSerializer(serializers.ModelSerializer):
    class Meta:
        model = AgreementSource
        fields = ["kind", "title", "url", "publisher", "published_on"]


class AgreementSerializer(serializers.ModelSerializer):
    topics = TopicSerializer(many=True)
    parties = PartySerializer(many=True)
    signatories = SignatorySerializer(many=True)
    signing_event = SigningEventSerializer()
    documents = DocumentSerializer(many=True)
    sources = SourceSerializer(many=True)

    class Meta:
        model = Agreement
        fields = [
            "id", "slug", "title_de", "title_en", "title_pl", "kind", "status", "summary_de", "summary_en",
            "summary_pl", "objectives_de", "objectives_en", "objectives_pl", "language", "topics", "parties",
            "signatories", "signed_on", "signed_on_precision", "signing_event", "valid_from", "valid_until",
            "documents", "sources", "is_public", "published_at", "created_at", "updated_at",
        ]  # fmt: skip


class AgreementViewSet(viewsets.ModelViewSet):
    queryset = Agreement.objects.filter(is_public=True, status__in=["signed", "terminated"]).order_by(
        "-signed_on", "-id"
    )
    serializer_class = AgreementSerializer
    filterset_class = AgreementFilterSet
    lookup_field = "slug"


router = routers.DefaultRouter()
router.register("agreements", AgreementViewSet, basename="agreement")
urlpatterns = [path("api/v1/", include(router.urls))]
