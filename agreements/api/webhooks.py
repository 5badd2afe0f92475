"""The webhook API (/api/v1/webhooks/): an organisation's own endpoints,
their delivery log and secret rotation, managed by its partner token and its
members (all of them by registry administrators). The deliveries themselves:
``agreements.webhooks``."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import permissions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotAuthenticated
from rest_framework.response import Response

from agreements import webhooks
from agreements.access import Viewer
from agreements.models import ChangeKind, Organisation, WebhookDelivery, WebhookEndpoint

from .serializers import SlugRelatedField
from .views import (
    ERRORS,
    AgreementViewSet,
    DelegationTripViewSet,
    OrganisationViewSet,
    PersonViewSet,
    ScopedViewSetMixin,
    SigningEventViewSet,
    TopicViewSet,
)

# --------------------------------------------------------------------------
# Serializers


class WebhookEndpointSerializer(serializers.ModelSerializer):
    """An endpoint of the caller's organisation. Deliveries are signed with
    `secret` (Standard Webhooks: `webhook-id`, `webhook-timestamp`,
    `webhook-signature`)."""

    organisation = SlugRelatedField(
        slug_field="slug",
        queryset=Organisation.objects.all(),
        required=False,
        help_text="The organisation whose view of the registry is delivered (default: the token's).",
    )
    kinds = serializers.ListField(
        child=serializers.ChoiceField(choices=[kind.value for kind in ChangeKind]),
        required=False,
        allow_empty=True,
        help_text="Only these kinds of change are delivered; empty: all.",
    )
    cursor = serializers.CharField(read_only=True, help_text="The last change feed entry the receiver acknowledged.")

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "organisation",
            "url",
            "description",
            "kinds",
            "is_active",
            "disabled_reason",
            "secret",
            "previous_secret_expires_at",
            "cursor",
            "consecutive_failures",
            "failing_since",
            "next_attempt_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "secret",
            "previous_secret_expires_at",
            "disabled_reason",
            "consecutive_failures",
            "failing_since",
            "next_attempt_at",
            "created_at",
            "updated_at",
        ]

    def validate_url(self, value):
        from agreements.webhooks import registration_problem

        problem = registration_problem(value)
        if problem:
            raise serializers.ValidationError(problem)
        return value

    def validate_organisation(self, organisation):
        viewer = Viewer.for_request(self.context["request"])
        if self.instance is not None and organisation != self.instance.organisation:
            raise serializers.ValidationError(_("An endpoint stays with its organisation; create a new one."))
        if not viewer.sees_everything and organisation.pk not in viewer.organisation_ids:
            raise serializers.ValidationError(_("You may only manage your own organisation's endpoints."))
        return organisation

    def validate(self, attrs):
        if self.instance is None and "organisation" not in attrs:
            viewer = Viewer.for_request(self.context["request"])
            if len(viewer.organisation_ids) != 1:
                raise serializers.ValidationError({"organisation": [_("Name the organisation (its slug).")]})
            attrs["organisation"] = Organisation.objects.get(pk=next(iter(viewer.organisation_ids)))
        return attrs

    def update(self, instance, validated_data):
        if validated_data.get("is_active") and not instance.is_active:
            # Enabled again: the deliveries resume at the cursor, the failures forgotten.
            validated_data |= {
                "disabled_reason": "",
                "consecutive_failures": 0,
                "failing_since": None,
                "next_attempt_at": None,
            }
        return super().update(instance, validated_data)


class WebhookDeliverySerializer(serializers.ModelSerializer):
    """One attempt to deliver a batch of the feed's entries (`first_cursor`
    through `last_cursor`) under `webhook_id`: every retry of a batch has the
    same id, a staff resend a new one."""

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "webhook_id",
            "first_cursor",
            "last_cursor",
            "entries",
            "attempt",
            "attempted_at",
            "succeeded",
            "status_code",
            "latency_ms",
            "response_excerpt",
            "error",
        ]
        read_only_fields = fields


# --------------------------------------------------------------------------
# Views

# The detail a webhook delivery carries for each resource of the feed: the same
# rows and serializer as a GET of the record with the organisation's token.
WEBHOOK_RECORD_VIEWSETS = {
    "agreement": AgreementViewSet,
    "organisation": OrganisationViewSet,
    "person": PersonViewSet,
    "topic": TopicViewSet,
    "signingevent": SigningEventViewSet,
    "trip": DelegationTripViewSet,
}


class WebhookEndpointPermission(permissions.BasePermission):
    """An organisation's endpoints are managed by its partner token and its
    members, all of them by registry administrators (the rows: ``access``)."""

    def has_permission(self, request, view):
        viewer = Viewer.for_request(request)
        if viewer.sees_everything or viewer.organisation_ids:
            return True
        if request.auth is None and not request.user.is_authenticated:
            raise NotAuthenticated()
        return False


WEBHOOK_ERRORS = {
    **{code: answer for code, answer in ERRORS.items() if code != 401},
    401: OpenApiResponse(description="No credentials, or the token is unknown, expired or revoked."),
    403: OpenApiResponse(description="The caller acts for no organisation."),
    404: OpenApiResponse(description="No such endpoint of the caller's organisation."),
}


@extend_schema_view(
    list=extend_schema(responses={200: WebhookEndpointSerializer, **WEBHOOK_ERRORS}),
    retrieve=extend_schema(responses={200: WebhookEndpointSerializer, **WEBHOOK_ERRORS}),
    create=extend_schema(responses={201: WebhookEndpointSerializer, **WEBHOOK_ERRORS}),
    update=extend_schema(responses={200: WebhookEndpointSerializer, **WEBHOOK_ERRORS}),
    partial_update=extend_schema(responses={200: WebhookEndpointSerializer, **WEBHOOK_ERRORS}),
    destroy=extend_schema(responses={204: None, **WEBHOOK_ERRORS}),
    deliveries=extend_schema(
        summary="The endpoint's delivery log",
        responses={200: WebhookDeliverySerializer(many=True), **WEBHOOK_ERRORS},
    ),
    rotate_secret=extend_schema(
        summary="A new signing secret; the old one signs too during the grace period",
        request=None,
        responses={200: WebhookEndpointSerializer, **WEBHOOK_ERRORS},
    ),
)
class WebhookEndpointViewSet(ScopedViewSetMixin, viewsets.ModelViewSet):
    """Your organisation's webhook endpoints: each receives, signed (Standard
    Webhooks), at least once and in order, the change feed's entries your
    organisation may see, with each record as your token sees it. A new
    endpoint receives the changes from its creation on; `is_active: true`
    enables a disabled endpoint again (deliveries resume at its cursor)."""

    queryset = WebhookEndpoint.objects.select_related("organisation")
    serializer_class = WebhookEndpointSerializer
    permission_classes = [WebhookEndpointPermission]
    filterset_class = None

    @action(detail=True, methods=["get"])
    def deliveries(self, request, pk=None, **kwargs):
        """Every attempt to deliver to the endpoint, newest first: when, the
        batch (`webhook_id`, cursors), the receiver's status, latency and the
        start of its answer, or the error."""
        endpoint = self.get_object()
        attempts = WebhookDelivery.objects.filter(endpoint=endpoint).order_by("-attempted_at", "-pk")
        page = self.paginate_queryset(attempts)
        return self.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)

    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None, **kwargs):
        """A new `secret`. Until `previous_secret_expires_at`
        (`WEBHOOK_SECRET_GRACE_HOURS`, default 24 h) each delivery carries two
        signatures in `webhook-signature`, the new secret's and the old one's;
        then only the new one's."""
        endpoint = webhooks.endpoint_rotate_secret(self.get_object())
        return Response(self.get_serializer(endpoint).data)
