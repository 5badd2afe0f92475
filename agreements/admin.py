"""Staff UI. Every changelist selects/prefetches what it shows, so it runs the
same number of queries whatever the number of rows (tests pin this)."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.contrib.admin.widgets import RelatedFieldWidgetWrapper
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import Count, prefetch_related_objects
from django.forms.models import BaseInlineFormSet
from django.http import Http404
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_countries.filters import CountryFilter as DjangoCountriesFilter
from import_export.admin import ImportExportMixin
from import_export.formats.base_formats import CSV, XLSX
from simple_history.admin import SimpleHistoryAdmin
from simple_history.manager import SIMPLE_HISTORY_REVERSE_ATTR_NAME
from translated_fields import TranslatedFieldAdmin

from . import access, admin_lifecycle, services
from .access import Viewer
from .models import (
    Agreement,
    AgreementDocument,
    AgreementParty,
    AgreementSource,
    ApiToken,
    DelegationTrip,
    ExpiryReminder,
    LegalPage,
    Organisation,
    Person,
    ProgrammeItem,
    Signatory,
    SigningEvent,
    Topic,
    TripStop,
)
from .resources import AgreementResource, OrganisationResource
from .search import folded_fields as folded
from .services import agreement_parties_check, record_version, stale_write_check, token_create, token_revoke


def may_for_request(request, action: str, obj) -> bool:
    """``access.may`` for the request's viewer, asked once per record and
    action in a request (a change page asks for every inline and button)."""
    answers = request.__dict__.setdefault("_registry_may", {})
    key = (action, obj._meta.label, obj.pk)
    if key not in answers:
        answers[key] = access.may(Viewer.for_request(request), action, obj)
    return answers[key]


class ScopedFormfieldsMixin:
    """Choices of related records (and the names of chosen ones) only from what the viewer may see."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # Choices (and the names of chosen rows) only from what the viewer may see.
        if "queryset" not in kwargs and db_field.related_model in access.RULES:
            kwargs["queryset"] = access.restrict(
                db_field.related_model._default_manager.all(), Viewer.for_request(request)
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if "queryset" not in kwargs and db_field.related_model in access.RULES:
            kwargs["queryset"] = access.restrict(
                db_field.related_model._default_manager.all(), Viewer.for_request(request)
            )
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class ScopedAdminMixin(ScopedFormfieldsMixin):
    """The access seam (``agreements.access``) for every view a ModelAdmin
    serves: changelist, change, add, delete, history list and version (and its
    revert), autocomplete (which asks the target's ``get_queryset``), actions,
    list-filter choices and import/export (which start from ``get_queryset``).

    Rows: ``get_queryset`` holds only what the viewer may see, so a hidden
    record is "does not exist" on every page that names it. Writes: a change or
    delete needs the model permission and the edit rule for that row."""

    def get_queryset(self, request):
        return access.restrict(super().get_queryset(request), Viewer.for_request(request), access.VIEW)

    def _may(self, request, action: str, obj) -> bool:
        return obj is None or may_for_request(request, action, obj)

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) and self._may(request, access.VIEW, obj)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._may(request, access.CHANGE, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._may(request, access.CHANGE, obj)

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is not None and not Viewer.for_request(request).sees_everything:
            # Many-to-many values (shown read-only, or as the form's initial
            # choices) only where the viewer may see the related record.
            for field in self.opts.many_to_many:
                if field.related_model in access.RULES:
                    visible = access.restrict(field.related_model._default_manager.all(), Viewer.for_request(request))
                    prefetch_related_objects([obj], models.Prefetch(field.name, queryset=visible))
        return obj

    def history_object_or_404(self, request, object_id):
        """The record whose history is asked for. History holds earlier states
        (texts, people, parties as they were), so it is shown to those who may
        change the record; a deleted record's history to registry
        administrators; otherwise 404, as for a missing record."""
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            history = getattr(self.model, "history", None)
            if Viewer.for_request(request).sees_everything and history is not None:
                record = history.filter(**{self.opts.pk.attname: unquote(object_id)}).first()
                if record is not None:
                    return record.instance
            raise Http404
        if not self.has_change_permission(request, obj):
            raise PermissionDenied
        return obj

    def history_view(self, request, object_id, extra_context=None):
        self.history_object_or_404(request, object_id)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        self.history_object_or_404(request, object_id)
        # A revert is a save like the change form's: one transaction (the
        # form's lost-update check locks the row).
        with transaction.atomic():
            return super().history_form_view(request, object_id, version_id, extra_context)

    def response_action(self, request, queryset, *args, **kwargs):
        # An action that writes runs only on rows the viewer may change: a
        # selection that holds any other row is refused as a whole.
        func = self._requested_action(request)
        reads_only = set(getattr(func, "allowed_permissions", ())) <= {"view", "export"} and func is not None
        if func is not None and not reads_only:
            selected = queryset
            if request.POST.get("select_across") != "1":
                selected = queryset.filter(pk__in=request.POST.getlist(helpers.ACTION_CHECKBOX_NAME))
            editable = access.restrict(selected, Viewer.for_request(request), access.CHANGE)
            if selected.count() != editable.count():
                self.message_user(
                    request, _("You may not change some of the selected records; nothing was done."), messages.ERROR
                )
                return None
        return super().response_action(request, queryset, *args, **kwargs)

    def _requested_action(self, request):
        names = request.POST.getlist("action")
        try:
            name = names[int(request.POST.get("index", 0))]
        except (IndexError, ValueError):
            return None
        action = self.get_actions(request).get(name)
        if action is None:
            return None
        return action[0] if isinstance(action, tuple) else action.func


class RegistryAdmin(ScopedAdminMixin, TranslatedFieldAdmin, SimpleHistoryAdmin):
    """Translated-field labels ("Title [en]"), the change-history view, the access seam."""

    list_per_page = 50
    show_full_result_count = False

    def get_history_queryset(self, request, history_manager, pk_name, object_id):
        # simple-history calls select_related() with no names for models without
        # foreign keys, which Django 6.1 deprecates; name the fields ourselves.
        foreign_keys = [f.name for f in history_manager.model.tracked_fields if isinstance(f, models.ForeignKey)]
        return history_manager.filter(**{pk_name: object_id}).select_related("history_user", *foreign_keys)


class CountryFilter(DjangoCountriesFilter):
    """Countries of the rows the viewer may see (django-countries' filter reads the whole table)."""

    def lookup_choices(self, changelist):
        codes = set(changelist.root_queryset.order_by().values_list(self.field_path, flat=True).distinct())
        for code, name in self.field.get_choices(include_blank=False):
            if code in codes:
                yield code, name


class ScopedInlineMixin:
    """Inlines: rows the viewer may see; editable only where the parent record is."""

    def get_queryset(self, request):
        return access.restrict(super().get_queryset(request), Viewer.for_request(request), access.VIEW)

    def _may_edit(self, request, obj):
        return obj is None or may_for_request(request, access.CHANGE, obj)

    def has_add_permission(self, request, obj=None):
        return super().has_add_permission(request, obj) and self._may_edit(request, obj)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._may_edit(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._may_edit(request, obj)


class LabelledRowsFormSetMixin:
    """A tabular inline labels its fields only once, in the column headers: each
    row's fields (and its delete box) get their label as aria-label, so every
    input, select and checkbox has an accessible name (WCAG 1.3.1, 4.1.2); the
    admin's Select2 script (static/js/admin-a11y.js) names its comboboxes from it."""

    def add_fields(self, form, index):
        super().add_fields(form, index)
        for name, field in form.fields.items():
            widget = field.widget
            while isinstance(widget, RelatedFieldWidgetWrapper):  # the wrapped widget draws the control
                widget = widget.widget
            if not widget.is_hidden and "aria-label" not in widget.attrs:
                label = str(field.label or name.replace("_", " "))
                widget.attrs["aria-label"] = label[:1].upper() + label[1:]


class TabularInline(ScopedFormfieldsMixin, ScopedInlineMixin, admin.TabularInline):
    view_on_site = False

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        return type(formset.__name__, (LabelledRowsFormSetMixin, formset), {})


class StackedInline(ScopedFormfieldsMixin, ScopedInlineMixin, admin.StackedInline):
    view_on_site = False


class ImportExportAdmin(ImportExportMixin):
    """CSV/XLSX export of the changelist as filtered (and as far as the user may
    see it); import with a dry-run preview, for registry administrators only,
    all-or-nothing."""

    formats = [CSV, XLSX]

    def has_import_permission(self, request):
        return (
            Viewer.for_request(request).sees_everything
            and self.has_add_permission(request)
            and self.has_change_permission(request)
        )

    def get_import_data_kwargs(self, **kwargs):
        # A row that turns invalid between the preview and the confirmation
        # (someone edited meanwhile) rolls the whole import back.
        return {**super().get_import_data_kwargs(**kwargs), "rollback_on_validation_errors": True}


def _set_public(modeladmin, request, queryset, *, public: bool):
    changed = 0
    for obj in queryset.filter(is_public=not public):
        obj.is_public = public
        obj.save(update_fields=["is_public", "updated_at"] if hasattr(obj, "updated_at") else ["is_public"])
        changed += 1
    modeladmin.message_user(
        request,
        ngettext("%(count)d record changed.", "%(count)d records changed.", changed) % {"count": changed},
        messages.SUCCESS,
    )


@admin.action(description=_("Publish selected records"), permissions=["change"])
def publish(modeladmin, request, queryset):
    _set_public(modeladmin, request, queryset, public=True)


@admin.action(description=_("Unpublish selected records"), permissions=["change"])
def unpublish(modeladmin, request, queryset):
    _set_public(modeladmin, request, queryset, public=False)


# --------------------------------------------------------------------------
# Organisations, people, topics


@admin.register(Organisation)
class OrganisationAdmin(ImportExportAdmin, RegistryAdmin):
    resource_classes = [OrganisationResource]
    list_display = ["name", "short_name", "kind", "country", "region", "city", "parent", "agreement_count"]
    list_select_related = ["parent"]
    list_filter = ["kind", ("country", CountryFilter)]
    search_fields = [*folded("name", "short_name", "city", "region"), "slug"]
    prepopulated_fields = {"slug": ["short_name"]}
    autocomplete_fields = ["parent", "members"]
    readonly_fields = ["created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["name", "short_name", "slug", "kind", "parent"]}),
        (_("Organisation editors"), {"fields": ["members"]}),
        (
            _("Location"),
            {"fields": ["country", "region", "city", "website", "latitude", "longitude", "coordinates_source"]},
        ),
        (_("Description"), {"fields": [*Organisation.description.fields, "language"]}),
        (_("Record"), {"fields": ["created_at", "updated_at"], "classes": ["collapse"]}),
    ]

    def get_queryset(self, request):
        # Meta.ordering does not apply to GROUP BY queries: order explicitly.
        return super().get_queryset(request).annotate(_agreement_count=Count("agreement_parties")).order_by("name")

    @admin.display(description=_("agreements"), ordering="_agreement_count")
    def agreement_count(self, obj):
        return obj._agreement_count

    def get_readonly_fields(self, request, obj=None):
        if Viewer.for_request(request).sees_everything:
            return self.readonly_fields
        return [*self.readonly_fields, "members", "parent"]


@admin.register(Person)
class PersonAdmin(RegistryAdmin):
    list_display = ["name", "position", "organisation", "is_public", "updated_at"]
    list_select_related = ["organisation"]
    list_filter = ["is_public", "organisation__kind", ("organisation__country", CountryFilter)]
    search_fields = [
        *folded("name", *Person.position.fields, "organisation__name", "organisation__short_name"),
        "slug",
    ]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["organisation"]
    actions = [publish, unpublish]
    readonly_fields = ["created_at", "updated_at"]
    view_on_site = False  # people have no public page of their own

    fieldsets = [
        (None, {"fields": ["honorific", "name", "slug", "organisation", "is_public"]}),
        (_("Position"), {"fields": [*Person.position.fields, "language"]}),
        (_("Record"), {"fields": ["created_at", "updated_at"], "classes": ["collapse"]}),
    ]


@admin.register(Topic)
class TopicAdmin(RegistryAdmin):
    list_display = [*Topic.name.fields, "slug", "agreement_count"]
    search_fields = [*folded(*Topic.name.fields), "slug"]
    prepopulated_fields = {"slug": ["name_en"]}
    readonly_fields = ["created_at", "updated_at"]
    fields = ["slug", *Topic.name.fields, *Topic.description.fields, "language", "created_at", "updated_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_agreement_count=Count("agreements")).order_by("slug")

    @admin.display(description=_("agreements"), ordering="_agreement_count")
    def agreement_count(self, obj):
        return obj._agreement_count


# --------------------------------------------------------------------------
# Agreements


class PartyInlineFormSet(BaseInlineFormSet):
    """The parties as the form holds them, checked by the one party rule (``services.agreement_parties_check``)."""

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        organisations = [
            form.cleaned_data["organisation"].pk
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE") and form.cleaned_data.get("organisation")
        ]
        try:
            agreement_parties_check(
                status=self.instance.status, organisation_ids=organisations, viewer=getattr(self, "viewer", None)
            )
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["parties"]) from exc


class AgreementAdminForm(forms.ModelForm):
    """Refuses to overwrite a change someone else saved after this form was
    loaded (``services.stale_write_check``, as the API's If-Match)."""

    loaded_version = forms.CharField(label=_("Loaded version"), widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            updated_at = self.instance.updated_at
            if getattr(self.instance, SIMPLE_HISTORY_REVERSE_ATTR_NAME, None) is not None:
                # An earlier version (History → revert): it replaces the current row.
                updated_at = Agreement.objects.values_list("updated_at", flat=True).get(pk=self.instance.pk)
            self.fields["loaded_version"].initial = record_version(Agreement, self.instance.pk, updated_at)

    def clean(self):
        cleaned = super().clean()
        loaded = self.cleaned_data.get("loaded_version")
        if self.instance.pk and loaded:
            # The row stays locked for the rest of this save, so two saves cannot both pass.
            stale_write_check(model=Agreement, pk=self.instance.pk, versions=[loaded])
        return cleaned


class AgreementPartyInline(TabularInline):
    model = AgreementParty
    formset = PartyInlineFormSet
    autocomplete_fields = ["organisation"]
    fields = ["organisation", "role", "position"]
    extra = 0
    min_num = 0

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.viewer = Viewer.for_request(request)
        return formset


class SignatoryInline(TabularInline):
    model = Signatory
    autocomplete_fields = ["person", "organisation"]
    extra = 0


class DocumentFileMixin:
    """Documents: the upload field never links to a storage URL (there is
    none); a download link through the visibility-checked view instead."""

    formfield_overrides = {models.FileField: {"widget": forms.FileInput}}

    @admin.display(description=_("stored file"))
    def download(self, obj):
        if not obj or not obj.pk:
            return "–"
        return format_html(
            '<a href="{}">{}</a> ({}, {})',
            obj.get_absolute_url(),
            obj.download_name,
            obj.content_type,
            filesizeformat(obj.size),
        )


class AgreementDocumentInline(DocumentFileMixin, TabularInline):
    model = AgreementDocument
    fields = ["kind", "title", "file", "download", "language", "is_public"]
    readonly_fields = ["download"]
    extra = 0


class AgreementSourceInline(TabularInline):
    model = AgreementSource
    fields = ["kind", "title", "url", "publisher", "published_on"]
    extra = 0


class ExpiryReminderInline(TabularInline):
    """The reminders sent about this agreement (written only by send_expiry_reminders)."""

    model = ExpiryReminder
    fields = readonly_fields = ["organisation", "valid_until", "recipients", "sent_at"]
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Agreement)
class AgreementAdmin(ImportExportAdmin, RegistryAdmin):
    resource_classes = [AgreementResource]
    list_display = ["title", "status", "kind", "signed", "party_names", "is_public", "updated_at"]
    list_select_related = ["signing_event"]
    list_filter = [
        "status",
        "kind",
        "is_public",
        "topics",
        ("parties__organisation__country", CountryFilter),
        "signing_event__trip",
    ]
    date_hierarchy = "signed_date"
    # The agreement's searchable text: titles, parties, signing place, summaries and objectives.
    search_fields = ["search_text__folded", "slug"]
    autocomplete_fields = ["topics", "signing_event", "predecessor"]
    actions = [publish, unpublish]
    inlines = [
        AgreementPartyInline,
        SignatoryInline,
        AgreementDocumentInline,
        AgreementSourceInline,
        ExpiryReminderInline,
    ]
    readonly_fields = ["published_at", "created_at", "updated_at", "party_confirmations"]
    change_form_template = "admin/agreements/agreement/change_form.html"
    form = AgreementAdminForm
    fieldsets = [
        (None, {"fields": ["slug", "kind", "status", "is_public", "language", "loaded_version"]}),
        (_("Title"), {"fields": Agreement.title.fields}),
        (_("Summary"), {"fields": Agreement.summary.fields}),
        (_("Objectives"), {"fields": Agreement.objectives.fields}),
        (
            _("Signing and validity"),
            {
                "fields": [
                    "signed_on",
                    "signed_on_precision",
                    "signing_event",
                    "valid_from",
                    "valid_until",
                    "indefinite",
                ]
            },
        ),
        (_("Topics"), {"fields": ["topics"]}),
        (
            _("Lifecycle"),
            {"fields": ["predecessor", "succession", "notice_period_days", "terminated_on", "termination_reason"]},
        ),
        (_("Partner confirmations"), {"fields": ["party_confirmations"]}),
        (_("Record"), {"fields": ["published_at", "created_at", "updated_at"], "classes": ["collapse"]}),
    ]

    def get_prepopulated_fields(self, request, obj=None):
        return {"slug": ["title_en"]}

    @admin.display(description=_("confirmed by the parties"))
    def party_confirmations(self, obj):
        """Each party's word on the record (services.agreement_confirmations): who has not confirmed yet,
        and whose confirmation the content has changed since."""
        if obj is None or obj.pk is None:
            return "–"
        state = services.agreement_confirmations(obj)
        return format_html(
            "<ul>{}</ul><p>{}: <code>{}</code></p>",
            format_html_join(
                "",
                "<li>{}: {}</li>",
                (
                    (entry["organisation"].display_name, services.confirmation_state_text(entry))
                    for entry in state["parties"]
                ),
            ),
            _("Current content hash"),
            state["content_hash"],
        )

    def get_readonly_fields(self, request, obj=None):
        # Once created, the status moves only through the lifecycle actions.
        lifecycle = ["status", "terminated_on", "termination_reason"] if obj else []
        return [*self.readonly_fields, *lifecycle]

    def get_urls(self):
        return [
            path(
                "<int:pk>/lifecycle/<slug:action>/",
                self.admin_site.admin_view(self.lifecycle_view),
                name="agreements_agreement_lifecycle",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        extra = {}
        if obj is not None:
            extra = {"lifecycle_actions": admin_lifecycle.legal_actions(obj), "chain": obj.chain()}
        return super().change_view(request, object_id, form_url, {**extra, **(extra_context or {})})

    def lifecycle_view(self, request, pk, action):
        obj = self.get_object(request, str(pk))
        if obj is None:
            raise Http404
        if not self.has_change_permission(request, obj):
            raise PermissionDenied
        return admin_lifecycle.run(self, request, obj, action)

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("parties__organisation")

    @admin.display(description=_("signed"), ordering="signed_date")
    def signed(self, obj):
        return obj.signed_on_display or "–"

    @admin.display(description=_("parties"))
    def party_names(self, obj):
        return ", ".join(party.organisation.display_name for party in obj.parties.all())


@admin.register(AgreementDocument)
class AgreementDocumentAdmin(DocumentFileMixin, RegistryAdmin):
    list_display = ["title", "agreement", "kind", "language", "is_public", "download", "updated_at"]
    fields = ["agreement", "kind", "title", "file", "download", "language", "is_public", "created_at", "updated_at"]
    readonly_fields = ["download", "created_at", "updated_at"]
    list_select_related = ["agreement"]
    list_filter = ["kind", "is_public", "language"]
    search_fields = folded("title", *(f"agreement__{f}" for f in Agreement.title.fields))
    autocomplete_fields = ["agreement"]
    actions = [publish, unpublish]
    date_hierarchy = "created_at"

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "agreement":
            # A document can be attached only to an agreement the user may edit.
            kwargs["queryset"] = Agreement.objects.editable_by(Viewer.for_request(request))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


# --------------------------------------------------------------------------
# Signing events and trips


class SignedAgreementInline(TabularInline):
    """The agreements signed at an event; they are edited on their own page."""

    model = Agreement
    fields = ["title", "status", "signed", "is_public"]
    readonly_fields = fields
    show_change_link = True
    can_delete = False
    extra = 0
    verbose_name = _("agreement signed here")
    verbose_name_plural = _("agreements signed here")

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description=_("signed"))
    def signed(self, obj):
        return obj.signed_on_display


@admin.register(SigningEvent)
class SigningEventAdmin(RegistryAdmin):
    list_display = ["title", "date_shown", "city", "country", "trip", "agreement_count"]
    list_select_related = ["trip"]
    list_filter = [("country", CountryFilter), "trip"]
    date_hierarchy = "date"
    search_fields = [*folded(*SigningEvent.title.fields, "city", "venue"), "slug"]
    autocomplete_fields = ["trip", "people_present"]
    prepopulated_fields = {"slug": ["title_en"]}
    inlines = [SignedAgreementInline]
    readonly_fields = ["created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["slug", *SigningEvent.title.fields, "language"]}),
        (_("When and where"), {"fields": ["date", "date_precision", "venue", "city", "country", "trip"]}),
        (_("Description"), {"fields": SigningEvent.description.fields}),
        (_("People present"), {"fields": ["people_present"]}),
        (_("Record"), {"fields": ["created_at", "updated_at"], "classes": ["collapse"]}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_agreement_count=Count("agreements")).order_by("-date", "slug")

    @admin.display(description=_("date"), ordering="date")
    def date_shown(self, obj):
        return obj.date_display

    @admin.display(description=_("agreements"), ordering="_agreement_count")
    def agreement_count(self, obj):
        return obj._agreement_count


class TripStopInline(TabularInline):
    model = TripStop
    fields = ["city", "arrival_date", "departure_date", "position"]
    extra = 0


class ProgrammeItemInline(StackedInline):
    model = ProgrammeItem
    fk_name = "trip"
    extra = 0
    autocomplete_fields = ["signing_event"]
    fields = [
        ("kind", "date", "start_time", "end_time"),
        ("city", "venue", "participant_count"),
        tuple(ProgrammeItem.title.fields),
        *ProgrammeItem.description.fields,
        ("language", "part_of", "signing_event"),
    ]


@admin.register(DelegationTrip)
class DelegationTripAdmin(RegistryAdmin):
    list_display = ["title", "start_date", "end_date", "destination_country", "leader", "organiser", "item_count"]
    list_select_related = ["leader", "organiser"]
    list_filter = [("destination_country", CountryFilter), "organiser"]
    date_hierarchy = "start_date"
    search_fields = [*folded(*DelegationTrip.title.fields, "stops__city", "leader__name"), "slug"]
    autocomplete_fields = ["leader", "organiser", "participant_organisations", "participant_people"]
    prepopulated_fields = {"slug": ["title_en"]}
    inlines = [TripStopInline, ProgrammeItemInline]
    readonly_fields = ["created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["slug", *DelegationTrip.title.fields, "language"]}),
        (
            _("Trip"),
            {"fields": ["leader", "organiser", "destination_country", "start_date", "end_date", "delegation_size"]},
        ),
        (_("Purpose"), {"fields": DelegationTrip.purpose.fields}),
        (_("Participants"), {"fields": ["participant_organisations", "participant_people"]}),
        (_("Record"), {"fields": ["created_at", "updated_at"], "classes": ["collapse"]}),
    ]

    def get_queryset(self, request):
        return (
            super().get_queryset(request).annotate(_item_count=Count("programme_items")).order_by("-start_date", "slug")
        )

    @admin.display(description=_("programme items"), ordering="_item_count")
    def item_count(self, obj):
        return obj._item_count


@admin.register(ProgrammeItem)
class ProgrammeItemAdmin(RegistryAdmin):
    list_display = ["title", "kind", "date", "city", "trip", "participant_count"]
    list_select_related = ["trip"]
    list_filter = ["kind", "trip"]
    date_hierarchy = "date"
    search_fields = folded(*ProgrammeItem.title.fields, "city", "venue")
    autocomplete_fields = ["trip", "part_of", "signing_event"]


# --------------------------------------------------------------------------
# API tokens


@admin.action(description=_("Revoke selected tokens"), permissions=["change"])
def revoke_tokens(modeladmin, request, queryset):
    tokens = list(queryset.filter(revoked_at__isnull=True))
    for token in tokens:
        token_revoke(token=token, revoked_by=request.user)
    modeladmin.message_user(
        request,
        ngettext("%(count)d token revoked.", "%(count)d tokens revoked.", len(tokens)) % {"count": len(tokens)},
        messages.SUCCESS,
    )


@admin.register(ApiToken)
class ApiTokenAdmin(ScopedAdminMixin, SimpleHistoryAdmin):
    """Tokens are created here (the key is shown once) and revoked; never edited."""

    list_display = ["name", "organisation", "user", "prefix", "created_at", "expires_at", "revoked_at", "last_used_at"]
    list_select_related = ["organisation", "user"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter), "organisation"]
    search_fields = ["name", "prefix", "organisation__name", "organisation__short_name", "user__username"]
    autocomplete_fields = ["organisation", "user"]
    actions = [revoke_tokens]
    fields = ["name", "organisation", "user", "expires_at"]
    readonly_fields = ["prefix", "created_at", "created_by", "revoked_at", "last_used_at"]
    view_on_site = False

    def get_fields(self, request, obj=None):
        return self.fields if obj is None else [*self.fields, *self.readonly_fields]

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is None else [*self.fields, *self.readonly_fields]

    def save_model(self, request, obj, form, change):
        if change:
            return  # tokens are immutable; revoke and create a new one instead
        token, key = token_create(
            name=obj.name,
            organisation=obj.organisation,
            user=obj.user,
            expires_at=obj.expires_at,
            created_by=request.user,
        )
        obj.pk = token.pk
        request._new_api_key = key

    def response_add(self, request, obj, post_url_continue=None):
        # The key is rendered into this one response and stored nowhere.
        return TemplateResponse(
            request,
            "admin/agreements/apitoken/key_created.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "token": ApiToken.objects.get(pk=obj.pk),
                "key": request._new_api_key,
                "title": _("API token created"),
            },
        )


# --------------------------------------------------------------------------
# Legal pages


@admin.register(LegalPage)
class LegalPageAdmin(RegistryAdmin):
    """The legal notice, privacy notice and accessibility statement: one page
    of each kind, always there (the footer links them), so edited but never
    added or deleted. Registry administrators hold the permissions; editors none."""

    list_display = ["__str__", "kind", "updated_at"]
    readonly_fields = ["kind", "created_at", "updated_at"]
    fields = ["kind", *LegalPage.title.fields, *LegalPage.body.fields, "language", "created_at", "updated_at"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# Webhook endpoints and their delivery log.
from . import admin_webhooks  # noqa: E402, F401
