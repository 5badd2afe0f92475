"""CSV/XLSX import and export of organisations and agreements (django-import-export).

Rows are matched on ``slug``, so re-importing an exported file changes
nothing; every row is validated with the model's ``full_clean`` and the
database constraints; the admin shows a dry-run preview with the errors per
row and imports only a file without errors, in one transaction.

Agreement parties are one column: ``slug:role`` items separated by ``;`` in
their order (``amz:lead; sa-am:party``); topics are slugs separated by ``,``.
"""

import datetime

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from import_export import fields, resources, widgets

from .choices import AgreementStatus, PartyRole
from .models import ORGANISATION_PROFILE_FIELDS, Agreement, Organisation, SigningEvent, Topic
from .services import agreement_parties_check, agreement_parties_set, agreement_status_change_check


class SlugForeignKeyWidget(widgets.ForeignKeyWidget):
    """A related record by its slug, with a message naming the slug when there is none."""

    def __init__(self, model):
        super().__init__(model, field="slug")

    def clean(self, value, row=None, **kwargs):
        try:
            return super().clean(value, row=row, **kwargs)
        except self.model.DoesNotExist:
            raise ValueError(
                _("No %(model)s with the slug “%(slug)s”.") % {"model": self.model._meta.verbose_name, "slug": value}
            ) from None


class TopicsWidget(widgets.ManyToManyWidget):
    def __init__(self):
        super().__init__(Topic, separator=",", field="slug")

    def clean(self, value, row=None, **kwargs):
        topics = super().clean(value, row=row, **kwargs)
        wanted = {slug.strip() for slug in str(value or "").split(",") if slug.strip()}
        missing = wanted - {topic.slug for topic in topics}
        if missing:
            raise ValueError(_("Unknown topics: %(slugs)s.") % {"slugs": ", ".join(sorted(missing))})
        return topics

    def render(self, value, obj=None, **kwargs):
        # Sorted in Python: the prefetched topics are used as they are.
        return ",".join(sorted(topic.slug for topic in value.all())) if value is not None else ""


class PartiesWidget(widgets.Widget):
    """``slug:role; slug:role`` <-> a tuple of (organisation slug, role) pairs."""

    def clean(self, value, row=None, **kwargs):
        parties = []
        for item in str(value or "").split(";"):
            item = item.strip()
            if not item:
                continue
            slug, _colon, role = (part.strip() for part in item.partition(":"))
            role = role or PartyRole.PARTY
            if role not in PartyRole.values:
                raise ValueError(
                    _("Unknown role “%(role)s” for %(slug)s; use one of: %(roles)s.")
                    % {"role": role, "slug": slug, "roles": ", ".join(PartyRole.values)}
                )
            parties.append((slug, role))
        slugs = [slug for slug, _role in parties]
        if len(set(slugs)) != len(slugs):
            raise ValueError(_("An organisation is listed twice among the parties."))
        known = set(Organisation.objects.filter(slug__in=slugs).values_list("slug", flat=True))
        missing = [slug for slug in slugs if slug not in known]
        if missing:
            raise ValueError(_("Unknown organisations: %(slugs)s.") % {"slugs": ", ".join(missing)})
        return tuple(parties)

    def render(self, value, obj=None, **kwargs):
        return "; ".join(f"{slug}:{role}" for slug, role in value or ())


class PartiesField(fields.Field):
    """The parties as (slug, role) pairs: read from the prefetched parties,
    written after the agreement is saved (see AgreementResource)."""

    def __init__(self):
        super().__init__(attribute="parties", column_name="parties", widget=PartiesWidget())

    def get_value(self, instance):
        if hasattr(instance, "_imported_parties"):
            return instance._imported_parties
        if instance.pk is None:
            return ()
        return tuple((party.organisation.slug, party.role) for party in instance.parties.all())

    def save(self, instance, row, is_m2m=False, **kwargs):
        instance._imported_parties = self.clean(row, **kwargs)


# A cell starting with one of these is run as a formula by spreadsheet programs
# (CSV injection): exports prefix it with an apostrophe, imports remove it again.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class RegistryResource(resources.ModelResource):
    def export_field(self, field, instance, **kwargs):
        value = super().export_field(field, instance, **kwargs)
        if isinstance(value, str) and value.startswith(FORMULA_STARTS):
            return "'" + value
        return value

    def before_import_row(self, row, **kwargs):
        for column, value in row.items():
            if value is None:
                row[column] = ""  # an empty spreadsheet cell
            elif isinstance(value, datetime.datetime):
                row[column] = value.date()  # spreadsheets store dates as date-times; ours are all dates
            elif isinstance(value, str) and value.startswith("'") and value[1:].startswith(FORMULA_STARTS):
                row[column] = value[1:]


class OrganisationResource(RegistryResource):
    parent = fields.Field(attribute="parent", column_name="parent", widget=SlugForeignKeyWidget(Organisation))

    class Meta:
        model = Organisation
        fields = ORGANISATION_PROFILE_FIELDS
        import_id_fields = ["slug"]
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True

    def dehydrate_country(self, organisation):
        return organisation.country.code

    def filter_export(self, queryset, **kwargs):
        return queryset.select_related("parent")


class AgreementResource(RegistryResource):
    topics = fields.Field(attribute="topics", column_name="topics", widget=TopicsWidget())
    parties = PartiesField()
    signing_event = fields.Field(
        attribute="signing_event", column_name="signing_event", widget=SlugForeignKeyWidget(SigningEvent)
    )
    predecessor = fields.Field(
        attribute="predecessor", column_name="predecessor", widget=SlugForeignKeyWidget(Agreement)
    )

    class Meta:
        model = Agreement
        fields = [
            "slug",
            "kind",
            "status",
            "is_public",
            "language",
            *Agreement.title.fields,
            *Agreement.summary.fields,
            *Agreement.objectives.fields,
            "signed_on",
            "signed_on_precision",
            "signing_event",
            "valid_from",
            "valid_until",
            "indefinite",
            "notice_period_days",
            "predecessor",
            "succession",
            "terminated_on",
            "termination_reason",
            "topics",
            "parties",
        ]
        import_id_fields = ["slug"]
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True

    def filter_export(self, queryset, **kwargs):
        return queryset.select_related("signing_event", "predecessor").prefetch_related(
            "topics", "parties__organisation"
        )

    def import_instance(self, instance, row, **kwargs):
        # Many-to-many columns are only written after validation; check the
        # topics now so that an unknown one is an error of its row, like any other.
        errors = {}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        if "topics" in row:
            try:
                self.fields["topics"].clean(row)
            except ValueError as error:
                errors["topics"] = ValidationError(str(error))
        if errors:
            raise ValidationError(errors)

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        errors = dict(import_validation_errors or {})
        if instance.pk is not None and "status" not in errors and instance.status in AgreementStatus.values:
            # An import creates a record in a state; an existing one moves only along the lifecycle.
            current = Agreement.objects.filter(pk=instance.pk).values_list("status", flat=True).first()
            if current is not None:
                try:
                    agreement_status_change_check(current=current, target=instance.status)
                except ValidationError as exc:
                    errors["status"] = ValidationError(exc.message_dict["status"])
        if "parties" not in errors:
            slugs = [slug for slug, _role in PartiesField().get_value(instance)]
            organisations = Organisation.objects.in_bulk(slugs, field_name="slug")
            try:
                agreement_parties_check(
                    status=instance.status,
                    organisation_ids=[organisations[slug].pk for slug in slugs if slug in organisations],
                )
            except ValidationError as exc:
                errors["parties"] = ValidationError(exc.message_dict["parties"])
        super().validate_instance(instance, errors, validate_unique)

    def after_save_instance(self, instance, row, **kwargs):
        """Make the agreement's parties those of the row (history is recorded per party)."""
        wanted = getattr(instance, "_imported_parties", None)
        if wanted is None:
            return
        organisations = Organisation.objects.in_bulk([slug for slug, _role in wanted], field_name="slug")
        agreement_parties_set(agreement=instance, parties=[(organisations[slug], role) for slug, role in wanted])
        del instance._imported_parties
