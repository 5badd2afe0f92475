import datetime

from django.db import models
from django.utils import formats
from django.utils.translation import gettext_lazy as _


class OrganisationKind(models.TextChoices):
    CLUSTER = "cluster", _("Cluster")
    ASSOCIATION = "association", _("Association")
    PUBLIC_AUTHORITY = "public_authority", _("Public authority")
    COMPANY = "company", _("Company")
    RESEARCH = "research", _("Research institution")
    OTHER = "other", _("Other")


class AgreementKind(models.TextChoices):
    COOPERATION_AGREEMENT = "cooperation_agreement", _("Cooperation agreement")
    MEMORANDUM_OF_UNDERSTANDING = "memorandum_of_understanding", _("Memorandum of understanding")
    LETTER_OF_INTENT = "letter_of_intent", _("Letter of intent")
    FRAMEWORK_AGREEMENT = "framework_agreement", _("Framework agreement")
    OTHER = "other", _("Other")


class AgreementStatus(models.TextChoices):
    """Stored status. "Expired" is not stored: it follows from valid_until."""

    DRAFT = "draft", _("Draft")
    NEGOTIATING = "negotiating", _("Negotiating")
    SIGNED = "signed", _("Signed")
    TERMINATED = "terminated", _("Terminated")

    @classmethod
    def concluded(cls) -> list[str]:
        """Statuses of agreements that were signed at some point."""
        return [cls.SIGNED, cls.TERMINATED]

    def next_statuses(self) -> list["AgreementStatus"]:
        """The lifecycle: draft ⇄ negotiating → signed → terminated."""
        return {
            AgreementStatus.DRAFT: [AgreementStatus.NEGOTIATING, AgreementStatus.SIGNED],
            AgreementStatus.NEGOTIATING: [AgreementStatus.DRAFT, AgreementStatus.SIGNED],
            AgreementStatus.SIGNED: [AgreementStatus.TERMINATED],
            AgreementStatus.TERMINATED: [],
        }[self]


class SuccessionKind(models.TextChoices):
    """How an agreement relates to the earlier one it follows."""

    RENEWS = "renews", _("Renews")
    AMENDS = "amends", _("Amends")
    SUPERSEDES = "supersedes", _("Supersedes")


class PartyRole(models.TextChoices):
    PARTY = "party", _("Party")
    LEAD = "lead", _("Lead partner")
    COORDINATOR = "coordinator", _("Coordinator")
    SUPPORTER = "supporter", _("Supporting partner")


class DocumentKind(models.TextChoices):
    SIGNED_SCAN = "signed_scan", _("Signed scan")
    TRANSLATION = "translation", _("Translation")
    ANNEX = "annex", _("Annex")
    OTHER = "other", _("Other")


class SourceKind(models.TextChoices):
    PRESS_RELEASE = "press_release", _("Press release")
    REPORT = "report", _("Report")
    ANNOUNCEMENT = "announcement", _("Announcement")
    OFFICIAL_RECORD = "official_record", _("Official record")
    OTHER = "other", _("Other")


class ProgrammeItemKind(models.TextChoices):
    FORUM = "forum", _("Forum")
    WORKSHOP = "workshop", _("Workshop")
    MEETING = "meeting", _("Meeting")
    SITE_VISIT = "site_visit", _("Site visit")
    SIGNING = "signing", _("Signing")
    RECEPTION = "reception", _("Reception")
    OTHER = "other", _("Other")


class LegalPageKind(models.TextChoices):
    """The pages a German public body's site must have; each is served at its own address."""

    IMPRINT = "imprint", _("Legal notice")
    PRIVACY = "privacy", _("Privacy notice")
    ACCESSIBILITY = "accessibility", _("Accessibility statement")


class TextLanguage(models.TextChoices):
    """Languages reader-facing text can be held in; the first is the default."""

    DE = "de", _("German")
    EN = "en", _("English")
    PL = "pl", _("Polish")


class DatePrecision(models.TextChoices):
    """How much of a stored date is known.

    A date known only to the month is stored as the first of that month, one
    known only to the year as 1 January; the database checks this.
    """

    DAY = "day", _("Day")
    MONTH = "month", _("Month")
    YEAR = "year", _("Year")

    def truncate(self, value: datetime.date) -> datetime.date:
        if self == DatePrecision.YEAR:
            return value.replace(month=1, day=1)
        if self == DatePrecision.MONTH:
            return value.replace(day=1)
        return value

    def iso(self, value: datetime.date | None) -> str:
        """ISO 8601 with only what is known: 2026-03-17, 2026-03 or 2026 (the
        reduced forms schema.org and most data tools accept)."""
        if value is None:
            return ""
        if self == DatePrecision.YEAR:
            return f"{value.year:04d}"
        if self == DatePrecision.MONTH:
            return f"{value.year:04d}-{value.month:02d}"
        return value.isoformat()

    def format(self, value: datetime.date | None) -> str:
        """Format a date in the active language, showing only what is known."""
        if value is None:
            return ""
        if self == DatePrecision.YEAR:
            return str(value.year)
        if self == DatePrecision.MONTH:
            return formats.date_format(value, "YEAR_MONTH_FORMAT")
        return formats.date_format(value, "DATE_FORMAT")
