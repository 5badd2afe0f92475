"""CSV/XLSX export and import of organisations and agreements in the admin:
scoped and filtered exports, dry-run preview with per-row errors,
all-or-nothing imports, idempotent re-imports (rows matched on slug)."""

import csv
import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.html import escape

from agreements.models import Agreement, AgreementParty, Organisation, Topic
from agreements.resources import AgreementResource, OrganisationResource

from .factories import AgreementFactory, OrganisationFactory, TopicFactory

pytestmark = pytest.mark.django_db

CSV_FORMAT, XLSX_FORMAT = "0", "1"


@pytest.fixture
def world(cast):
    TopicFactory(slug="hydrogen")
    return {"org_a": cast.org_a, "org_b": cast.org_b, "public-a": cast.public_a, "draft_a": cast.hidden_a}


@pytest.fixture
def clients(world, role_clients):
    return {role: role_clients[role] for role in ("editor_a", "editor_b", "registry_admin")}


RESOURCES = {"agreement": AgreementResource, "organisation": OrganisationResource}


def export(client, model, query="", file_format=CSV_FORMAT):
    resource = RESOURCES[model]
    data = {"format": file_format, "resource": "0"}
    data.update({f"{resource.__name__.lower()}_{name}": "on" for name in resource().get_export_order()})
    response = client.post(f"/admin/agreements/{model}/export/{query}", data)
    assert response.status_code == 200, response.content[:500]
    return response


def rows_of(response):
    if response["Content-Type"].startswith("text/csv"):
        return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    header, *rows = sheet.iter_rows(values_only=True)
    return [dict(zip(header, row, strict=True)) for row in rows]


def csv_text(rows):
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def preview(client, model, content, name="import.csv", file_format=CSV_FORMAT):
    upload = SimpleUploadedFile(name, content)
    response = client.post(
        f"/admin/agreements/{model}/import/", {"resource": "0", "format": file_format, "import_file": upload}
    )
    assert response.status_code == 200
    return response


def confirm(client, model, preview_response):
    form = preview_response.context["confirm_form"]
    assert form is not None, "the preview offered no confirmation"
    return client.post(f"/admin/agreements/{model}/process_import/", form.initial)


def snapshot():
    """Everything an import could touch, to prove nothing changed."""
    return (
        sorted(Agreement.objects.values_list("slug", "updated_at", "status", "title_en")),
        sorted(AgreementParty.objects.values_list("agreement__slug", "organisation__slug", "role")),
        sorted(Agreement.topics.through.objects.values_list("agreement__slug", "topic__slug")),
        sorted(Organisation.objects.values_list("slug", "name", "updated_at")),
        Agreement.history.count(),
        AgreementParty.history.count(),
    )


# --------------------------------------------------------------------------
# Export


SEES = {
    "editor_a": {"public-a", "hidden-a"},
    "editor_b": {"public-a", "hidden-b"},
    "registry_admin": {"public-a", "hidden-a", "hidden-b"},
}


@pytest.mark.parametrize("role", SEES)
@pytest.mark.parametrize("file_format", [CSV_FORMAT, XLSX_FORMAT])
def test_agreement_export_holds_what_the_role_may_see(clients, role, file_format):
    rows = rows_of(export(clients[role], "agreement", file_format=file_format))
    assert {row["slug"] for row in rows} == SEES[role]


def test_agreement_export_follows_the_changelist_filters_and_search(clients):
    rows = rows_of(export(clients["registry_admin"], "agreement", "?status__exact=signed"))
    assert {row["slug"] for row in rows} == {"public-a", "hidden-b"}
    rows = rows_of(export(clients["registry_admin"], "agreement", "?q=hidden-b"))
    assert {row["slug"] for row in rows} == {"hidden-b"}


def test_agreement_export_columns(clients):
    row = next(r for r in rows_of(export(clients["registry_admin"], "agreement")) if r["slug"] == "public-a")
    assert row["parties"] == "org-a:party; org-c:party"
    assert row["topics"] == "software"
    assert row["status"] == "signed" and row["is_public"] == "1"


def test_export_is_a_constant_number_of_queries(clients):
    def queries_for_export():
        with CaptureQueriesContext(connection) as queries:
            rows = rows_of(export(clients["registry_admin"], "agreement"))
        return len(queries), len(rows)

    clients["registry_admin"].get("/admin/")  # the session's first-request bookkeeping is done
    few = queries_for_export()
    for index in range(20):
        AgreementFactory(slug=f"more-{index}", parties=[OrganisationFactory(), OrganisationFactory()])
    many = queries_for_export()
    assert (few[1], many[1]) == (3, 23)
    assert many[0] == few[0]


@pytest.mark.parametrize("file_format", [CSV_FORMAT, XLSX_FORMAT])
def test_spreadsheet_formulae_are_escaped_on_export_and_restored_on_import(clients, world, file_format):
    formula = '=HYPERLINK("http://evil.example","click")'
    world["org_a"].name = formula
    world["org_a"].save()
    exported = export(clients["registry_admin"], "organisation", file_format=file_format)
    if file_format == XLSX_FORMAT:
        sheet = openpyxl.load_workbook(io.BytesIO(exported.content)).active
        assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    row = next(r for r in rows_of(exported) if r["slug"] == "org-a")
    assert row["name"] == "'" + formula
    name = "x.xlsx" if file_format == XLSX_FORMAT else "x.csv"
    response = preview(clients["registry_admin"], "organisation", exported.content, name, file_format)
    # Every row is unchanged: the apostrophe is removed again.
    assert response.context["result"].totals["skip"] == Organisation.objects.count()


# --------------------------------------------------------------------------
# Import


def test_only_registry_admins_may_import(clients):
    for role in ("editor_a", "editor_b"):
        assert clients[role].get("/admin/agreements/agreement/import/").status_code == 403
        assert clients[role].get("/admin/agreements/organisation/import/").status_code == 403
    assert clients["registry_admin"].get("/admin/agreements/agreement/import/").status_code == 200


@pytest.mark.parametrize("file_format", [CSV_FORMAT, XLSX_FORMAT])
@pytest.mark.parametrize("model", ["agreement", "organisation"])
def test_reimporting_an_export_changes_nothing(clients, model, file_format):
    client = clients["registry_admin"]
    exported = export(client, model, file_format=file_format)
    before = snapshot()
    name = "export.xlsx" if file_format == XLSX_FORMAT else "export.csv"
    response = preview(client, model, exported.content, name, file_format)
    result = response.context["result"]
    assert not result.has_errors(), [(e.error, e.traceback) for _n, errors in result.row_errors() for e in errors]
    assert not result.has_validation_errors(), [r.error_dict for r in result.invalid_rows]
    assert result.totals["skip"] == len(rows_of(exported)) and result.totals["update"] == 0
    assert confirm(client, model, response).status_code == 302
    assert snapshot() == before


def test_import_preview_writes_nothing_and_confirmation_imports(clients, world):
    client = clients["registry_admin"]
    rows = rows_of(export(client, "agreement"))
    template = next(r for r in rows if r["slug"] == "public-a")
    new = {
        **template,
        "slug": "new-one",
        "title_en": "Imported pact",
        "parties": "org-b:lead; org-a:party",
        "topics": "software,hydrogen",
    }
    changed = {**template, "title_en": "Renamed by import", "parties": "org-a:lead; org-c:party; org-b:supporter"}
    content = csv_text([new, changed])
    before = snapshot()
    response = preview(client, "agreement", content)
    assert response.context["result"].totals["new"] == 1 and response.context["result"].totals["update"] == 1
    assert "Imported pact" in response.content.decode()
    assert snapshot() == before  # the preview is a dry run

    assert confirm(client, "agreement", response).status_code == 302
    imported = Agreement.objects.get(slug="new-one")
    assert imported.title_en == "Imported pact"
    assert [(p.organisation.slug, p.role) for p in imported.parties.all()] == [("org-b", "lead"), ("org-a", "party")]
    assert set(imported.topics.values_list("slug", flat=True)) == {"software", "hydrogen"}
    assert {h.history_user.username for h in imported.history.all()} == {"registrar"}
    renamed = Agreement.objects.get(slug="public-a")
    assert renamed.title_en == "Renamed by import"
    assert [(p.organisation.slug, p.role) for p in renamed.parties.all()] == [
        ("org-a", "lead"),
        ("org-c", "party"),
        ("org-b", "supporter"),
    ]
    # Imported again: nothing more changes.
    after = snapshot()
    response = preview(client, "agreement", content)
    assert response.context["result"].totals["skip"] == 2
    confirm(client, "agreement", response)
    assert snapshot() == after


BAD_ROWS = [
    ({"parties": "org-a:party; nowhere:party"}, "parties", "Unknown organisations: nowhere."),
    ({"parties": "org-a:boss; org-c:party"}, "parties", "Unknown role “boss”"),
    ({"parties": "org-a:party"}, "parties", "A signed agreement needs at least two parties."),
    ({"parties": "org-a:party; org-a:lead"}, "parties", "listed twice"),
    ({"topics": "software,unknown-topic"}, "topics", "Unknown topics: unknown-topic."),
    ({"status": "approved"}, "status", "is not a valid choice"),
    ({"status": "draft"}, "status", "cannot become"),  # an existing record moves only along the lifecycle
    ({"signed_on": "not a date"}, "signed_on", ""),
    ({"signed_on": "", "signing_event": ""}, "signed_on", "needs a signing date or a signing event"),
    ({"valid_from": "2030-01-01", "valid_until": "2029-01-01"}, "__all__", "cannot be before"),
    ({"signing_event": "no-such-event"}, "signing_event", "No signing event with the slug “no-such-event”."),
]


@pytest.mark.parametrize(("change", "field", "message"), BAD_ROWS)
def test_bad_rows_are_listed_in_the_preview_and_nothing_is_imported(clients, change, field, message):
    client = clients["registry_admin"]
    rows = rows_of(export(client, "agreement"))
    good = {**next(r for r in rows if r["slug"] == "hidden-a"), "title_en": "Would change"}
    bad = {**next(r for r in rows if r["slug"] == "public-a"), **change}
    before = snapshot()
    response = preview(client, "agreement", csv_text([good, bad]))
    result = response.context["result"]
    assert result.has_validation_errors()
    assert response.context.get("confirm_form") is None  # no way to import this file
    [invalid] = result.invalid_rows
    assert invalid.number == 2
    errors = invalid.error_dict
    assert field in errors, errors
    assert message in " ".join(errors[field])
    page = response.content.decode()
    assert "<td>2 </td>" in page and escape(message) in page
    assert snapshot() == before


def test_an_unreadable_file_is_a_form_error(clients):
    response = preview(clients["registry_admin"], "agreement", b"\x00\x01garbage", "x.xlsx", XLSX_FORMAT)
    assert response.context["form"].errors["import_file"]


def test_import_is_all_or_nothing_when_a_row_fails_at_confirmation(clients, world):
    """The preview was clean, then a topic the file needs was deleted before the
    confirmation: no row of the file is imported."""
    client = clients["registry_admin"]
    rows = rows_of(export(client, "agreement"))
    first = {**next(r for r in rows if r["slug"] == "hidden-a"), "title_en": "Changed first"}
    second = {**next(r for r in rows if r["slug"] == "public-a"), "topics": "hydrogen"}
    response = preview(client, "agreement", csv_text([first, second]))
    assert response.context["confirm_form"] is not None
    Topic.objects.filter(slug="hydrogen").delete()
    before = snapshot()
    response = confirm(client, "agreement", response)
    assert snapshot() == before
    assert Agreement.objects.get(slug="hidden-a").title_en != "Changed first"


def test_organisation_import_creates_and_updates_by_slug(clients, world):
    client = clients["registry_admin"]
    rows = rows_of(export(client, "organisation"))
    alpha = next(r for r in rows if r["slug"] == "org-a")
    content = csv_text(
        [
            {**alpha, "name": "Alpha Renamed"},
            {**alpha, "slug": "delta", "name": "Delta Network", "parent": "org-a", "country": "PL"},
        ]
    )
    response = preview(client, "organisation", content)
    assert confirm(client, "organisation", response).status_code == 302
    assert Organisation.objects.get(slug="org-a").name == "Alpha Renamed"
    delta = Organisation.objects.get(slug="delta")
    assert (delta.parent.slug, delta.country.code) == ("org-a", "PL")

    bad = csv_text([{**alpha, "slug": "epsilon", "country": "XX"}, {**alpha, "slug": "org b"}])
    response = preview(client, "organisation", bad)
    assert {row.number for row in response.context["result"].invalid_rows} == {1, 2}
    assert not Organisation.objects.filter(slug="epsilon").exists()
