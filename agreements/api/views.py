"""REST API v1. Every viewset goes through the access seam (``ScopedViewSetMixin``),
so a record the caller may not see is a 404 exactly like a missing one."""

import hashlib

from django.core.cache import cache
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Prefetch, Subquery
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.cache import get_conditional_response
from django.utils.http import parse_etags
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import permissions, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, NotAuthenticated, PermissionDenied, ValidationError
from rest_framework.fields import get_error_detail
from rest_framework.response import Response
from rest_framework.views import APIView

from agreements import access, services
from agreements.access import Viewer
from agreements.choices import SuccessionKind
from agreements.filtersets import (
    AgreementFilterSet,
    DelegationTripFilterSet,
    OrganisationFilterSet,
    PersonFilterSet,
    SigningEventFilterSet,
    TopicFilterSet,
)
from agreements.models import (
    Agreement,
    AgreementDocument,
    Change,
    ChangeFeedState,
    DataVersion,
    DelegationTrip,
    Organisation,
    Person,
    ProgrammeItem,
    SigningEvent,
    Topic,
)
from agreements.services import record_version
from agreements.validators import DOCUMENT_TYPES
from agreements.views import document_file_response

from . import idempotency, rows, serializers
from .permissions import ChangePermission
from .serializers import api_address

ERRORS = {
    400: OpenApiResponse(description="A parameter or field could not be used; the body names it."),
    401: OpenApiResponse(description="The token is unknown, expired or revoked."),
    404: OpenApiResponse(description="No such record, or not one the caller may see."),
    429: OpenApiResponse(description="Too many requests; see Retry-After."),
}
LIFECYCLE_ERRORS = {
    400: OpenApiResponse(description="The step is not possible now (the body names why: status, parties, a field)."),
    401: ERRORS[401],
    403: OpenApiResponse(description="Steps need a staff account with the change permission for this agreement."),
    404: ERRORS[404],
    412: OpenApiResponse(description="If-Match did not match: the record changed since it was read."),
    **idempotency.RESPONSES,
    429: ERRORS[429],
}
WRITE_ERRORS = {
    **ERRORS,
    403: OpenApiResponse(description="Writes need a staff account with the permission."),
    412: OpenApiResponse(description="If-Match did not match: the record changed since it was read."),
}


SLUG = "[-a-zA-Z0-9_]+"
# Cached answers are keyed by their ETag, which changes with the data: the
# time only bounds how long unused answers take room in the cache.
RESPONSE_CACHE_SECONDS = 3600


def crud_schema(read, write=None):
    """OpenAPI for a viewset: answers in the reading form, errors documented;
    writes (when ``write`` is given) take the writing form."""
    views = {
        "list": extend_schema(responses={200: read, **ERRORS}),
        "retrieve": extend_schema(responses={200: read, **ERRORS}),
    }
    if write is not None:
        views |= {
            "create": extend_schema(
                request=write,
                parameters=[idempotency.PARAMETER],
                responses={201: read, **WRITE_ERRORS, **idempotency.RESPONSES},
            ),
            "update": extend_schema(request=write, responses={200: read, **WRITE_ERRORS}),
            "partial_update": extend_schema(request=write, responses={200: read, **WRITE_ERRORS}),
            "destroy": extend_schema(
                responses={
                    204: None,
                    **WRITE_ERRORS,
                    409: OpenApiResponse(description="Other records refer to this one; nothing was deleted."),
                }
            ),
        }
    return extend_schema_view(**views)


class PreconditionFailed(APIException):
    status_code = 412
    default_detail = "The record changed since it was read."
    default_code = "precondition_failed"


class ScopedViewSetMixin:
    """The access seam for every viewset: the rows come from ``base_queryset()``
    narrowed to what the caller may see (so a hidden record is a 404 like a
    missing one), and a write to a record needs the edit rule for that record
    besides the model permission (``permissions.ModelPermissionsOrReadOnly``)."""

    @property
    def viewer(self) -> Viewer:
        return Viewer.for_request(self.request)

    def base_queryset(self):
        return self.queryset.all()

    def get_queryset(self):
        return access.restrict(self.base_queryset(), self.viewer, access.VIEW)

    def get_object(self):
        obj = super().get_object()
        if self.request.method not in permissions.SAFE_METHODS and not access.may(self.viewer, access.CHANGE, obj):
            raise PermissionDenied(_("You may not change this record."))
        return obj


class ConditionalGetMixin(ScopedViewSetMixin):
    """``ETag`` on lists and details, and ``304`` for a matching ``If-None-Match``.

    Freshness has one source, the registry's ``DataVersion`` (changed by the
    database with every write: ORM, bulk update, raw SQL, restore): every tag
    names it, with the URL, the language, what the caller may see and the day
    (``expired`` is derived from it). A detail's tag also names its record's
    version (``services.record_version``), so that ``If-Match`` on
    a write refuses only changes of that record, not every write elsewhere.
    Checking a tag costs primary-key reads: a 304 or a cached answer neither
    filters nor serialises.
    """

    def get_stamp_queryset(self):
        """The rows the answer is about, without what only serialising them needs."""
        return self.get_queryset()

    def filter_queryset(self, queryset):
        # A record is addressed by its slug: the list's filters do not narrow
        # it (DRF would apply them, building the FilterSet, for every detail).
        if self.action != "list":
            return queryset
        # A FilterSet none of whose parameters is given changes nothing; it is
        # not built (a third of an uncached first page's time went on that).
        filters = getattr(self, "filterset_class", None)
        if filters is not None and not any(name in self.request.query_params for name in filters.base_filters):
            return queryset
        return super().filter_queryset(queryset)

    def _digest(self, request, *parts) -> str:
        # The host and scheme too: answers hold absolute links.
        text = "|".join(map(str, (request.build_absolute_uri(), get_language(), self.viewer.scope, *parts)))
        return hashlib.sha256(text.encode()).hexdigest()[:32]

    def list(self, request, *args, **kwargs):
        # Parameters are checked only when the answer is produced: a 400 is
        # never cached, so no tag of a bad request can match or hit the cache.
        etag = f'"{self._digest(request, "list", DataVersion.current(), timezone.localdate())}"'
        return self._conditional(request, etag, self.answer_list, args, kwargs)

    def retrieve(self, request, *args, **kwargs):
        # The tag from the record's version and the data version; the record
        # and its related rows are loaded only when the answer is neither a
        # 304 nor cached.
        lookup = {self.lookup_field: self.kwargs[self.lookup_url_kwarg or self.lookup_field]}
        queryset = self.get_stamp_queryset().prefetch_related(None)
        data_version = Subquery(DataVersion.objects.filter(pk=1).values("value"))  # the same query, not another
        stamp = queryset.filter(**lookup).annotate(_data_version=data_version)
        stamp = stamp.values_list("pk", "updated_at", "_data_version").first()
        if stamp is None:
            raise Http404
        pk, updated_at, version = stamp
        record = record_version(queryset.model, pk, updated_at)
        etag = f'"{record}.{self._digest(request, record, version, timezone.localdate())}"'
        return self._conditional(request, etag, lambda *a, **k: self.answer_detail(pk), args, kwargs)

    def answer_list(self, request, *args, **kwargs):
        """The list's answer, when it is neither a 304 nor cached."""
        return super().list(request, *args, **kwargs)

    def answer_detail(self, pk) -> Response:
        """The record's answer, when it is neither a 304 nor cached (``pk``: the
        record the tag was computed for, which the caller may see)."""
        return Response(self.get_serializer(self.get_object()).data)

    def _conditional(self, request, etag, produce, args, kwargs):
        not_modified = get_conditional_response(request, etag=etag)
        if not_modified is not None:
            return not_modified
        # The tag names exactly what the answer holds (URL, language, what the
        # caller may see, the rows' newest change), so the serialised data can
        # be shared through the cache by every caller asking the same.
        # The rendered JSON is kept, not the data (which would drag model
        # instances through pickle).
        key = f"api-json:v1:{etag}"  # bump the version when the answers change shape
        content = cache.get(key)
        if content is not None:
            response = HttpResponse(content, content_type="application/json")
        else:
            response = produce(request, *args, **kwargs)
            if response.status_code == 200:
                response = self.finalize_response(request, response)
                response.render()
                cache.set(key, response.content, RESPONSE_CACHE_SECONDS)
        if response.status_code == 200:
            response["ETag"] = etag
            response["Cache-Control"] = "private, no-cache"
            response["Vary"] = "Accept-Language, Authorization, Cookie"
        return response


class WriteSerializerMixin:
    """Staff writes use a serializer with every language's fields and slugs,
    and are refused (412) when If-Match names a version that is no longer current."""

    write_serializer_class = None

    def get_serializer_class(self):
        if self.action in {"create", "update", "partial_update"}:
            return self.write_serializer_class
        return self.serializer_class

    # Lost updates: a write may carry the ETag the caller read in If-Match; if
    # the record changed since (or the tag is from another version), 412 and
    # nothing is written. The row is locked from the check to the write.

    def initial(self, request, *args, **kwargs):
        idempotency.keep_body(request)
        super().initial(request, *args, **kwargs)

    def create(self, request, *args, **kwargs):
        # The answer is built in the write's transaction (a committed create is
        # never answered as a failure), and an Idempotency-Key makes a retry safe.
        return idempotency.committed_answer(
            self, request, lambda: super(WriteSerializerMixin, self).create(request, *args, **kwargs)
        )

    def update(self, request, *args, **kwargs):
        with transaction.atomic():
            return super().update(request, *args, **kwargs)

    def destroy(self, request, *args, **kwargs):
        with transaction.atomic():
            return super().destroy(request, *args, **kwargs)

    def get_object(self):
        obj = super().get_object()
        header = self.request.META.get("HTTP_IF_MATCH")
        if self.request.method not in permissions.SAFE_METHODS and header is not None:
            # A detail's ETag is "<record version>.<answer digest>": the record part decides.
            tags = [tag.removeprefix("W/").strip('"').split(".")[0] for tag in parse_etags(header)]
            if "*" not in tags:
                try:
                    services.stale_write_check(model=type(obj), pk=obj.pk, versions=tags)
                except services.StaleWrite as exc:
                    raise PreconditionFailed(exc.messages[0]) from exc
        return obj


@crud_schema(serializers.AgreementSerializer, serializers.AgreementWriteSerializer)
class AgreementViewSet(ConditionalGetMixin, WriteSerializerMixin, viewsets.ModelViewSet):
    """Cooperation agreements. Anonymous callers see public, signed agreements;
    a partner token also sees its organisation's; staff see all."""

    queryset = Agreement.objects.all()
    serializer_class = serializers.AgreementSerializer
    write_serializer_class = serializers.AgreementWriteSerializer
    filterset_class = AgreementFilterSet
    lookup_field = "slug"
    lookup_value_regex = SLUG

    def base_queryset(self):
        return Agreement.objects.with_related(self.viewer)

    def get_stamp_queryset(self):
        return access.restrict(Agreement.objects.all(), self.viewer)

    # Reading answers are built from rows (``rows.agreement_answers``; the
    # serializer stays the contract and the writes' answer). A list page takes
    # its ids first (the partial indexes serve the order), then their rows.

    def answer_list(self, request, *args, **kwargs):
        ids = self.filter_queryset(self.get_stamp_queryset()).values_list("pk", flat=True)
        page = self.paginate_queryset(ids)
        return self.get_paginated_response(rows.agreement_answers(list(page), viewer=self.viewer, request=request))

    def answer_detail(self, pk) -> Response:
        return Response(rows.agreement_answers([pk], viewer=self.viewer, request=self.request)[0])

    # Lifecycle steps: the services the admin's buttons call, with the same
    # rules and errors; the edit rule and If-Match apply as to any write.

    @extend_schema(
        request=None,
        parameters=[idempotency.PARAMETER],
        responses={200: serializers.AgreementSerializer, **LIFECYCLE_ERRORS},
    )
    @action(detail=True, methods=["post"], permission_classes=[ChangePermission])
    def negotiate(self, request, slug=None, format=None):
        """Draft → negotiating."""
        return self._step(services.agreement_start_negotiation)

    @extend_schema(
        request=None,
        parameters=[idempotency.PARAMETER],
        responses={200: serializers.AgreementSerializer, **LIFECYCLE_ERRORS},
    )
    @action(detail=True, methods=["post"], permission_classes=[ChangePermission])
    def draft(self, request, slug=None, format=None):
        """Negotiating → draft."""
        return self._step(services.agreement_back_to_draft)

    @extend_schema(
        request=serializers.SignSerializer,
        parameters=[idempotency.PARAMETER],
        responses={200: serializers.AgreementSerializer, **LIFECYCLE_ERRORS},
    )
    @action(detail=True, methods=["post"], permission_classes=[ChangePermission])
    def sign(self, request, slug=None, format=None):
        """Draft or negotiating → signed: two distinct parties and a signing date (with its precision) or event."""
        data = self._input(serializers.SignSerializer)
        return self._step(
            services.agreement_sign,
            signed_on=data.get("signed_on"),
            precision=data["precision"],
            signing_event=data.get("signing_event"),
        )

    @extend_schema(
        request=serializers.TerminateSerializer,
        parameters=[idempotency.PARAMETER],
        responses={200: serializers.AgreementSerializer, **LIFECYCLE_ERRORS},
    )
    @action(detail=True, methods=["post"], permission_classes=[ChangePermission])
    def terminate(self, request, slug=None, format=None):
        """Signed → terminated, with the date and the reason."""
        data = self._input(serializers.TerminateSerializer)
        return self._step(services.agreement_terminate, terminated_on=data["terminated_on"], reason=data["reason"])

    @extend_schema(
        request=serializers.SuccessorSerializer,
        parameters=[idempotency.PARAMETER],
        responses={201: serializers.AgreementSerializer, **LIFECYCLE_ERRORS},
    )
    @action(detail=True, methods=["post"], permission_classes=[ChangePermission])
    def renew(self, request, slug=None, format=None):
        """A new draft that renews this signed agreement (texts, topics and parties carried over)."""
        return self._successor(SuccessionKind.RENEWS)

    @extend_schema(
        request=serializers.SuccessorSerializer,
        parameters=[idempotency.PARAMETER],
        responses={201: serializers.AgreementSerializer, **LIFECYCLE_ERRORS},
    )
    @action(detail=True, methods=["post"], permission_classes=[ChangePermission])
    def amend(self, request, slug=None, format=None):
        """A new draft that amends this signed agreement."""
        return self._successor(SuccessionKind.AMENDS)

    @extend_schema(
        request=serializers.SuccessorSerializer,
        parameters=[idempotency.PARAMETER],
        responses={201: serializers.AgreementSerializer, **LIFECYCLE_ERRORS},
    )
    @action(detail=True, methods=["post"], permission_classes=[ChangePermission])
    def supersede(self, request, slug=None, format=None):
        """A new draft that supersedes this signed agreement."""
        return self._successor(SuccessionKind.SUPERSEDES)

    # Partner confirmation of the record: a party organisation's token confirms
    # the hash of the agreement's canonical form (services.agreement_confirm).

    @extend_schema(
        methods=["GET"],
        responses={200: serializers.ConfirmationsSerializer, **ERRORS},
        description="Each party's word on the record: confirmed, changed since confirmation, withdrawn or not yet.",
    )
    @extend_schema(
        methods=["POST"],
        request=serializers.ConfirmSerializer,
        responses={
            201: serializers.ConfirmationsSerializer,
            **ERRORS,
            403: OpenApiResponse(description="Only a token of a party organisation may confirm for it."),
            409: OpenApiResponse(
                description="Not the current hash: the body gives the current one and what differs "
                "from this party's last confirmation."
            ),
        },
        description="Confirm, as the token's organisation (a party), the content whose hash is sent.",
    )
    @action(detail=True, methods=["get", "post"], permission_classes=[permissions.AllowAny])
    def confirmations(self, request, slug=None, format=None):
        agreement = self._visible_agreement(slug)
        if request.method == "POST":
            organisation = self._confirming_party(agreement)
            data = self._input(serializers.ConfirmSerializer)
            try:
                services.agreement_confirm(
                    agreement=agreement,
                    organisation=organisation,
                    content_hash=data["content_hash"],
                    token=request.auth,
                )
            except services.ConfirmationConflict as exc:
                return Response(
                    {
                        "content_hash": [exc.messages[0]],
                        "current_hash": exc.current,
                        "differs": exc.differs,
                        "canonical": exc.canonical,
                    },
                    status=409,
                )
            return Response(self._confirmations_answer(agreement), status=201)
        return Response(self._confirmations_answer(agreement))

    @extend_schema(
        request=serializers.WithdrawConfirmationSerializer,
        responses={
            200: serializers.ConfirmationsSerializer,
            **ERRORS,
            403: OpenApiResponse(description="Only a token of a party organisation may withdraw its confirmation."),
        },
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="confirmations/withdraw",
        url_name="withdraw-confirmation",
        permission_classes=[permissions.AllowAny],
    )
    def withdraw_confirmation(self, request, slug=None, format=None):
        """Withdraw the token's organisation's confirmation, with a reason."""
        agreement = self._visible_agreement(slug)
        organisation = self._confirming_party(agreement)
        reason = self._input(serializers.WithdrawConfirmationSerializer)["reason"]
        try:
            services.agreement_confirmation_withdraw(agreement=agreement, organisation=organisation, reason=reason)
        except DjangoValidationError as exc:
            raise ValidationError(get_error_detail(exc)) from exc
        return Response(self._confirmations_answer(agreement))

    def _visible_agreement(self, slug) -> Agreement:
        queryset = access.restrict(Agreement.objects.select_related("signing_event"), self.viewer)
        return get_object_or_404(queryset, slug=slug)

    def _confirming_party(self, agreement) -> "Organisation":
        token = self.request.auth
        if self.request.user is None or (not self.request.user.is_authenticated and token is None):
            raise NotAuthenticated()
        organisation_id = getattr(token, "organisation_id", None)
        if organisation_id is None or not agreement.parties.filter(organisation_id=organisation_id).exists():
            raise PermissionDenied(_("Only a token of a party organisation may confirm for it."))
        return Organisation.objects.get(pk=organisation_id)

    def _confirmations_answer(self, agreement) -> dict:
        state = services.agreement_confirmations(agreement)
        insider = self.viewer.sees_everything or any(
            entry["organisation"].pk in self.viewer.organisation_ids for entry in state["parties"]
        )
        return serializers.ConfirmationsSerializer(
            {
                "content_hash": state["content_hash"],
                "canonical": state["canonical"] if insider else None,
                "parties": [
                    {
                        "organisation": entry["organisation"],
                        "state": entry["state"],
                        "content_hash": getattr(entry["confirmation"], "content_hash", None),
                        "confirmed_at": getattr(entry["confirmation"], "confirmed_at", None),
                        "withdrawn_at": getattr(entry["confirmation"], "withdrawn_at", None),
                        "withdrawal_reason": getattr(entry["confirmation"], "withdrawal_reason", None) or None,
                    }
                    for entry in state["parties"]
                ],
            }
        ).data

    def _input(self, serializer_class) -> dict:
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def _step(self, service, status=200, **kwargs):
        def step():
            try:
                result = service(agreement=self.get_object(), user=self.request.user, **kwargs)
            except DjangoValidationError as exc:
                raise ValidationError(get_error_detail(exc)) from exc
            fresh = Agreement.objects.with_related(self.viewer).get(pk=result.pk)
            return Response(
                serializers.AgreementSerializer(fresh, context=self.get_serializer_context()).data, status=status
            )

        # The step and its answer in one transaction; an Idempotency-Key makes a retry safe.
        return idempotency.committed_answer(self, self.request, step)

    def _successor(self, succession: str):
        slug = self._input(serializers.SuccessorSerializer)["slug"]

        def succeed(*, agreement, user):
            return services.agreement_succeed(predecessor=agreement, succession=succession, slug=slug, user=user)

        return self._step(succeed, status=201)


@crud_schema(serializers.OrganisationSerializer, serializers.OrganisationWriteSerializer)
class OrganisationViewSet(ConditionalGetMixin, WriteSerializerMixin, viewsets.ModelViewSet):
    """Organisations: clusters, associations, public authorities and others."""

    queryset = Organisation.objects.select_related("parent")
    serializer_class = serializers.OrganisationSerializer
    write_serializer_class = serializers.OrganisationWriteSerializer
    filterset_class = OrganisationFilterSet
    lookup_field = "slug"
    lookup_value_regex = SLUG


@crud_schema(serializers.PersonSerializer, serializers.PersonWriteSerializer)
class PersonViewSet(ConditionalGetMixin, WriteSerializerMixin, viewsets.ModelViewSet):
    """People. Personal data: callers other than staff see public people only."""

    queryset = Person.objects.all()
    serializer_class = serializers.PersonSerializer
    write_serializer_class = serializers.PersonWriteSerializer
    filterset_class = PersonFilterSet
    lookup_field = "slug"
    lookup_value_regex = SLUG

    def base_queryset(self):
        return Person.objects.select_related("organisation")


@crud_schema(serializers.TopicSerializer, serializers.TopicWriteSerializer)
class TopicViewSet(ConditionalGetMixin, WriteSerializerMixin, viewsets.ModelViewSet):
    """Focus areas of agreements."""

    queryset = Topic.objects.all()
    serializer_class = serializers.TopicSerializer
    write_serializer_class = serializers.TopicWriteSerializer
    filterset_class = TopicFilterSet
    lookup_field = "slug"
    lookup_value_regex = SLUG


@crud_schema(serializers.SigningEventSerializer)
class SigningEventViewSet(ConditionalGetMixin, viewsets.ReadOnlyModelViewSet):
    """Signing events, with the agreements signed there that the caller may see."""

    queryset = SigningEvent.objects.all()
    serializer_class = serializers.SigningEventSerializer
    filterset_class = SigningEventFilterSet
    lookup_field = "slug"
    lookup_value_regex = SLUG

    def base_queryset(self):
        viewer = self.viewer
        return SigningEvent.objects.select_related("trip").prefetch_related(
            Prefetch("agreements", queryset=Agreement.objects.visible_to(viewer), to_attr="visible_agreements"),
            Prefetch("people_present", queryset=Person.objects.visible_to(viewer), to_attr="visible_people_present"),
        )


@crud_schema(serializers.TripSerializer)
class DelegationTripViewSet(ConditionalGetMixin, viewsets.ReadOnlyModelViewSet):
    """Delegation trips with their cities, programme and signing events."""

    queryset = DelegationTrip.objects.all()
    serializer_class = serializers.TripSerializer
    filterset_class = DelegationTripFilterSet
    lookup_field = "slug"
    lookup_value_regex = SLUG

    def base_queryset(self):
        return DelegationTrip.objects.select_related("leader", "organiser").prefetch_related(
            "stops",
            "participant_organisations",
            "signing_events",
            Prefetch("programme_items", queryset=ProgrammeItem.objects.select_related("signing_event")),
        )

    def get_serializer_context(self):
        return {
            **super().get_serializer_context(),
            "viewer_sees_everything": self.viewer.sees_everything,
        }


class DocumentFileView(APIView):
    """The file of a document (PDF, PNG or JPEG), for a caller who may see it."""

    permission_classes = [permissions.AllowAny]

    def perform_content_negotiation(self, request, force=False):
        # The answer is the file itself, whatever the caller's Accept says.
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(
        operation_id="documents_file",
        responses={
            **{(200, media_type): OpenApiTypes.BINARY for media_type in DOCUMENT_TYPES},
            **{code: answer for code, answer in ERRORS.items() if code != 400},
        },
    )
    def get(self, request, pk):
        document = get_object_or_404(AgreementDocument.objects.visible_to(Viewer.for_request(request)), pk=pk)
        return document_file_response(document)


FEED_RESOURCES = {
    "agreement": ("agreements", "api:agreement-detail"),
    "organisation": ("organisations", "api:organisation-detail"),
    "person": ("people", "api:person-detail"),
    "topic": ("topics", "api:topic-detail"),
    "signingevent": ("signing-events", "api:signingevent-detail"),
    "trip": ("trips", "api:trip-detail"),
}
FEED_PAGE = 100
FEED_MAX_PAGE = 1000


class CursorGone(APIException):
    status_code = 410
    default_code = "cursor_gone"


def _whole_number(request, name: str, default: int, minimum: int, maximum: int | None = None) -> int:
    raw = request.query_params.get(name) or ""  # empty: not given (filtersets.without_empty)
    if raw == "":
        return default
    if not (raw.isascii() and raw.isdigit()) or int(raw) < minimum or (maximum is not None and int(raw) > maximum):
        bound = f"{minimum} to {maximum}" if maximum is not None else f"{minimum} or more"
        raise ValidationError({name: [_("Must be a whole number from %(bound)s.") % {"bound": bound}]})
    return int(raw)


class ChangeFeedView(APIView):
    """Every change to a record the caller may see, oldest first, in commit
    order: created, updated, deleted, published, unpublished, and
    removed_from_view (a record the caller saw and no longer may). Start with
    no `after` (or `after=0`) and follow `next`; a cursor older than the
    retention (`CHANGE_FEED_RETENTION_DAYS`, default 90) is a 410: resync
    from the lists, then read on from the `cursor` of a fresh read."""

    permission_classes = [permissions.AllowAny]

    @extend_schema(
        operation_id="changes_list",
        parameters=[
            OpenApiParameter("after", OpenApiTypes.INT, description="A cursor: the entries after it (default 0)."),
            OpenApiParameter("limit", OpenApiTypes.INT, description=f"Entries per answer, 1 to {FEED_MAX_PAGE}."),
        ],
        responses={
            200: serializers.ChangeFeedSerializer,
            **{code: answer for code, answer in ERRORS.items() if code != 404},
            410: OpenApiResponse(description="The cursor is older than the feed keeps: resync from the lists."),
        },
    )
    def get(self, request):
        after = _whole_number(request, "after", 0, 0)
        limit = _whole_number(request, "limit", FEED_PAGE, 1, FEED_MAX_PAGE)
        pruned_through = ChangeFeedState.objects.values_list("pruned_through", flat=True).first() or 0
        if after < pruned_through:
            raise CursorGone(
                {
                    "after": [_("Entries after this cursor are no longer kept: resync from the lists, then read on.")],
                    "oldest_cursor": str(pruned_through),
                }
            )
        viewer = Viewer.for_request(request)
        entries = list(Change.objects.visible_to(viewer).filter(pk__gt=after).order_by("pk")[:limit])
        results = []
        for entry in entries:
            resource, route = FEED_RESOURCES[entry.resource]
            results.append(
                {
                    "cursor": str(entry.pk),
                    "resource": resource,
                    "slug": entry.slug,
                    "url": api_address(request, route, "slug", entry.slug),
                    "kind": entry.kind_for(viewer.organisation_ids, viewer.sees_everything),
                    "changed_at": entry.changed_at,
                }
            )
        cursor = entries[-1].pk if entries else after
        query = request.query_params.copy()
        query["after"] = str(cursor)
        next_url = request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
        return Response(
            serializers.ChangeFeedSerializer({"results": results, "cursor": str(cursor), "next": next_url}).data
        )
