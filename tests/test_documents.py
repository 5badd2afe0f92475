"""Documents: uploads checked by content and size, stored under generated
names, and served only through the visibility rule (each role of the matrix)."""

import re
import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from agreements.models import Agreement, AgreementDocument

from .factories import AgreementDocumentFactory

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
ELF = b"\x7fELF\x02\x01\x01\x00" + bytes(56)
WINDOWS_EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + bytes(44) + b"PE\x00\x00"
HTML = b"<!DOCTYPE html><html><script>alert(document.cookie)</script></html>"


def png() -> bytes:
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"\x00\x00")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


@pytest.fixture
def world(cast):
    return {
        "org_a": cast.org_a,
        "org_b": cast.org_b,
        "public": cast.public_a,
        "draft_a": cast.hidden_a,
        "public_doc": cast.public_doc_a,
        "private_doc": cast.internal_doc_a,
        "b_doc": AgreementDocumentFactory(agreement=cast.hidden_b, title="Scan of B", is_public=True),
        "draft_doc": cast.hidden_doc_a,
    }


@pytest.fixture
def callers(role_clients):
    return role_clients


READABLE = {
    "public_doc": {"anonymous", "partner_a", "partner_b", "editor_a", "editor_b", "registry_admin"},
    "private_doc": {"partner_a", "editor_a", "registry_admin"},
    "b_doc": {"partner_b", "editor_b", "registry_admin"},
    "draft_doc": {"partner_a", "editor_a", "registry_admin"},
}


def download_url(caller, document):
    # Partners use the API with their token; people in a browser use the site.
    return f"/api/v1/documents/{document.pk}/file/" if caller.startswith("partner") else f"/documents/{document.pk}/"


@pytest.mark.parametrize("caller", ["anonymous", "partner_a", "partner_b", "editor_a", "editor_b", "registry_admin"])
@pytest.mark.parametrize("name", list(READABLE))
def test_document_download_follows_the_visibility_rule(world, callers, caller, name):
    document = world[name]
    response = callers[caller].get(download_url(caller, document))
    if caller in READABLE[name]:
        assert response.status_code == 200, (caller, name)
        assert b"".join(response.streaming_content) == PDF_FACTORY_CONTENT
        assert response["Content-Type"] == "application/pdf"
        assert response["X-Content-Type-Options"] == "nosniff"
        expected_cache = "public, max-age=3600" if name == "public_doc" else "private, no-store"
        assert response["Cache-Control"] == expected_cache
    else:
        assert response.status_code == 404, (caller, name)
        assert document.title.encode() not in response.content


PDF_FACTORY_CONTENT = b"%PDF-1.4\n%%EOF\n"


def test_anonymous_api_download_of_a_public_document_works_and_of_a_private_one_is_404(world):
    client = APIClient()
    response = client.get(f"/api/v1/documents/{world['public_doc'].pk}/file/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF_FACTORY_CONTENT
    response = client.get(f"/api/v1/documents/{world['private_doc'].pk}/file/")
    assert response.status_code == 404 and response["Content-Type"] == "application/json"
    assert client.get("/api/v1/documents/999999/file/").status_code == 404


def test_files_are_stored_under_generated_names_and_never_served_from_storage_urls(world, callers):
    document = world["private_doc"]
    assert re.fullmatch(r"agreement-documents/\d{4}/[0-9a-f]{32}\.pdf", document.file.name)
    assert "signed" not in document.file.name
    for caller in ("anonymous", "registry_admin"):
        assert callers[caller].get("/media/" + document.file.name).status_code == 404
        assert callers[caller].get(document.file.url).status_code == 404
    response = callers["registry_admin"].get(f"/documents/{document.pk}/")
    assert response["Content-Disposition"] == 'inline; filename="frobozz-internal-annex.pdf"'
    assert b"".join(response.streaming_content) == PDF_FACTORY_CONTENT


def test_api_and_public_page_link_the_visibility_checked_download(world, callers):
    data = callers["partner_a"].get("/api/v1/agreements/public-a/").json()
    files = {d["title"]: d for d in data["documents"]}
    assert files["Frobozz internal annex"]["file_url"].endswith(f"/api/v1/documents/{world['private_doc'].pk}/file/")
    assert files["Frobozz internal annex"]["content_type"] == "application/pdf"
    assert files["Frobozz internal annex"]["size"] == len(PDF_FACTORY_CONTENT)
    page = callers["anonymous"].get("/en/agreements/public-a/").content.decode()
    assert f'href="/en/documents/{world["public_doc"].pk}/"' in page
    assert "Frobozz internal annex" not in page


def test_a_document_whose_file_was_lost_is_a_404(world, callers):
    document = world["public_doc"]
    document.file.storage.delete(document.file.name)
    assert callers["anonymous"].get(f"/documents/{document.pk}/").status_code == 404


# --------------------------------------------------------------------------
# Uploads in the admin


def upload_form(agreement, content, name="scan.pdf", **changes):
    data = {
        "agreement": agreement.pk,
        "kind": "signed_scan",
        "title": "Uploaded",
        "file": SimpleUploadedFile(name, content, content_type="application/pdf"),
        "language": "de",
        "is_public": "on",
    }
    data.update(changes)
    return data


ADD_URL = "/admin/agreements/agreementdocument/add/"


@pytest.mark.parametrize(
    ("content", "name", "content_type", "extension"),
    [(PDF, "Vertrag (unterzeichnet).pdf", "application/pdf", ".pdf"), (png(), "scan.PNG", "image/png", ".png"),
     (JPEG, "photo.jpeg", "image/jpeg", ".jpg"), (PDF, "no-extension", "application/pdf", ".pdf")],
)  # fmt: skip
def test_real_documents_are_accepted(world, callers, content, name, content_type, extension):
    response = callers["registry_admin"].post(ADD_URL, upload_form(world["public"], content, name))
    assert response.status_code == 302, response.context["adminform"].form.errors
    document = AgreementDocument.objects.get(title="Uploaded")
    assert (document.content_type, document.size) == (content_type, len(content))
    assert re.fullmatch(r"agreement-documents/\d{4}/[0-9a-f]{32}" + re.escape(extension), document.file.name)
    with document.file.open("rb") as handle:
        assert handle.read() == content
    assert document.history.get().history_user.username == "registrar"


@pytest.mark.parametrize(
    ("content", "name"),
    [(ELF, "contract.pdf"), (WINDOWS_EXE, "contract.pdf"), (HTML, "scan.png"), (b"GIF89a\x01\x00\x01\x00", "x.jpg"),
     (b"", "empty.pdf"), (b"just some text", "notes.pdf")],
)  # fmt: skip
def test_files_that_are_not_documents_are_rejected_by_content(world, callers, settings, content, name):
    stored_before = sorted(p.name for p in settings.MEDIA_ROOT.rglob("*") if p.is_file())
    response = callers["registry_admin"].post(ADD_URL, upload_form(world["public"], content, name))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["file"]
    assert errors and ("not a PDF, PNG or JPEG" in errors[0] or "empty" in errors[0])
    assert not AgreementDocument.objects.filter(title="Uploaded").exists()
    assert sorted(p.name for p in settings.MEDIA_ROOT.rglob("*") if p.is_file()) == stored_before


def test_documents_over_the_size_limit_are_rejected(world, callers, settings):
    settings.DOCUMENT_MAX_BYTES = 1024
    big = PDF + b"%" * 2000
    response = callers["registry_admin"].post(ADD_URL, upload_form(world["public"], big))
    assert response.status_code == 200
    assert "documents may be at most 1.0\xa0KB" in response.context["adminform"].form.errors["file"][0]
    assert not AgreementDocument.objects.filter(title="Uploaded").exists()
    response = callers["registry_admin"].post(ADD_URL, upload_form(world["public"], PDF))
    assert response.status_code == 302


def test_an_editor_attaches_documents_only_to_agreements_it_may_edit(world, callers):
    response = callers["editor_b"].post(ADD_URL, upload_form(world["draft_a"], PDF))
    assert response.status_code == 200
    assert "agreement" in response.context["adminform"].form.errors
    response = callers["editor_b"].post(ADD_URL, upload_form(world["public"], PDF))
    assert response.status_code == 200  # public, but not B's: visible, not editable
    assert not AgreementDocument.objects.filter(title="Uploaded").exists()
    response = callers["editor_a"].post(ADD_URL, upload_form(world["draft_a"], PDF))
    assert response.status_code == 302


def change_form_data(client, url) -> dict:
    """What a browser would post back from the admin change form, unchanged."""
    response = client.get(url)
    assert response.status_code == 200
    data = {}

    def add(form):
        for name, field in form.fields.items():
            if field.disabled:
                continue
            value = form[name].value()
            key = form.add_prefix(name)
            if isinstance(value, bool):
                if value:
                    data[key] = "on"
            elif isinstance(value, list | tuple):
                data[key] = [str(v) for v in value]
            elif value is None or hasattr(value, "url"):
                data[key] = "" if value is None else value
            else:
                data[key] = str(value)

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        data.update({formset.management_form.add_prefix(k): v for k, v in formset.management_form.initial.items()})
        for form in formset.initial_forms:
            add(form)
    return {key: value for key, value in data.items() if not hasattr(value, "url")}


def test_a_rejected_upload_leaves_the_agreement_unchanged(world, callers):
    agreement = world["draft_a"]
    url = f"/admin/agreements/agreement/{agreement.pk}/change/"
    data = change_form_data(callers["registry_admin"], url)
    count = int(data["documents-TOTAL_FORMS"])
    versions = agreement.history.count()
    data.update(
        {
            "title_en": "Changed title",
            "documents-TOTAL_FORMS": str(count + 1),
            f"documents-{count}-kind": "annex",
            f"documents-{count}-title": "Disguised program",
            f"documents-{count}-file": SimpleUploadedFile("annex.pdf", ELF),
            f"documents-{count}-language": "en",
        }
    )
    response = callers["registry_admin"].post(url, data)
    assert response.status_code == 200
    assert "not a PDF, PNG or JPEG" in response.content.decode()
    agreement.refresh_from_db()
    assert agreement.title_en != "Changed title"
    assert agreement.documents.count() == 1
    assert agreement.history.count() == versions

    data[f"documents-{count}-file"] = SimpleUploadedFile("annex.pdf", PDF)
    response = callers["registry_admin"].post(url, data)
    assert response.status_code == 302
    agreement.refresh_from_db()
    assert agreement.title_en == "Changed title"
    assert agreement.documents.get(title="Disguised program").content_type == "application/pdf"


def test_the_database_refuses_a_document_of_another_kind(world):
    from django.db import IntegrityError, transaction

    document = world["public_doc"]
    with pytest.raises(IntegrityError), transaction.atomic():
        AgreementDocument.objects.filter(pk=document.pk).update(content_type="text/html")
    assert Agreement.objects.filter(pk=world["public"].pk).exists()
