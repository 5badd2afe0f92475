import datetime
from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command

from agreements.models import ExpiryReminder

from .factories import AgreementFactory, OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db
TODAY = datetime.date(2026, 11, 26)


@pytest.fixture(autouse=True)
def _site_url(settings):
    settings.SITE_URL = "https://registry.example.org"


def run(*args) -> str:
    out = StringIO()
    call_command("send_expiry_reminders", "--today", TODAY.isoformat(), *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def setup():
    org_a, org_b = OrganisationFactory(slug="org-a"), OrganisationFactory(slug="org-b")
    org_a.members.add(
        UserFactory(username="anna", email="anna@example.org", is_staff=True),
        UserFactory(username="ben", email="ben@example.org", is_staff=True),
    )
    org_b.members.add(
        UserFactory(username="cleo", email="cleo@example.org", is_staff=True),
        UserFactory(username="gone", email="gone@example.org", is_staff=True, is_active=False),
    )
    due = AgreementFactory(
        slug="due",
        signed=True,
        parties=[org_a, org_b],
        notice_period_days=90,
        valid_from=datetime.date(2020, 1, 1),
        valid_until=TODAY + datetime.timedelta(days=60),
    )
    AgreementFactory(
        slug="later",
        signed=True,
        parties=[org_a, org_b],
        notice_period_days=30,
        valid_from=datetime.date(2020, 1, 1),
        valid_until=TODAY + datetime.timedelta(days=60),
    )
    AgreementFactory(
        slug="no-notice",
        signed=True,
        parties=[org_a, org_b],
        valid_from=datetime.date(2020, 1, 1),
        valid_until=TODAY + datetime.timedelta(days=5),
    )
    AgreementFactory(
        slug="past",
        signed=True,
        parties=[org_a, org_b],
        notice_period_days=90,
        valid_from=datetime.date(2020, 1, 1),
        valid_until=TODAY - datetime.timedelta(days=1),
    )
    return due


def test_members_of_each_party_are_reminded_once(setup):
    output = run()
    assert "2 reminder(s) sent" in output
    assert sorted(tuple(m.to) for m in mail.outbox) == [("anna@example.org", "ben@example.org"), ("cleo@example.org",)]
    assert all("due" not in m.subject or setup.title in m.subject for m in mail.outbox)
    assert ExpiryReminder.objects.count() == 2
    # Running it again sends nothing new.
    assert "0 reminder(s) sent" in run()
    assert len(mail.outbox) == 2


def test_a_new_end_date_opens_a_new_window(setup):
    run()
    setup.valid_until = TODAY + datetime.timedelta(days=80)
    setup.save()
    assert "2 reminder(s) sent" in run()
    assert ExpiryReminder.objects.count() == 4


def test_dry_run_sends_and_records_nothing(setup):
    output = run("--dry-run")
    assert "would send due → org-a: anna@example.org, ben@example.org" in output
    assert mail.outbox == [] and not ExpiryReminder.objects.exists()


def test_a_failed_send_is_not_recorded(setup, settings, monkeypatch):
    def broken(*args, **kwargs):
        raise ConnectionRefusedError("SMTP down")

    monkeypatch.setattr("agreements.services.send_mail", broken)
    with pytest.raises(ConnectionRefusedError):
        run()
    assert not ExpiryReminder.objects.exists()


def test_bad_date_is_a_clear_error():
    with pytest.raises(CommandError, match="is not a date"):
        call_command("send_expiry_reminders", "--today", "tomorrow", stdout=StringIO())


def test_reminders_show_on_the_agreement_in_the_admin(setup, admin_client):
    run()
    page = admin_client.get(f"/admin/agreements/agreement/{setup.pk}/change/").content.decode()
    assert "anna@example.org, ben@example.org" in page


def test_each_organisation_is_reminded_in_its_language_with_a_link_to_the_record(setup):
    polish = setup.parties.get(organisation__slug="org-b").organisation
    polish.language = "pl"
    polish.save()
    setup.title_de, setup.title_en, setup.title_pl = "Kooperation", "Cooperation", ""
    setup.save()
    run()
    mails = {m.to[0]: m for m in mail.outbox}
    link = f"https://registry.example.org/admin/agreements/agreement/{setup.pk}/change/"

    german = mails["anna@example.org"]
    assert german.subject == "Vereinbarung endet am 25. Januar 2027: Kooperation"
    assert "Die Vereinbarung „Kooperation“, an der " in german.body
    assert "gilt bis zum 25. Januar 2027 (Kündigungsfrist: 90 Tage)." in german.body
    assert f"Der Datensatz im Register: {link}" in german.body

    polish_mail = mails["cleo@example.org"]  # no Polish title: the original (German) one
    assert polish_mail.subject == "Umowa wygasa 25 stycznia 2027: Kooperation"
    assert "obowiązuje do 25 stycznia 2027 (okres wypowiedzenia: 90 dni)." in polish_mail.body
    assert f"Rekord w rejestrze: {link}" in polish_mail.body
    for text in ("The agreement", "notice period", "Vereinbarung"):
        assert text not in polish_mail.body


def test_without_the_site_address_nothing_is_sent(setup, settings):
    settings.SITE_URL = ""
    with pytest.raises(CommandError, match="DJANGO_SITE_URL"):
        run()
    assert mail.outbox == [] and not ExpiryReminder.objects.exists()
    assert "would send due → org-a" in run("--dry-run")  # a dry run needs no address
