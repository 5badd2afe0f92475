"""The door inventory: every URL the project serves, each run with the role
matrix against a hidden record of organisation A and a public record of A.

- GET reveals nothing a role may not see: no text of a hidden record in the
  body, and no 200 for a hidden record's own pages.
- POST/PUT/PATCH/DELETE change nothing a role may not change: every row of
  every table (history included) is the same before and after.
- A URL the inventory cannot classify fails the test, so a new door (a URL, an
  admin view a third-party app adds) cannot open without a rule.
"""

import hashlib
import json

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.urls import URLResolver, get_resolver, reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from agreements import admin_lifecycle, statistics
from agreements.models import DataVersion, LegalPage, WebhookDelivery, WebhookEndpoint
from agreements.models.data_version import _DATA_VERSION_BUMP as DATA_VERSION_BUMP
from agreements.sitemaps import SITEMAPS

from .helpers import ROLES, SEES_HIDDEN_OF_A, SEES_HIDDEN_OF_B, FormReader, body
from .test_data_version import tables_with_triggers

pytestmark = pytest.mark.django_db

# --------------------------------------------------------------------------
# The inventory

STANDARD = {"changelist", "add", "change", "delete", "history", "redirect"}
HISTORY = {"simple_history"}
IMPORT_EXPORT = {"import", "process_import", "export"}
# Every view each registered ModelAdmin serves ("redirect" is Django's
# <object_id>/ to <object_id>/change/). A view missing here fails the test.
ADMIN_VIEWS = {
    "agreements.agreement": STANDARD | HISTORY | IMPORT_EXPORT | {"lifecycle"},
    "agreements.organisation": STANDARD | HISTORY | IMPORT_EXPORT,
    "agreements.person": STANDARD | HISTORY,
    "agreements.topic": STANDARD | HISTORY,
    "agreements.agreementdocument": STANDARD | HISTORY,
    "agreements.signingevent": STANDARD | HISTORY,
    "agreements.delegationtrip": STANDARD | HISTORY,
    "agreements.programmeitem": STANDARD | HISTORY,
    "agreements.legalpage": STANDARD | HISTORY,
    "agreements.apitoken": STANDARD | HISTORY,
    "agreements.webhookendpoint": STANDARD,
    "agreements.webhookdelivery": STANDARD,
    "auth.user": STANDARD | {"password_change"},
    "auth.group": STANDARD,
    "axes.accessattempt": STANDARD,
    "axes.accesslog": STANDARD,
    "axes.accessfailurelog": STANDARD,
    "otp_totp.totpdevice": STANDARD | {"config", "qrcode"},
}
# URLs that name no record: (name, kind).
SITE_URLS = {
    "admin:index": "page",
    "admin:login": "login",
    "admin:logout": "page",
    "admin:password_change": "page",
    "admin:password_change_done": "page",
    "admin:two_factor": "page",
    "admin:jsi18n": "page",
    "admin:autocomplete": "autocomplete",
    "admin:app_list": "app_list",
    "admin:view_on_site": "view_on_site",
    "admin:": "catch_all",  # Django's final catch-all view (unnamed)
    "api:schema": "page",
    "api:docs": "page",
    "api:api-root": "page",
    "api:document-file": "document",
    "api:changes": "page",  # the change feed: each entry as the caller may see it
    "agreements:home": "page",
    "agreements:agreement_list": "page",
    "agreements:agreement_feed": "page",
    "agreements:agreements_csv": "page",
    "agreements:agreements_json": "page",
    "agreements:organisation_list": "page",
    "agreements:trip_list": "page",
    "agreements:topic_list": "page",
    "agreements:calendar": "page",
    "agreements:document_download": "document",
    "agreements:agreement_detail": "public_detail",
    "agreements:organisation_detail": "public_detail",
    "agreements:trip_detail": "public_detail",
    "agreements:signingevent_detail": "public_detail",
    "agreements:topic_detail": "public_detail",
    "agreements:imprint": "page",
    "agreements:privacy": "page",
    "agreements:accessibility": "page",
    "robots_txt": "page",
    "sitemap": "page",
    "sitemap_section": "sitemap_section",
    "api:statistics": "page",  # counts of what the caller may see
    "agreements:statistics": "page",
    "agreements:statistics_csv": "statistics_table",
    "agreements:map": "page",
    "agreements:map_links_csv": "page",
}
API_RESOURCES = {
    "agreement": "agreements.agreement",
    "organisation": "agreements.organisation",
    "signingevent": "agreements.signingevent",
    "trip": "agreements.delegationtrip",
    "topic": "agreements.topic",
    "person": "agreements.person",
    "webhook": "agreements.webhookendpoint",  # an organisation's own endpoints, by id
}
# Lifecycle steps of the API (POST on a record).
API_ACTIONS = {
    "agreement": {
        *("negotiate", "draft", "sign", "terminate", "renew", "amend", "supersede"),
        *("confirmations", "withdraw-confirmation"),  # partner confirmation (a party's token only)
    },
    # An organisation's own endpoint: its delivery log (read) and a new signing secret (write).
    "webhook": {"deliveries", "rotate-secret"},
}
# Served by middleware, outside the URLconf.
MIDDLEWARE_URLS = ["/healthz", "/readyz"]


def served_routes(urlconf=None) -> list[tuple[str, str]]:
    """(route, namespaced name) of every URL pattern the project serves."""

    def walk(patterns, prefix, namespace):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = namespace + (f"{pattern.namespace}:" if pattern.namespace else "")
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
            else:
                yield prefix + str(pattern.pattern), namespace + (pattern.name or "")

    return list(walk(get_resolver(urlconf).url_patterns, "", ""))


def classify(route: str, name: str):
    """What a route is: ("site", kind), ("admin", model label, view),
    ("api", model label, "list"|"detail"), or None when unknown."""
    if name in SITE_URLS:
        return ("site", SITE_URLS[name])
    if name.startswith("api:"):
        for basename, label in API_RESOURCES.items():
            view = name[4:].removeprefix(f"{basename}-")
            if view != name[4:] and view in {"list", "detail", *API_ACTIONS.get(basename, ())}:
                return ("api", label, view)
        return None
    if route.startswith("admin/"):
        for model in admin.site._registry:
            opts = model._meta
            label = opts.label_lower
            if name == "admin:" and route == f"admin/{opts.app_label}/{opts.model_name}/<path:object_id>/":
                view = "redirect"
            elif name.startswith(f"admin:{opts.app_label}_{opts.model_name}_"):
                view = name.removeprefix(f"admin:{opts.app_label}_{opts.model_name}_")
            else:
                continue
            return ("admin", label, view) if view in ADMIN_VIEWS.get(label, ()) else None
    return None


def unclassified(urlconf=None) -> list[str]:
    return [f"{route} ({name or 'unnamed'})" for route, name in served_routes(urlconf) if classify(route, name) is None]


def test_every_url_is_classified():
    assert unclassified() == []


def test_a_new_door_without_a_rule_fails_the_inventory():
    assert unclassified("tests.doors_urls") == [
        "admin/agreements/agreement/<int:pk>/confirm/ (agreements_agreement_confirm)"
    ]


# --------------------------------------------------------------------------
# Records and requests


def records(cast) -> dict[str, list[tuple[object, bool]]]:
    """(record, hidden of A?) per model: what each object URL is tried with."""
    attempt = {"ip_address": "192.0.2.1", "user_agent": "door", "username": "door", "http_accept": "*/*"}
    webhook_a, _ = WebhookEndpoint.objects.get_or_create(organisation=cast.org_a, url="https://hooks.alpha.example/")
    delivery_a = webhook_a.deliveries.first() or WebhookDelivery.objects.create(
        endpoint=webhook_a, webhook_id="msg_door", first_cursor=1, last_cursor=2, attempted_at=timezone.now()
    )
    return {
        "agreements.agreement": [(cast.hidden_a, True), (cast.public_a, False)],
        "agreements.agreementdocument": [
            (cast.hidden_doc_a, True),
            (cast.internal_doc_a, True),
            (cast.public_doc_a, False),
        ],
        "agreements.person": [(cast.hidden_person_a, True), (cast.public_person, False)],
        "agreements.organisation": [(cast.org_a, False)],
        "agreements.topic": [(cast.topic, False)],
        "agreements.signingevent": [(cast.event, False)],
        "agreements.delegationtrip": [(cast.trip, False)],
        "agreements.programmeitem": [(cast.programme_item, False)],
        "agreements.legalpage": [(LegalPage.objects.get(kind="imprint"), False)],
        "agreements.apitoken": [(cast.org_a.api_tokens.get(), False)],
        # A's own configuration: only A's token and members (and registry administrators) see it.
        "agreements.webhookendpoint": [(webhook_a, True)],
        "agreements.webhookdelivery": [(delivery_a, True)],
        "auth.user": [(cast.users["editor_a"], False)],
        "auth.group": [(Group.objects.get(name="organisation editor"), False)],
        "axes.accessattempt": [(AccessAttempt.objects.create(failures_since_start=1, path_info="/", **attempt), False)],
        "axes.accesslog": [(AccessLog.objects.create(path_info="/", **attempt), False)],
        "axes.accessfailurelog": [(AccessFailureLog.objects.create(path_info="/", **attempt), False)],
        "otp_totp.totpdevice": [
            (TOTPDevice.objects.create(user=cast.users["superuser"], name="phone", confirmed=False), False)
        ],
    }


LIST_VIEWS = {"changelist", "add", "import", "process_import", "export"}


def admin_urls(label: str, view: str, record) -> list[str]:
    app, model = label.split(".")
    name = f"admin:{app}_{model}_{view}"
    if view in {"changelist", "add", "import", "process_import", "export"}:
        return [reverse(name)]
    if view == "redirect":
        return [f"/admin/{app}/{model}/{record.pk}/"]
    if view == "simple_history":
        return [reverse(name, args=[record.pk, version.history_id]) for version in record.history.all()[:2]]
    if view == "lifecycle":
        return [reverse(name, args=[record.pk, action]) for action in admin_lifecycle.ACTIONS]
    if view == "password_change":
        return [reverse(name, args=[record.pk])]
    if view in {"config", "qrcode"}:
        return [reverse(name, kwargs={"pk": record.pk})]
    return [reverse(name, args=[record.pk])]


def api_urls(label: str, view: str, record) -> list[str]:
    basename = {v: k for k, v in API_RESOURCES.items()}[label]
    if view == "list":
        return [reverse(f"api:{basename}-list"), reverse(f"api:{basename}-list", kwargs={"format": "json"})]
    key = {"pk": record.pk} if label == "agreements.webhookendpoint" else {"slug": record.slug}
    return [
        reverse(f"api:{basename}-{view}", kwargs=key),
        reverse(f"api:{basename}-{view}", kwargs={**key, "format": "json"}),
    ]


PUBLIC_DETAIL_MODELS = {
    "agreements:agreement_detail": "agreements.agreement",
    "agreements:organisation_detail": "agreements.organisation",
    "agreements:trip_detail": "agreements.delegationtrip",
    "agreements:signingevent_detail": "agreements.signingevent",
    "agreements:topic_detail": "agreements.topic",
}


def doors(cast):
    """(url, label of the record it is about or None, record or None, hidden?) for every classified route."""
    targets = records(cast)
    documents = targets["agreements.agreementdocument"]
    result = [(url, None, None, False) for url in MIDDLEWARE_URLS]
    for route, name in served_routes():
        kind = classify(route, name)
        if kind[0] == "admin":
            _, label, view = kind
            names_record = view not in LIST_VIEWS  # a list URL is tried with a record only for its writes
            for record, hidden in targets[label]:
                result += [(url, label, record, hidden and names_record) for url in admin_urls(label, view, record)]
        elif kind[0] == "api":
            _, label, view = kind
            for record, hidden in targets[label]:
                names_record = view != "list"
                result += [(url, label, record, hidden and names_record) for url in api_urls(label, view, record)]
        elif kind[1] == "public_detail":
            label = PUBLIC_DETAIL_MODELS[name]
            for record, hidden in targets[label]:
                result.append((reverse(name, kwargs={"slug": record.slug}), label, record, hidden))
        elif kind[1] == "document":
            label = "agreements.agreementdocument"
            result += [(reverse(name, kwargs={"pk": doc.pk}), label, doc, hidden) for doc, hidden in documents]
        elif kind[1] == "app_list":
            result += [(reverse(name, kwargs={"app_label": app}), None, None, False) for app in ("agreements", "auth")]
        elif kind[1] == "autocomplete":
            for field in ("predecessor", "signing_event", "topics"):
                url = f"{reverse(name)}?app_label=agreements&model_name=agreement&field_name={field}&term="
                result.append((url, None, None, False))
            url = f"{reverse(name)}?app_label=agreements&model_name=agreementdocument&field_name=agreement&term=a"
            result.append((url, None, None, False))
            url = f"{reverse(name)}?app_label=agreements&model_name=signingevent&field_name=people_present&term="
            result.append((url, None, None, False))
        elif kind[1] == "view_on_site":
            for label in ("agreements.agreement", "agreements.agreementdocument"):
                model = apps.get_model(label)
                content_type = ContentType.objects.get_for_model(model)
                for record, hidden in targets[label]:
                    result.append((reverse(name, args=[content_type.pk, record.pk]), label, record, hidden))
        elif kind[1] == "statistics_table":
            result += [(reverse(name, kwargs={"table": table}), None, None, False) for table in statistics.TABLES]
        elif kind[1] == "sitemap_section":
            result += [(reverse(name, kwargs={"section": section}), None, None, False) for section in SITEMAPS]
        elif kind[1] == "catch_all":
            result.append(("/admin/no-such-page/", None, None, False))
        elif kind[1] == "login":
            result.append((reverse(name), None, None, False))
        else:
            result.append((reverse(name), None, None, False))
    # The public pages in the other languages, and filtered lists.
    result += [(url, None, None, False) for url in ("/en/", "/pl/", "/en/agreements/?q=hydrogen", "/?country=IS")]
    result += [(url, None, None, False) for url in ("/en/?status=in_force&party=org-a", "/pl/?status=expired")]
    result += [(url, None, None, False) for url in ("/en/statistics/?country=IS", "/en/map/?party=org-far")]
    result += [(f"/en/agreements/{cast.hidden_a.slug}/", "agreements.agreement", cast.hidden_a, True)]
    return result


# --------------------------------------------------------------------------
# What a role may do


def may_change(role: str, url: str, label: str | None, record) -> bool:
    """The edit rule, written out for the cast: registry administrators change
    everything; editor A its organisation's agreements, their documents and its
    profile; every staff user their own second factor; nobody else anything."""
    own_second_factor = role in {"editor_a", "editor_b", "staff"} and url == reverse("admin:two_factor")
    if role == "registry_admin" or own_second_factor:
        return True
    if label == "agreements.webhookendpoint" and role in {"partner_a", "editor_a"}:
        return True  # A's own endpoints: its token and its members manage them
    if role != "editor_a" or record is None:
        return False
    return label in {"agreements.agreement", "agreements.agreementdocument", "agreements.organisation"}


IGNORED_TABLES = {"sessions.session", "axes.accessattempt", "axes.accesslog", "axes.accessfailurelog"}
IGNORED_TABLES |= {"agreements.dataversion", "contenttypes.contenttype"}
VOLATILE = {"last_login", "last_used_at", "last_t", "throttling_failure_timestamp", "throttling_failure_count"}


def snapshot() -> dict:
    """Every row of every table (history included), but for what a read may touch."""
    state = {}
    for model in apps.get_models():
        if model._meta.label_lower in IGNORED_TABLES:
            continue
        rows = model._base_manager.order_by("pk").values()
        state[model._meta.label_lower] = [{k: v for k, v in row.items() if k not in VOLATILE} for row in rows]
    return state


def watch_every_table() -> None:
    """Test-only triggers (rolled back with the test): a write to any table the
    data version's own triggers do not cover (users, groups, tokens, devices,
    history …) changes the data version too, but for the VOLATILE columns a
    read may touch. Then one read of the data version tells whether any row
    may have changed."""
    covered = tables_with_triggers()
    postgres = connection.vendor == "postgresql"
    bump = DATA_VERSION_BUMP[connection.vendor]
    with connection.cursor() as cursor:
        for model in apps.get_models(include_auto_created=True):
            table = model._meta.db_table
            if model._meta.label_lower in IGNORED_TABLES or table in covered:
                continue
            columns = ", ".join(f.column for f in model._meta.concrete_fields if f.attname not in VOLATILE)
            for event in ("INSERT", "DELETE", f"UPDATE OF {columns}"):
                # PostgreSQL cuts names at 63 characters: long table names would collide.
                name = f"doors_{hashlib.sha256(table.encode()).hexdigest()[:12]}_{event.split()[0].lower()}"
                if postgres:
                    cursor.execute(
                        f"CREATE TRIGGER {name} BEFORE {event} ON {table} "
                        "FOR EACH STATEMENT EXECUTE FUNCTION agreements_dataversion_bump()"
                    )
                else:
                    cursor.execute(f"CREATE TRIGGER {name} AFTER {event} ON {table} BEGIN {bump}; END")


def fingerprint() -> int | None:
    """Changes whenever ``snapshot()`` may (with ``watch_every_table()``)."""
    return DataVersion.objects.values_list("value", flat=True).first()


CHANGED = "Changed through a side door"
TEXT_FIELDS = {"title_en", "title_de", "name", "title", "name_en", "summary_en", "reason", "slug"}


def write_attempts(admin_client, url: str, label: str | None, record):
    """The writes to try at ``url``: (method, data, content type)."""
    if url.startswith("/api/"):
        payload = {
            "title_en": CHANGED,
            "name": CHANGED,
            "name_en": CHANGED,
            "status": "draft",
            "is_public": False,
            "slug": "door-new",
            "parties": [{"organisation": "org-a"}],
            # what the lifecycle steps take
            "signed_on": "2026-03-17",
            "terminated_on": "2026-11-30",
            "reason": CHANGED,
        }
        data = json.dumps(payload)
        return [(method, data, "application/json") for method in ("post", "put", "patch", "delete")]
    if not url.startswith("/admin/"):
        return [("post", {}, None)]
    if url.rstrip("/").endswith(("/add", "/import", "/process_import", "/export")) or record is None:
        return [("post", {}, None)]
    changelist = reverse(f"admin:{record._meta.app_label}_{record._meta.model_name}_changelist")
    if url == changelist:
        page = body(admin_client.get(url))
        actions = [value for value in _action_names(page) if value]
        return [
            ("post", {"action": action, "_selected_action": [record.pk], "index": "0", "post": "yes"}, None)
            for action in actions
        ]
    page = admin_client.get(url)
    form = FormReader.read(body(page))
    registry_form = url.endswith("/change/") or ("/history/" in url and not url.endswith("/history/"))
    read_only = ("/apitoken/", "/webhookdelivery/")  # tokens and the delivery log are read-only
    if url.startswith("/admin/agreements/") and not any(part in url for part in read_only) and registry_form:
        # The forms a registry administrator is offered, sent by every other role.
        assert page.status_code == 200, f"{url}: {page.status_code}"
        assert len(form) >= 3, f"no form read from {url}"
    for name in form:
        if name in TEXT_FIELDS:
            form[name] = [CHANGED if name != "slug" else "door-changed"]
    form.setdefault("post", ["yes"])
    return [("post", form, None)]


def _action_names(page: str) -> list[str]:
    reader = FormReader()
    reader.feed(page)
    return [value for form in reader.forms for value in form.get("action", [])] or _select_options(page, "action")


def _select_options(page: str, name: str) -> list[str]:
    import re

    match = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', page, re.S)
    return re.findall(r'<option value="([^"]*)"', match.group(1)) if match else []


def send(client, method, url, data, content_type):
    if content_type:
        return getattr(client, method)(url, data=data, content_type=content_type)
    return getattr(client, method)(url, data=data)


# --------------------------------------------------------------------------
# The matrix


@pytest.fixture
def no_rate_limits(settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_CLASSES": []}


def test_no_door_reveals_what_a_role_may_not_see(cast, role_clients, no_rate_limits):
    problems, tried = [], 0
    for url, _label, _record, hidden in doors(cast):
        for role in ROLES:
            response = role_clients[role].get(url)
            tried += 1
            text = body(response)
            if response.status_code >= 500:
                problems.append(f"{role} GET {url}: {response.status_code}")
            secrets = [] if role in SEES_HIDDEN_OF_B else cast.secrets_of_b
            if role not in SEES_HIDDEN_OF_A:
                secrets = [*secrets, *cast.secrets]
            leaked = [secret for secret in secrets if secret in text]
            if leaked:
                problems.append(f"{role} GET {url}: shows {leaked}")
            if role not in SEES_HIDDEN_OF_A and hidden and response.status_code == 200:
                problems.append(f"{role} GET {url}: 200 for a hidden record")
    assert problems == [], "\n".join(problems)
    assert tried > 1500  # the size of the inventory (URLs x roles); see the note of issue 12


def test_the_fingerprint_changes_with_every_kind_of_write(cast):
    assert {"agreements_agreement", "agreements_organisation"} <= tables_with_triggers()
    watch_every_table()
    seen = [fingerprint()]

    def changed() -> bool:
        seen.append(fingerprint())
        return seen[-1] != seen[-2]

    type(cast.hidden_a).objects.filter(pk=cast.hidden_a.pk).update(title_en="Changed")  # a registry table
    assert changed()
    cast.hidden_a.history.model.objects.filter(pk=cast.hidden_a.history.first().pk).delete()  # history
    assert changed()
    type(cast.users["staff"]).objects.filter(pk=cast.users["staff"].pk).update(first_name="Changed")  # a user
    assert changed()
    Group.objects.create(name="new group")
    assert changed()
    cast.users["staff"].groups.add(Group.objects.get(name="new group"))  # a many-to-many row
    assert changed()
    type(cast.users["staff"]).objects.filter(pk=cast.users["staff"].pk).update(last_login=timezone.now())
    assert not changed()  # what a read may touch (a login) does not count


def test_no_door_changes_what_a_role_may_not_change(cast, role_clients, no_rate_limits):
    problems, tried = [], 0
    inventory = doors(cast)
    watch_every_table()
    before, before_print = snapshot(), fingerprint()
    for url, label, record, _hidden in inventory:
        attempts = write_attempts(role_clients["superuser"], url, label, record)
        for role in ROLES:
            if may_change(role, url, label, record):
                continue
            for method, data, content_type in attempts:
                response = send(role_clients[role], method, url, data, content_type)
                body(response)
                tried += 1
                if url == reverse("admin:logout") and role in cast.users:
                    role_clients[role].force_login(cast.users[role])  # the other doors need the role's session
                if response.status_code >= 500:
                    problems.append(f"{role} {method.upper()} {url}: {response.status_code}")
                after_print = fingerprint()
                if after_print == before_print:
                    continue
                # Something may have changed (a statement's trigger also runs when no row
                # changed): compare every row.
                after = snapshot()
                changed = [table for table in before if before[table] != after[table]]
                if changed:
                    problems.append(f"{role} {method.upper()} {url}: changed {changed} ({response.status_code})")
                before, before_print = after, after_print
    assert problems == [], "\n".join(problems)
    assert tried > 1000
