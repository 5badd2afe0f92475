"""django-otp's admin of authenticator apps, in the staff member's language.
Registered in place of the library's by ``registry.apps.TOTPConfig`` (once the
admin has loaded every app's admin module)."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.admin import TOTPDeviceAdmin


class _Titled:
    """A list filter with our (translated) title instead of the field's name."""

    title_text = ""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.title = self.title_text


def titled(filter_class, title):
    return type(f"Titled{filter_class.__name__}", (_Titled, filter_class), {"title_text": title})


class AuthenticatorAdmin(TOTPDeviceAdmin):
    """django-otp's admin of authenticator apps (TOTP devices), in the staff
    member's language: the library's labels, help texts and sections are plain
    English strings. The same views and addresses, the same fields."""

    LABELS = {
        "user": _("user"),
        "name": _("name"),
        "confirmed": _("confirmed"),
        "key": _("key"),
        "step": _("time step"),
        "t0": _("start time (t0)"),
        "digits": _("digits"),
        "tolerance": _("tolerance"),
        "drift": _("drift"),
        "throttling_failure_timestamp": _("last failed attempt"),
        "throttling_failure_count": _("failed attempts in a row"),
    }
    HELP_TEXTS = {
        "user": _("The user this authenticator belongs to."),
        "name": _("A name for this authenticator."),
        "confirmed": _("Whether the authenticator is ready for use."),
        "key": _("The secret key, hex-encoded (up to 40 bytes)."),
        "step": _("The time step in seconds."),
        "t0": _("The Unix time at which counting time steps begins."),
        "digits": _("The number of digits of a code."),
        "tolerance": _("How many time steps before or after the current one a code may be from."),
        "drift": _("How many time steps the authenticator's clock is known to be off."),
        "throttling_failure_timestamp": _("When a code was last wrong (empty if the last one was right)."),
        "throttling_failure_count": _("Wrong codes in a row."),
    }
    SECTIONS = {
        "Identity": _("Identity"),
        "Timestamps": _("Times"),
        "Configuration": _("Configuration"),
        "State": _("State"),
        "Throttling": _("Wrong codes"),
    }
    TIMES = {"created_at": "created", "last_used_at": "last_used"}

    list_display = ["owner", "name_column", "created", "last_used", "is_confirmed"]
    list_filter = [
        ("created_at", titled(admin.DateFieldListFilter, _("created"))),
        ("last_used_at", titled(admin.DateFieldListFilter, _("last used"))),
        ("confirmed", titled(admin.BooleanFieldListFilter, _("confirmed"))),
    ]
    search_help_text = _("Search by the user's user name or e-mail address.")
    readonly_fields = ["created", "last_used", "qrcode_link"]

    def get_form(self, request, obj=None, **kwargs):
        kwargs.setdefault("labels", self.LABELS)
        kwargs.setdefault("help_texts", self.HELP_TEXTS)
        return super().get_form(request, obj, **kwargs)

    def get_fieldsets(self, request, obj=None):
        return [
            (self.SECTIONS.get(name, name), {**options, "fields": [self.TIMES.get(f, f) for f in options["fields"]]})
            for name, options in super().get_fieldsets(request, obj)
        ]

    @admin.display(description=_("user"), ordering="user")
    def owner(self, device):
        return device.user

    @admin.display(description=_("name"), ordering="name")
    def name_column(self, device):
        return device.name

    @admin.display(description=_("created"), ordering="created_at")
    def created(self, device):
        return device.created_at

    @admin.display(description=_("last used"), ordering="last_used_at")
    def last_used(self, device):
        return device.last_used_at

    @admin.display(description=_("confirmed"), boolean=True, ordering="confirmed")
    def is_confirmed(self, device):
        return device.confirmed

    @admin.display(description=_("QR code"))
    def qrcode_link(self, device):
        url = reverse("admin:otp_totp_totpdevice_config", kwargs={"pk": device.pk})
        return format_html('<a href="{}">{}</a>', url, _("Show the QR code"))
