"""Staff UI for webhooks: partner endpoints (with "deliver again from a
cursor" and "rotate the signing secret") and the delivery log. Registered by ``agreements.admin``; the access
seam applies as to every ModelAdmin (``ScopedAdminMixin``)."""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.db import transaction
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_tasks_db.models import DBTaskResult

from . import tasks, webhooks
from .admin import ScopedAdminMixin
from .models import ChangeKind, WebhookDelivery, WebhookEndpoint

# The task queue's own admin (django-tasks-db) is not a door of ours: the
# delivery log below says what happened to each delivery.
if admin.site.is_registered(DBTaskResult):
    admin.site.unregister(DBTaskResult)


class WebhookEndpointForm(forms.ModelForm):
    kinds = forms.MultipleChoiceField(
        label=_("kinds of change"),
        choices=ChangeKind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Only these kinds of change are delivered; none chosen: all."),
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["organisation", "url", "description", "kinds", "is_active"]

    def clean_url(self):
        url = self.cleaned_data["url"]
        problem = webhooks.registration_problem(url)
        if problem:
            raise forms.ValidationError(problem)
        return url


class ResendForm(ActionForm):
    cursor = forms.IntegerField(
        label=_("from cursor"),
        required=False,
        min_value=0,
        help_text=_("For “deliver again”: the entries after this cursor are delivered again."),
    )


@admin.action(description=_("Deliver again from the given cursor (and enable)"), permissions=["change"])
def resend(modeladmin, request, queryset):
    raw = request.POST.get("cursor", "")
    if not raw.isdigit():
        modeladmin.message_user(request, _("Give the cursor to deliver again from (0 or more)."), messages.ERROR)
        return
    endpoints = list(queryset)
    with transaction.atomic():
        for endpoint in endpoints:
            webhooks.endpoint_resend(endpoint, after=int(raw))
        transaction.on_commit(tasks.schedule_sweep)
    modeladmin.message_user(
        request,
        ngettext(
            "%(count)d endpoint will receive the entries after cursor %(cursor)s again.",
            "%(count)d endpoints will receive the entries after cursor %(cursor)s again.",
            len(endpoints),
        )
        % {"count": len(endpoints), "cursor": raw},
        messages.SUCCESS,
    )


@admin.action(
    description=_("Rotate the signing secret (the old one signs too for a grace period)"), permissions=["change"]
)
def rotate_secret(modeladmin, request, queryset):
    endpoints = list(queryset)
    for endpoint in endpoints:
        webhooks.endpoint_rotate_secret(endpoint)
    modeladmin.message_user(
        request,
        ngettext(
            "%(count)d endpoint has a new signing secret; the old one signs too for %(hours)d hours.",
            "%(count)d endpoints have a new signing secret; the old ones sign too for %(hours)d hours.",
            len(endpoints),
        )
        % {"count": len(endpoints), "hours": settings.WEBHOOK_SECRET_GRACE_HOURS},
        messages.SUCCESS,
    )


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Partner endpoints; the secret is shown here and to the partner's token."""

    form = WebhookEndpointForm
    action_form = ResendForm
    actions = [resend, rotate_secret]
    list_display = ["url", "organisation", "is_active", "cursor", "consecutive_failures", "next_attempt_at"]
    list_select_related = ["organisation"]
    list_filter = ["is_active", "organisation"]
    search_fields = ["url", "description", "organisation__name", "organisation__short_name"]
    autocomplete_fields = ["organisation"]
    readonly_fields = [
        "secret",
        "previous_secret_expires_at",
        "cursor",
        "pending_through",
        "consecutive_failures",
        "failing_since",
        "next_attempt_at",
        "disabled_reason",
        "delivery_log",
        "created_at",
        "updated_at",
    ]
    view_on_site = False

    def get_fields(self, request, obj=None):
        editable = ["organisation", "url", "description", "kinds", "is_active"]
        return editable if obj is None else [*editable, *self.readonly_fields]

    @admin.display(description=_("delivery log"))
    def delivery_log(self, obj):
        url = reverse("admin:agreements_webhookdelivery_changelist") + f"?endpoint__id__exact={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, _("Every attempt to deliver to this endpoint"))

    def save_model(self, request, obj, form, change):
        if change and "is_active" in form.changed_data and obj.is_active:
            # Enabled again: the deliveries resume at the cursor, the failures forgotten.
            obj.disabled_reason, obj.consecutive_failures, obj.failing_since, obj.next_attempt_at = "", 0, None, None
        super().save_model(request, obj, form, change)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Every delivery attempt, as it happened: read only."""

    list_display = [
        "attempted_at",
        "endpoint",
        "webhook_id",
        "first_cursor",
        "last_cursor",
        "entries",
        "attempt",
        "status_code",
        "succeeded",
        "latency_ms",
        "error",
    ]
    list_select_related = ["endpoint__organisation"]
    list_filter = ["succeeded", "endpoint__organisation"]
    search_fields = ["webhook_id", "endpoint__url", "error"]
    date_hierarchy = "attempted_at"
    view_on_site = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
