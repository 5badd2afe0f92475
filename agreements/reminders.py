"""The text of an expiry reminder (sent by ``services.expiry_reminders_send``).

Language: the members of a party organisation receive its reminder in the
organisation's language (``Organisation.language``, the language its texts
were first written in); users have no language setting of their own. A
language the registry does not offer falls back to ``LANGUAGE_CODE``.

Link: the agreement's page in the admin, where the recipients (staff of a
party organisation) can open it whether or not it is public, as an absolute
address under ``SITE_URL`` (``DJANGO_SITE_URL``).
"""

from django.conf import settings
from django.urls import reverse
from django.utils import formats, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .models import Agreement, Organisation


def reminder_language(organisation: Organisation) -> str:
    offered = {code for code, _name in settings.LANGUAGES}
    return organisation.language if organisation.language in offered else settings.LANGUAGE_CODE


def record_url(agreement: Agreement) -> str:
    return settings.SITE_URL + reverse("admin:agreements_agreement_change", args=[agreement.pk])


def expiry_reminder_text(*, agreement: Agreement, organisation: Organisation) -> tuple[str, str]:
    """Subject and body of the reminder to ``organisation``'s members, in their language."""
    with translation.override(reminder_language(organisation)):
        values = {
            "title": agreement.title,
            "organisation": organisation.name,
            "date": formats.date_format(agreement.valid_until, "DATE_FORMAT"),
            "days": agreement.notice_period_days,
        }
        subject = _("Agreement ends on %(date)s: %(title)s") % values
        body = "\n\n".join(
            [
                ngettext(
                    "The agreement “%(title)s”, to which %(organisation)s is a party, is valid until %(date)s "
                    "(notice period: %(days)d day).",
                    "The agreement “%(title)s”, to which %(organisation)s is a party, is valid until %(date)s "
                    "(notice period: %(days)d days).",
                    agreement.notice_period_days,
                )
                % values,
                _(
                    "Decide in time whether to renew, amend or let it end; the registry records renewals as new "
                    "agreements linked to this one."
                ),
                _("The record in the registry: %(url)s") % {"url": record_url(agreement)},
            ]
        )
    return subject, body + "\n"
