"""API representations. Reading: translated text in the request's language
(with fallback) and related records nested small (slug, name, url). Writing
(staff only): every language's field, related records by slug, and the same
model validation (``full_clean``) the admin applies, so bad input is a 400."""

import functools
from urllib.parse import quote

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import get_script_prefix
from django.urls import reverse as django_reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import get_error_detail

from agreements.access import Viewer
from agreements.choices import DatePrecision, PartyRole
from agreements.models import (
    ORGANISATION_PROFILE_FIELDS,
    Agreement,
    AgreementParty,
    DelegationTrip,
    Organisation,
    Person,
    SigningEvent,
    Topic,
)
from agreements.services import agreement_save, agreement_status_kept_check


class SlugRelatedField(serializers.SlugRelatedField):
    """Related records by slug; a value with a NUL character is simply not found
    (PostgreSQL cannot compare it, so it must not reach the query)."""

    def to_internal_value(self, data):
        if isinstance(data, str) and "\x00" in data:
            self.fail("does_not_exist", slug_name=self.slug_field, value=data.replace("\x00", "\\0"))
        return super().to_internal_value(data)


# Addresses: a list page links hundreds of nested records. Reversing a URL
# for each was a third of the time spent serialising a page, so each route is
# reversed once (per script prefix) with a placeholder, and the scheme and
# host are read once per request.
_PLACEHOLDERS = {str: "__key__", int: "987654321"}


@functools.lru_cache(maxsize=128)
def _route(view_name: str, kwarg: str, kind: type, script_prefix: str) -> str:
    return django_reverse(view_name, kwargs={kwarg: _PLACEHOLDERS[kind]})


def absolute(request, path: str) -> str:
    """``request.build_absolute_uri(path)`` for a path that starts with "/"."""
    if request is None:
        return path
    origin = getattr(request, "_registry_origin", None)
    if origin is None:
        origin = request._registry_origin = request.build_absolute_uri("/")[:-1]
    return origin + path


def api_address(request, view_name: str, kwarg: str, value) -> str:
    kind = int if isinstance(value, int) else str
    path = _route(view_name, kwarg, kind, get_script_prefix()).replace(_PLACEHOLDERS[kind], quote(str(value), safe=""))
    return absolute(request, path)


class SlugAddressField(serializers.HyperlinkedIdentityField):
    """A record's API address from its slug (see ``api_address``)."""

    def get_url(self, obj, view_name, request, format):
        if obj.pk is None:
            return None
        return api_address(request, view_name, "slug", obj.slug)


def api_url(view_name: str):
    return SlugAddressField(view_name=f"api:{view_name}-detail", lookup_field="slug")


# --------------------------------------------------------------------------
# Small nested forms


class OrganisationSummarySerializer(serializers.ModelSerializer):
    url = api_url("organisation")
    country = serializers.CharField(source="country.code")

    class Meta:
        model = Organisation
        fields = ["slug", "name", "short_name", "country", "url"]


class TopicSummarySerializer(serializers.ModelSerializer):
    url = api_url("topic")
    name = serializers.CharField()

    class Meta:
        model = Topic
        fields = ["slug", "name", "url"]


class PersonSummarySerializer(serializers.ModelSerializer):
    url = api_url("person")
    position = serializers.CharField()

    class Meta:
        model = Person
        fields = ["slug", "name", "position", "url"]


class SigningEventSummarySerializer(serializers.ModelSerializer):
    url = api_url("signingevent")
    title = serializers.CharField()

    class Meta:
        model = SigningEvent
        fields = ["slug", "title", "date", "date_precision", "city", "url"]


class TripSummarySerializer(serializers.ModelSerializer):
    url = api_url("trip")
    title = serializers.CharField()

    class Meta:
        model = DelegationTrip
        fields = ["slug", "title", "start_date", "end_date", "url"]


class PartySerializer(serializers.ModelSerializer):
    organisation = OrganisationSummarySerializer()

    class Meta:
        model = AgreementParty
        fields = ["organisation", "role"]


class SignatorySerializer(serializers.Serializer):
    person = PersonSummarySerializer()
    organisation = serializers.SlugField(source="organisation.slug")


class DocumentSerializer(serializers.Serializer):
    title = serializers.CharField()
    kind = serializers.CharField()
    language = serializers.CharField()
    is_public = serializers.BooleanField()
    content_type = serializers.CharField()
    size = serializers.IntegerField(help_text="In bytes.")
    file_url = serializers.SerializerMethodField(help_text="Download address (send your token).")

    def get_file_url(self, document) -> str:
        return api_address(self.context.get("request"), "api:document-file", "pk", document.pk)


class SourceSerializer(serializers.Serializer):
    kind = serializers.CharField()
    title = serializers.CharField()
    url = serializers.URLField()
    publisher = serializers.CharField()
    published_on = serializers.DateField(allow_null=True)


# --------------------------------------------------------------------------
# Agreements


class AgreementSerializer(serializers.ModelSerializer):
    url = api_url("agreement")
    web_url = serializers.SerializerMethodField(help_text="The public page (null while the agreement is not public).")
    title = serializers.CharField()
    summary = serializers.CharField()
    objectives = serializers.CharField()
    expired = serializers.BooleanField(source="is_expired", help_text="Derived: signed, and valid_until has passed.")
    topics = TopicSummarySerializer(many=True)
    parties = PartySerializer(many=True)
    signatories = SignatorySerializer(many=True, source="visible_signatories")
    signed_on_display = serializers.CharField(
        help_text="The effective signing date (signed_date) as far as it is known, in the response language "
        "(e.g. 'October 2021')."
    )
    signing_event = SigningEventSummarySerializer(allow_null=True)
    trip = serializers.SerializerMethodField()
    documents = DocumentSerializer(many=True, source="visible_documents")
    sources = SourceSerializer(many=True)

    class Meta:
        model = Agreement
        fields = [
            "id",
            "slug",
            "url",
            "web_url",
            "title",
            "kind",
            "status",
            "expired",
            "summary",
            "objectives",
            "language",
            "topics",
            "parties",
            "signatories",
            "signed_date",
            "signed_date_precision",
            "signed_on",
            "signed_on_precision",
            "signed_on_display",
            "signing_event",
            "trip",
            "valid_from",
            "valid_until",
            "indefinite",
            "documents",
            "sources",
            "is_public",
            "published_at",
            "created_at",
            "updated_at",
        ]

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_web_url(self, obj):
        if not obj.is_published:
            return None
        return absolute(self.context["request"], obj.get_absolute_url())

    @extend_schema_field(TripSummarySerializer(allow_null=True))
    def get_trip(self, obj):
        trip = obj.signing_event.trip if obj.signing_event_id else None
        return self._trip_summary.to_representation(trip) if trip else None

    @functools.cached_property
    def _trip_summary(self):
        # One for the whole list: building a serializer per agreement costs more than using it.
        return TripSummarySerializer(context=self.context)


class StrictJSONTypesMixin:
    """A JSON write is typed as the schema says: a text field takes a string, a
    yes/no field ``true`` or ``false`` (DRF alone would store 0 as "0" or
    False). Form data (the browsable API) keeps DRF's own parsing."""

    def to_internal_value(self, data):
        request = self.context.get("request")
        if request is not None and request.content_type.startswith("application/json") and isinstance(data, dict):
            errors = {}
            for name, field in self.fields.items():
                value = data.get(name)
                if field.read_only or value is None:
                    continue
                if isinstance(field, serializers.BooleanField) and not isinstance(value, bool):
                    errors[name] = [_("Must be true or false.")]
                elif isinstance(field, serializers.CharField) and not isinstance(value, str):
                    errors[name] = [_("Must be text.")]
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


class ModelCleanMixin:
    """Run the model's own validation (fields, clean(), database constraints)
    before saving, and report its errors per field as a 400."""

    clean_exclude: tuple[str, ...] = ()

    def validate(self, attrs):
        attrs = super().validate(attrs)
        instance = self.instance or self.Meta.model()
        plain = {k: v for k, v in attrs.items() if k not in self.clean_exclude}
        for name, value in plain.items():
            setattr(instance, name, value)
        try:
            instance.full_clean()
        except DjangoValidationError as exc:
            raise serializers.ValidationError(get_error_detail(exc)) from exc
        # clean() may normalise values (e.g. a date to its precision): keep them.
        return {**attrs, **{name: getattr(instance, name) for name in plain}}


class PartyWriteSerializer(StrictJSONTypesMixin, serializers.Serializer):
    organisation = SlugRelatedField(slug_field="slug", queryset=Organisation.objects.all())
    role = serializers.ChoiceField(choices=AgreementParty._meta.get_field("role").choices, default="party")


class AgreementWriteSerializer(StrictJSONTypesMixin, ModelCleanMixin, serializers.ModelSerializer):
    topics = SlugRelatedField(slug_field="slug", queryset=Topic.objects.all(), many=True, required=False)
    signing_event = SlugRelatedField(
        slug_field="slug", queryset=SigningEvent.objects.all(), required=False, allow_null=True
    )
    parties = PartyWriteSerializer(many=True, required=False)
    clean_exclude = ("topics", "parties")

    class Meta:
        model = Agreement
        fields = [
            "slug",
            "kind",
            "status",
            "language",
            "is_public",
            *Agreement.title.fields,
            *Agreement.summary.fields,
            *Agreement.objectives.fields,
            "signed_on",
            "signed_on_precision",
            "signing_event",
            "valid_from",
            "valid_until",
            "indefinite",
            "topics",
            "parties",
        ]
        # Uniqueness is checked by full_clean with a message of our own.
        extra_kwargs = {"slug": {"validators": []}}

    def validate(self, attrs):
        # Before the model's clean(), which would report a changed status by its other fields.
        stored = self.instance.status if self.instance is not None else None
        try:
            agreement_status_kept_check(stored=stored, status=attrs.get("status", stored))
        except DjangoValidationError as exc:
            raise serializers.ValidationError(get_error_detail(exc)) from exc
        return super().validate(attrs)

    def create(self, validated_data):
        return self._save(Agreement(), validated_data)

    def update(self, instance, validated_data):
        return self._save(instance, validated_data)

    def _save(self, agreement, data):
        """Through the one write path (``services.agreement_save``)."""
        topics = data.pop("topics", None)
        parties = data.pop("parties", None)
        for name, value in data.items():
            setattr(agreement, name, value)
        request = self.context["request"]
        try:
            return agreement_save(
                agreement=agreement,
                user=request.user,
                viewer=Viewer.for_request(request),
                topics=topics,
                parties=None
                if parties is None
                else [(p["organisation"], p.get("role", PartyRole.PARTY)) for p in parties],
            )
        except DjangoValidationError as exc:
            raise serializers.ValidationError(get_error_detail(exc)) from exc

    def to_representation(self, instance):
        # Answer with the reading form, loaded the way the list loads it.
        viewer = Viewer.for_request(self.context["request"])
        fresh = Agreement.objects.with_related(viewer).get(pk=instance.pk)
        return AgreementSerializer(fresh, context=self.context).data


# --------------------------------------------------------------------------
# Organisations, people, topics, events, trips


class OrganisationSerializer(serializers.ModelSerializer):
    url = api_url("organisation")
    country = serializers.CharField(source="country.code")
    description = serializers.CharField(read_only=True)
    parent = SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)

    class Meta:
        model = Organisation
        fields = [
            "id",
            "slug",
            "url",
            "name",
            "short_name",
            "kind",
            "country",
            "region",
            "city",
            "website",
            "description",
            "parent",
            "created_at",
            "updated_at",
        ]


class OrganisationWriteSerializer(StrictJSONTypesMixin, ModelCleanMixin, serializers.ModelSerializer):
    parent = SlugRelatedField(slug_field="slug", queryset=Organisation.objects.all(), required=False, allow_null=True)

    class Meta:
        model = Organisation
        fields = ORGANISATION_PROFILE_FIELDS
        extra_kwargs = {"slug": {"validators": []}}

    def to_representation(self, instance):
        return OrganisationSerializer(instance, context=self.context).data


class PersonSerializer(serializers.ModelSerializer):
    url = api_url("person")
    position = serializers.CharField()
    organisation = OrganisationSummarySerializer(allow_null=True)

    class Meta:
        model = Person
        fields = [
            "id",
            "slug",
            "url",
            "name",
            "honorific",
            "position",
            "organisation",
            "is_public",
            "created_at",
            "updated_at",
        ]


class PersonWriteSerializer(StrictJSONTypesMixin, ModelCleanMixin, serializers.ModelSerializer):
    organisation = SlugRelatedField(
        slug_field="slug", queryset=Organisation.objects.all(), required=False, allow_null=True
    )

    class Meta:
        model = Person
        fields = ["slug", "name", "honorific", *Person.position.fields, "language", "organisation", "is_public"]
        extra_kwargs = {"slug": {"validators": []}}

    def to_representation(self, instance):
        return PersonSerializer(instance, context=self.context).data


class TopicSerializer(serializers.ModelSerializer):
    url = api_url("topic")
    name = serializers.CharField()
    description = serializers.CharField()

    class Meta:
        model = Topic
        fields = ["id", "slug", "url", "name", "description", "created_at", "updated_at"]


class TopicWriteSerializer(StrictJSONTypesMixin, ModelCleanMixin, serializers.ModelSerializer):
    class Meta:
        model = Topic
        fields = ["slug", *Topic.name.fields, *Topic.description.fields, "language"]
        extra_kwargs = {"slug": {"validators": []}}

    def to_representation(self, instance):
        return TopicSerializer(instance, context=self.context).data


class SigningEventSerializer(serializers.ModelSerializer):
    url = api_url("signingevent")
    title = serializers.CharField()
    description = serializers.CharField()
    date_display = serializers.CharField()
    country = serializers.CharField(source="country.code")
    trip = TripSummarySerializer(allow_null=True)
    agreements = serializers.SerializerMethodField()
    people_present = PersonSummarySerializer(many=True, source="visible_people_present")

    class Meta:
        model = SigningEvent
        fields = [
            "id",
            "slug",
            "url",
            "title",
            "description",
            "date",
            "date_precision",
            "date_display",
            "venue",
            "city",
            "country",
            "trip",
            "agreements",
            "people_present",
            "created_at",
            "updated_at",
        ]

    @extend_schema_field(serializers.ListField(child=serializers.DictField()))
    def get_agreements(self, obj):
        request = self.context["request"]
        return [
            {
                "slug": a.slug,
                "title": a.title,
                "url": api_address(request, "api:agreement-detail", "slug", a.slug),
            }
            for a in obj.visible_agreements
        ]


@extend_schema_field(
    {
        "type": "string",
        "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]$",
        "example": "14:30:00",
        "description": "Local time at the venue (HH:MM:SS, without an offset: the place gives the time zone).",
    }
)
class LocalTimeField(serializers.TimeField):
    """A wall-clock time at the place of the event: no offset, so not the
    ``format: time`` of RFC 3339 (which requires one)."""


class ProgrammeItemSerializer(serializers.Serializer):
    kind = serializers.CharField()
    title = serializers.CharField()
    description = serializers.CharField()
    date = serializers.DateField()
    start_time = LocalTimeField(allow_null=True)
    end_time = LocalTimeField(allow_null=True)
    city = serializers.CharField()
    venue = serializers.CharField()
    participant_count = serializers.IntegerField(allow_null=True)
    signing_event = serializers.SlugField(source="signing_event.slug", allow_null=True, default=None)


class TripSerializer(serializers.ModelSerializer):
    url = api_url("trip")
    title = serializers.CharField()
    purpose = serializers.CharField()
    destination_country = serializers.CharField(source="destination_country.code")
    leader = serializers.SerializerMethodField()
    organiser = OrganisationSummarySerializer(allow_null=True)
    cities = serializers.SerializerMethodField()
    programme = ProgrammeItemSerializer(many=True, source="programme_items")
    signing_events = SigningEventSummarySerializer(many=True)
    participant_organisations = OrganisationSummarySerializer(many=True)

    class Meta:
        model = DelegationTrip
        fields = [
            "id",
            "slug",
            "url",
            "title",
            "purpose",
            "leader",
            "organiser",
            "destination_country",
            "cities",
            "start_date",
            "end_date",
            "delegation_size",
            "participant_organisations",
            "programme",
            "signing_events",
            "created_at",
            "updated_at",
        ]

    @extend_schema_field(PersonSummarySerializer(allow_null=True))
    def get_leader(self, obj):
        leader = obj.leader
        if leader is None or not (leader.is_public or self.context.get("viewer_sees_everything")):
            return None
        return PersonSummarySerializer(leader, context=self.context).data

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_cities(self, obj):
        return [stop.city for stop in obj.stops.all()]


# --------------------------------------------------------------------------
# Lifecycle steps (POST /api/v1/agreements/{slug}/<step>/): the same services as the admin's buttons


class SignSerializer(serializers.Serializer):
    signed_on = serializers.DateField(
        required=False, allow_null=True, help_text="The signing date (or give the event)."
    )
    precision = serializers.ChoiceField(choices=DatePrecision.choices, default=DatePrecision.DAY)
    signing_event = SlugRelatedField(
        slug_field="slug", queryset=SigningEvent.objects.all(), required=False, allow_null=True
    )


class TerminateSerializer(serializers.Serializer):
    terminated_on = serializers.DateField()
    reason = serializers.CharField()


class SuccessorSerializer(serializers.Serializer):
    slug = serializers.SlugField(max_length=120, help_text="The slug of the new draft.")


class ChangeSerializer(serializers.Serializer):
    """One entry of the change feed, as its reader may be told it."""

    cursor = serializers.CharField(help_text="Pass as `after` to read the entries that follow this one.")
    resource = serializers.ChoiceField(
        choices=["agreements", "organisations", "people", "topics", "signing-events", "trips"]
    )
    slug = serializers.CharField()
    url = serializers.URLField(help_text="The record in the API (404 once deleted or out of view).")
    kind = serializers.ChoiceField(
        choices=["created", "updated", "deleted", "published", "unpublished", "removed_from_view"],
        help_text="removed_from_view: a record the caller saw and can no longer see (drop its copy).",
    )
    changed_at = serializers.DateTimeField()


class ChangeFeedSerializer(serializers.Serializer):
    results = ChangeSerializer(many=True)
    cursor = serializers.CharField(help_text="The last entry's cursor (the `after` given when there is none).")
    next = serializers.URLField(help_text="Where to read on (poll it again when `results` is empty).")


class ConfirmSerializer(serializers.Serializer):
    content_hash = serializers.RegexField(
        r"^[0-9a-f]{64}$",
        help_text="SHA-256 (lower-case hex) of the agreement's canonical form, as GET …/confirmations/ gives it.",
    )


class WithdrawConfirmationSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class OrganisationRefSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()


class PartyConfirmationSerializer(serializers.Serializer):
    organisation = OrganisationRefSerializer()
    state = serializers.ChoiceField(
        choices=["confirmed", "changed_since_confirmation", "withdrawn", "not_confirmed"],
        help_text="confirmed: for the current content; changed_since_confirmation: the content changed after.",
    )
    content_hash = serializers.CharField(allow_null=True, help_text="The hash the party confirmed.")
    confirmed_at = serializers.DateTimeField(allow_null=True)
    withdrawn_at = serializers.DateTimeField(allow_null=True)
    withdrawal_reason = serializers.CharField(allow_null=True)


class ConfirmationsSerializer(serializers.Serializer):
    content_hash = serializers.CharField(help_text="SHA-256 of the current canonical form.")
    canonical = serializers.JSONField(
        allow_null=True,
        help_text="The canonical form (for the parties and staff; null for others): its canonical JSON "
        "(keys sorted, no spaces, UTF-8) is what the hash is taken of.",
    )
    parties = PartyConfirmationSerializer(many=True)
