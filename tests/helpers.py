"""Helpers shared by the test modules (never imported from a test module)."""

from html.parser import HTMLParser

from django.contrib.auth.models import Group, Permission
from django.test import Client
from rest_framework.test import APIClient

from .factories import UserFactory

# The roles of the permission matrix (clients: the ``role_clients`` fixture).
ROLES = ("anonymous", "partner_a", "partner_b", "editor_a", "editor_b", "staff", "registry_admin")
# Roles that may see A's hidden records (their texts may appear for these only).
SEES_HIDDEN_OF_A = {"partner_a", "editor_a", "registry_admin"}
SEES_HIDDEN_OF_B = {"partner_b", "editor_b", "registry_admin"}

# The model permissions of registry staff who write through the API.
WRITE_PERMS = [
    f"{action}_{model}"
    for action in ("add", "change", "delete", "view")
    for model in ("agreement", "organisation", "person", "topic")
]


def staff_user(username, *, group=None, organisations=(), perms=(), superuser=False):
    """A staff user, in ``group`` ("organisation editor", "registry admin") if
    given, member of ``organisations``, with ``perms`` (codenames)."""
    user = UserFactory(username=username, is_staff=True, is_superuser=superuser)
    if perms:
        user.user_permissions.set(Permission.objects.filter(codename__in=perms))
    if group:
        user.groups.add(Group.objects.get(name=group))
    for organisation in organisations:
        organisation.members.add(user)
    return user


def logged_in(user) -> Client:
    """A browser-like client with ``user``'s session (English pages)."""
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def staff_client(username, group, organisations=()) -> Client:
    return logged_in(staff_user(username, group=group, organisations=organisations))


def token_client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def body(response) -> str:
    # Reading a streamed answer to its end closes it (as the test client
    # does for the others; closing again would end the test's transaction).
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return content.decode("utf-8", errors="replace")


class FormReader(HTMLParser):
    """The fields of the largest POST form of a page, as a browser would send them."""

    def __init__(self):
        super().__init__()
        self.forms, self._form, self._select, self._textarea = [], None, None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and (attrs.get("method") or "").lower() == "post":
            self._form = {}
            self.forms.append(self._form)
        if self._form is None or ("name" not in attrs and tag != "option"):
            return
        name = attrs.get("name")
        if tag == "input":
            kind = (attrs.get("type") or "text").lower()
            if (kind in {"checkbox", "radio"} and "checked" not in attrs) or kind in {"file", "submit", "button"}:
                return
            self._form.setdefault(name, []).append(attrs.get("value") or ("on" if kind == "checkbox" else ""))
        elif tag == "textarea":
            self._textarea = name
            self._form.setdefault(name, []).append("")
        elif tag == "select":
            self._select = (name, "multiple" in attrs, [])
        elif tag == "option" and self._select is not None:
            self._select[2].append((attrs.get("value", ""), "selected" in attrs))

    def handle_data(self, data):
        if self._textarea:
            self._form[self._textarea][-1] += data

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None
        elif tag == "select" and self._select is not None:
            name, multiple, options = self._select
            chosen = [value for value, selected in options if selected]
            if not chosen and not multiple and options:
                chosen = [options[0][0]]
            self._form.setdefault(name, []).extend(chosen)
            self._select = None
        elif tag == "form":
            self._form = None

    @classmethod
    def read(cls, html: str) -> dict:
        reader = cls()
        reader.feed(html)
        return max(reader.forms, key=len, default={})


def organisation_form(organisation, **changes):
    data = {
        "name": organisation.name,
        "short_name": organisation.short_name,
        "slug": organisation.slug,
        "kind": organisation.kind,
        "parent": "",
        "country": organisation.country.code,
        "region": "",
        "city": "",
        "website": "",
        "description_de": organisation.description_de,
        "description_en": organisation.description_en,
        "description_pl": "",
        "language": "de",
    }
    data.update(changes)
    return data


def agreement_form(**overrides):
    data = {
        "slug": "new-agreement",
        "kind": "cooperation_agreement",
        "status": "signed",
        "language": "de",
        "title_de": "Neue Vereinbarung",
        "title_en": "",
        "title_pl": "",
        "summary_de": "",
        "summary_en": "",
        "summary_pl": "",
        "objectives_de": "",
        "objectives_en": "",
        "objectives_pl": "",
        "signed_on": "2021-10-07",
        "signed_on_precision": "day",
        "signing_event": "",
        "valid_from": "",
        "valid_until": "",
    }
    for prefix in ("parties", "signatories", "documents", "sources", "expiry_reminders"):
        data.update(
            {
                f"{prefix}-TOTAL_FORMS": "0",
                f"{prefix}-INITIAL_FORMS": "0",
                f"{prefix}-MIN_NUM_FORMS": "0",
                f"{prefix}-MAX_NUM_FORMS": "1000",
            }
        )
    data.update(overrides)
    return data


def parties(*organisations):
    data = {"parties-TOTAL_FORMS": str(len(organisations))}
    for index, organisation in enumerate(organisations):
        data.update(
            {
                f"parties-{index}-organisation": organisation.pk,
                f"parties-{index}-role": "party",
                f"parties-{index}-position": index,
            }
        )
    return data


class WebhookReceiver:
    """A partner's webhook receiver: a small HTTP server on 127.0.0.1 in a
    thread that checks each delivery's signature (Standard Webhooks) and
    answers ``status`` (and ``location`` for a redirect). ``stop()`` takes
    it down (connections are refused) and ``start()`` brings it back on the
    same port."""

    def __init__(self, secret: str = "", status: int = 200):
        self.secret, self.status, self.location = secret, status, None
        self.received: list[dict] = []  # verified deliveries: headers, payload, path
        self.refused: list[str] = []  # requests whose signature did not verify
        self.port = 0
        self._server = None
        self.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self):
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        from standardwebhooks.webhooks import Webhook, WebhookVerificationError

        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                headers = dict(self.headers.items())
                try:
                    payload = Webhook(receiver.secret).verify(body, headers)
                except WebhookVerificationError as exc:
                    receiver.refused.append(str(exc))
                    self.send_response(400)
                else:
                    receiver.received.append({"headers": headers, "payload": payload, "path": self.path})
                    self.send_response(receiver.status)
                    if receiver.location:
                        self.send_header("Location", receiver.location)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def entries(self) -> list[dict]:
        return [entry for delivery in self.received for entry in delivery["payload"]["data"]["entries"]]
