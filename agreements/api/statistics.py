"""GET /api/v1/statistics/: counts of the signed agreements the caller may
see (``agreements.statistics``), with the agreement list's filters."""

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.response import Response

from agreements import statistics
from agreements.filtersets import AgreementFilterSet
from agreements.models import Agreement, DataVersion

from .views import ERRORS, ConditionalGetMixin


class YearCountSerializer(serializers.Serializer):
    year = serializers.IntegerField()
    agreements = serializers.IntegerField(min_value=1)


class KindCountSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="cooperation_agreement, memorandum_of_understanding, …")
    label = serializers.CharField(help_text="The kind in the answer's language.")
    agreements = serializers.IntegerField(min_value=1)


class TopicCountSerializer(serializers.Serializer):
    topic = serializers.SlugField()
    name = serializers.CharField()
    agreements = serializers.IntegerField(min_value=1)


class CountryCountSerializer(serializers.Serializer):
    country = serializers.CharField(help_text="ISO 3166-1 alpha-2")
    name = serializers.CharField()
    agreements = serializers.IntegerField(min_value=1)


class CountryPairCountSerializer(serializers.Serializer):
    countries = serializers.ListField(
        child=serializers.CharField(), min_length=2, max_length=2, help_text="Two ISO codes in alphabetical order."
    )
    names = serializers.ListField(child=serializers.CharField(), min_length=2, max_length=2)
    agreements = serializers.IntegerField(min_value=1, help_text="Agreements with parties in both countries.")


class OrganisationCountSerializer(serializers.Serializer):
    country = serializers.CharField(help_text="ISO 3166-1 alpha-2")
    kind = serializers.CharField()
    organisations = serializers.IntegerField(min_value=1)


class ActivitySerializer(serializers.Serializer):
    year = serializers.IntegerField()
    trips = serializers.IntegerField(min_value=0, help_text="Delegation trips (by start) with a counted signing.")
    signing_events = serializers.IntegerField(min_value=0, help_text="Signing events of counted agreements.")


class StatisticsSerializer(serializers.Serializer):
    """Signed agreements the caller may see (filtered as the agreement list), counted."""

    agreements = serializers.IntegerField(min_value=0, help_text="Signed agreements counted.")
    by_year = YearCountSerializer(many=True, help_text="By year of the effective signing date.")
    by_kind = KindCountSerializer(many=True)
    by_topic = TopicCountSerializer(many=True)
    by_country = CountryCountSerializer(many=True, help_text="By the country of a party (once per agreement).")
    by_country_pair = CountryPairCountSerializer(
        many=True, help_text="Cross-border links: each pair of distinct party countries once per agreement."
    )
    organisations = OrganisationCountSerializer(many=True, help_text="Parties of the counted agreements.")
    activity_by_year = ActivitySerializer(many=True)

    @staticmethod
    def from_tables(data: dict) -> dict:
        """The answer from ``agreements.statistics.compute()``'s tables."""
        return {
            "agreements": data["total"],
            "by_year": [{"year": year, "agreements": n} for year, n in data["by_year"]],
            "by_kind": [{"kind": kind, "label": label, "agreements": n} for kind, label, n in data["by_kind"]],
            "by_topic": [{"topic": slug, "name": name, "agreements": n} for slug, name, n in data["by_topic"]],
            "by_country": [{"country": code, "name": name, "agreements": n} for code, name, n in data["by_country"]],
            "by_country_pair": [
                {"countries": [a, b], "names": [name_a, name_b], "agreements": n}
                for a, b, name_a, name_b, n in data["by_country_pair"]
            ],
            "organisations": [
                {"country": code, "kind": kind, "organisations": n}
                for code, _country, kind, _label, n in data["organisations"]
            ],
            "activity_by_year": [
                {"year": year, "trips": trips, "signing_events": events} for year, trips, events in data["activity"]
            ],
        }


class StatisticsView(ConditionalGetMixin, generics.GenericAPIView):
    """Counts of the signed agreements the caller may see, filtered as the
    agreement list: by year, kind, topic, country and pair of countries, with
    the organisations, trips and signing events they name. Anonymous callers
    count public agreements; a partner token also its organisation's."""

    queryset = Agreement.objects.all()
    serializer_class = StatisticsSerializer
    filterset_class = AgreementFilterSet
    pagination_class = None

    def filter_queryset(self, queryset):
        # The list's filters always apply (the mixin skips them but for a viewset's "list").
        return generics.GenericAPIView.filter_queryset(self, queryset)

    @extend_schema(operation_id="statistics", filters=True, responses={200: StatisticsSerializer, **ERRORS})
    def get(self, request, *args, **kwargs):
        etag = f'"{self._digest(request, "statistics", DataVersion.current(), timezone.localdate())}"'
        return self._conditional(request, etag, self._statistics, args, kwargs)

    def _statistics(self, request, *args, **kwargs):
        data = statistics.compute(self.filter_queryset(self.get_queryset()))
        return Response(self.get_serializer(StatisticsSerializer.from_tables(data)).data)
