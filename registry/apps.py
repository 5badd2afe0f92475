from django.contrib.admin.apps import AdminConfig
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.apps import DefaultConfig as TOTPDefaultConfig


class RegistryAdminConfig(AdminConfig):
    """Django's admin with our site (second factor, see registry/admin_site.py)."""

    default_site = "registry.admin_site.RegistryAdminSite"


class TOTPConfig(TOTPDefaultConfig):
    """django-otp's authenticator devices, named in the staff's language: the
    app has no name of its own (the admin showed its label, "Otp_Totp") and the
    device's names are plain English strings."""

    verbose_name = _("Two-factor authentication")

    def ready(self):
        super().ready()
        from django_otp.plugins.otp_totp.models import TOTPDevice

        # Display names only: migrations read the model's own Meta (original_attrs).
        TOTPDevice._meta.verbose_name = _("authenticator app")
        TOTPDevice._meta.verbose_name_plural = _("authenticator apps")
        # Its admin with translated labels; the admin (an earlier app) has
        # loaded every admin module, the library's included, by now.
        from django.contrib import admin

        from .authenticator_admin import AuthenticatorAdmin

        admin.site.unregister(TOTPDevice)
        admin.site.register(TOTPDevice, AuthenticatorAdmin)
