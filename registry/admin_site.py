"""The staff site: Django's admin with an optional second factor (TOTP, from
django-otp) that registry administrators can require of anyone by adding them
to the "second factor required" group."""

import base64

import segno
from django import forms
from django.contrib import admin, messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.decorators import login_required
from django.contrib.contenttypes.models import ContentType
from django.contrib.contenttypes.views import shortcut
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django_otp import devices_for_user, user_has_device
from django_otp import login as otp_login
from django_otp.forms import OTPAuthenticationFormMixin
from django_otp.plugins.otp_totp.models import TOTPDevice

from .second_factor import second_factor_required, second_factor_satisfied


class RegistryAuthenticationForm(OTPAuthenticationFormMixin, AdminAuthenticationForm):
    """Password, then the authenticator code if the user has set one up."""

    otp_device = forms.CharField(required=False, widget=forms.HiddenInput)
    otp_challenge = forms.CharField(required=False, widget=forms.HiddenInput)
    otp_token = forms.CharField(
        label=_("Code from your authenticator app"),
        required=False,
        max_length=8,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
        help_text=_("Only if you have turned on two-factor authentication."),
    )

    def _chosen_device(self, user):
        # One authenticator per account: the form offers no device choice.
        return super()._chosen_device(user) or next(devices_for_user(user, for_verify=True), None)

    def clean(self):
        cleaned = super().clean()
        user = self.get_user()
        if user is not None and user_has_device(user):
            self.clean_otp(user)
        return cleaned


class TokenForm(forms.Form):
    token = forms.CharField(
        label=_("Code from your authenticator app"),
        max_length=8,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class RegistryAdminSite(admin.AdminSite):
    login_form = RegistryAuthenticationForm
    login_template = "admin/login.html"

    def has_permission(self, request):
        return super().has_permission(request) and second_factor_satisfied(request.user)

    def login(self, request, extra_context=None):
        user = request.user
        if user.is_authenticated and user.is_active and user.is_staff and not second_factor_satisfied(user):
            return redirect("admin:two_factor")
        return super().login(request, extra_context)

    def get_urls(self):
        urls = [
            path("r/<path:content_type_id>/<path:object_id>/", self.admin_view(self.view_on_site), name="view_on_site")
            if getattr(url, "name", None) == "view_on_site"
            else url
            for url in super().get_urls()
        ]
        return [path("two-factor/", self.two_factor_view, name="two_factor"), *urls]

    def view_on_site(self, request, content_type_id, object_id):
        """Django's "view on site" redirect, for records the viewer may see
        (its own view would name any record's public address)."""
        try:
            model = ContentType.objects.get_for_id(content_type_id).model_class()
        except (ContentType.DoesNotExist, ValueError):
            raise Http404 from None
        model_admin = self._registry.get(model)
        if model_admin is None or not model_admin.get_queryset(request).filter(pk=object_id).exists():
            raise Http404
        return shortcut(request, content_type_id, object_id)

    def two_factor_view(self, request):
        return _two_factor_view(request, self)


@never_cache
@login_required(login_url="admin:login")
def _two_factor_view(request, site):
    """Turn on two-factor authentication: scan the key, confirm with a code."""
    user = request.user
    if not user.is_staff:
        return redirect("admin:login")
    context = {
        **site.each_context(request),
        "title": _("Two-factor authentication"),
        "required": second_factor_required(user),
        "confirmed": user_has_device(user),
    }
    if not context["confirmed"]:
        device = TOTPDevice.objects.filter(user=user, confirmed=False).first() or TOTPDevice.objects.create(
            user=user, name=str(_("Authenticator app")), confirmed=False
        )
        form = TokenForm(request.POST or None)
        if form.is_valid():
            if device.verify_token(form.cleaned_data["token"]):
                device.confirmed = True
                device.save(update_fields=["confirmed"])
                otp_login(request, device)
                messages.success(request, _("Two-factor authentication is on."))
                return redirect(reverse("admin:index"))
            form.add_error("token", _("This code is not right; check the time on your device and try again."))
        qr = segno.make(device.config_url, error="m")
        context |= {
            "form": form,
            "secret": base64.b32encode(device.bin_key).decode().rstrip("="),
            "qr_svg": qr.svg_inline(scale=4, title=str(_("QR code of the key"))),
        }
    return TemplateResponse(request, "admin/two_factor.html", context)
