"""The admin's lifecycle actions: the legal next steps of an agreement as
buttons, each a small form (and the view behind it) that calls the service in
``services.py``; the API's steps call the same services."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import services
from .choices import AgreementStatus, DatePrecision, SuccessionKind
from .models import Agreement, SigningEvent


class SignForm(forms.Form):
    signed_on = forms.DateField(
        label=gettext_lazy("Signed on"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    precision = forms.ChoiceField(
        label=gettext_lazy("Known to the"), choices=DatePrecision.choices, initial=DatePrecision.DAY
    )
    signing_event = forms.ModelChoiceField(
        label=gettext_lazy("Signing event"), required=False, queryset=SigningEvent.objects.order_by("-date")
    )

    def run(self, agreement, user):
        return services.agreement_sign(
            agreement=agreement,
            signed_on=self.cleaned_data["signed_on"],
            precision=self.cleaned_data["precision"],
            signing_event=self.cleaned_data["signing_event"],
            user=user,
        )


class TerminateForm(forms.Form):
    terminated_on = forms.DateField(label=gettext_lazy("Terminated on"), widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(label=gettext_lazy("Reason"), widget=forms.Textarea(attrs={"rows": 3}))

    def run(self, agreement, user):
        return services.agreement_terminate(
            agreement=agreement,
            terminated_on=self.cleaned_data["terminated_on"],
            reason=self.cleaned_data["reason"],
            user=user,
        )


class SuccessorForm(forms.Form):
    slug = forms.SlugField(label=gettext_lazy("Slug of the new agreement"), max_length=120)

    def __init__(self, *args, succession, **kwargs):
        self.succession = succession
        super().__init__(*args, **kwargs)

    def run(self, agreement, user):
        return services.agreement_succeed(
            predecessor=agreement, succession=self.succession, slug=self.cleaned_data["slug"], user=user
        )


class ConfirmForm(forms.Form):
    def __init__(self, *args, service, **kwargs):
        self.service = service
        super().__init__(*args, **kwargs)

    def run(self, agreement, user):
        return self.service(agreement=agreement, user=user)


# action: (label, the status it leads to or None for a new agreement, form factory)
ACTIONS = {
    "negotiate": (
        gettext_lazy("Start negotiating"),
        AgreementStatus.NEGOTIATING,
        lambda *a, **k: ConfirmForm(*a, service=services.agreement_start_negotiation, **k),
    ),
    "draft": (
        gettext_lazy("Back to draft"),
        AgreementStatus.DRAFT,
        lambda *a, **k: ConfirmForm(*a, service=services.agreement_back_to_draft, **k),
    ),
    "sign": (gettext_lazy("Record the signing"), AgreementStatus.SIGNED, SignForm),
    "terminate": (gettext_lazy("Terminate"), AgreementStatus.TERMINATED, TerminateForm),
    "renew": (gettext_lazy("Renew"), None, lambda *a, **k: SuccessorForm(*a, succession=SuccessionKind.RENEWS, **k)),
    "amend": (gettext_lazy("Amend"), None, lambda *a, **k: SuccessorForm(*a, succession=SuccessionKind.AMENDS, **k)),
    "supersede": (
        gettext_lazy("Supersede"),
        None,
        lambda *a, **k: SuccessorForm(*a, succession=SuccessionKind.SUPERSEDES, **k),
    ),
}


def is_legal(agreement: Agreement, action: str) -> bool:
    _label, target, _form = ACTIONS[action]
    if target is None:
        return agreement.status in AgreementStatus.concluded()
    return target in AgreementStatus(agreement.status).next_statuses()


def legal_actions(agreement: Agreement) -> list[dict]:
    return [
        {
            "name": name,
            "label": label,
            "url": reverse("admin:agreements_agreement_lifecycle", args=[agreement.pk, name]),
        }
        for name, (label, _target, _form) in ACTIONS.items()
        if is_legal(agreement, name)
    ]


def run(model_admin, request, agreement: Agreement, action: str):
    change_url = reverse("admin:agreements_agreement_change", args=[agreement.pk])
    if action not in ACTIONS or not is_legal(agreement, action):
        model_admin.message_user(
            request,
            _("“%(action)s” is not possible for an agreement that is “%(status)s”.")
            % {"action": action, "status": agreement.get_status_display()},
            messages.ERROR,
        )
        return redirect(change_url)
    label, _target, make_form = ACTIONS[action]
    form = make_form(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            result = form.run(agreement, request.user)
        except ValidationError as exc:
            # A service names the field an error is about; the form shows it there (or above the form).
            for field, errors in (exc.error_dict if hasattr(exc, "error_dict") else {None: exc.error_list}).items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
        else:
            model_admin.message_user(request, _("Done: %(action)s.") % {"action": label}, messages.SUCCESS)
            return redirect(reverse("admin:agreements_agreement_change", args=[result.pk]))
    return TemplateResponse(
        request,
        "admin/agreements/agreement/lifecycle.html",
        {
            **model_admin.admin_site.each_context(request),
            "opts": model_admin.opts,
            "original": agreement,
            "title": f"{label}: {agreement}",
            "form": form,
            "action_label": label,
            "change_url": change_url,
        },
    )
