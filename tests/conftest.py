from dataclasses import dataclass

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.utils import translation

from .factories import AgreementFactory
from .helpers import logged_in, staff_user


@pytest.fixture(autouse=True)
def _plain_static_storage(settings):
    # Production uses whitenoise's manifest storage, which needs collectstatic;
    # tests render admin pages without it.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _english_outside_requests():
    # Code outside a request runs in English; each request activates its own
    # language, and without this the last request's language would leak into
    # the next test (translation state is per thread).
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


DATABASE_FIXTURES = {"db", "transactional_db", "django_db_reset_sequences", "live_server"}


@pytest.fixture(autouse=True)
def _empty_cache(request):
    # Cached answers and pages are keyed by the data's version, not by the
    # settings a test changes; rate-limit counters live there too. Each test
    # that uses the database starts with none of another's. (The cache may be
    # a database table: tests without the database have no test database.)
    if request.node.get_closest_marker("django_db") or DATABASE_FIXTURES & set(request.fixturenames):
        request.getfixturevalue("django_db_setup")
        with request.getfixturevalue("django_db_blocker").unblock():
            cache.clear()


@pytest.fixture
def founding_data(db):
    call_command("load_founding_data", verbosity=0)


@pytest.fixture
def signed_agreement(db):
    return AgreementFactory(signed=True)


@pytest.fixture(scope="session", autouse=True)
def _no_stray_database_sessions(django_db_setup, django_db_blocker):
    """PostgreSQL refuses to drop the test database while another session uses
    it. A live-server request thread still finishing when the session ends can
    be one; end such sessions (and say which) so the teardown is clean."""
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid, application_name, state, left(query, 120), pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        for row in cursor.fetchall():
            print(f"\nended a stray database session at teardown: {row[:4]}")


# --------------------------------------------------------------------------
# The cast: one small registry with something hidden of organisation A and
# something public of A, and one client per role of the permission matrix.
# Every text of a hidden record carries a marker word, so a test can tell
# that a page reveals nothing of it by looking for the words.


@dataclass
class Cast:
    org_a: object
    org_b: object
    org_c: object
    org_far: object  # a party only to A's hidden draft, in a country no visible record has
    topic: object
    trip: object
    event: object
    programme_item: object
    public_a: object  # signed, public; parties A and C
    hidden_a: object  # draft, not public; parties A and far
    public_doc_a: object  # public document of public_a
    internal_doc_a: object  # non-public document of public_a
    hidden_doc_a: object  # document of hidden_a
    hidden_b: object  # signed, not public; parties B and C
    public_person: object
    hidden_person_a: object  # not public, of organisation A; signatory of public_a, present at the event
    users: dict
    keys: dict

    @property
    def secrets_of_b(self) -> list[str]:
        """Texts that only roles in SEES_HIDDEN_OF_B may ever be shown."""
        return [self.hidden_b.title_en, self.hidden_b.summary_en]

    @property
    def secrets(self) -> list[str]:
        """Texts that only roles in SEES_HIDDEN_OF_A may ever be shown."""
        return [
            self.hidden_a.title_en,
            self.hidden_a.summary_en,
            self.hidden_doc_a.title,
            self.internal_doc_a.title,
            self.hidden_person_a.name,
        ]


@pytest.fixture
def cast(db):
    from agreements.services import token_create

    from .factories import (
        AgreementDocumentFactory,
        DelegationTripFactory,
        OrganisationFactory,
        PersonFactory,
        ProgrammeItemFactory,
        SignatoryFactory,
        SigningEventFactory,
        TopicFactory,
    )

    org_a = OrganisationFactory(slug="org-a", name="Alpha Cluster", short_name="ALPHA", country="DE")
    org_b = OrganisationFactory(slug="org-b", name="Beta Association", short_name="BETA", country="PL")
    org_c = OrganisationFactory(slug="org-c", name="Gamma Institute", short_name="GAMMA", country="CZ")
    org_far = OrganisationFactory(slug="org-far", name="Far Partners", short_name="FAR", country="IS")
    topic = TopicFactory(slug="software")
    trip = DelegationTripFactory(slug="trip")
    event = SigningEventFactory(slug="event", trip=trip, date=trip.start_date)
    programme_item = ProgrammeItemFactory(trip=trip)
    public_a = AgreementFactory(
        slug="public-a",
        signed=True,
        parties=[org_a, org_c],
        topics=[topic],
        signing_event=event,
        title_en="Open cooperation of Alpha",
        summary_en="Supply chains and software",
    )
    hidden_a = AgreementFactory(
        slug="hidden-a",
        parties=[org_a, org_far],
        topics=[topic],
        signing_event=event,
        title_en="Xyzzy draft of Alpha",
        summary_en="Plugh hydrogen plans",
    )
    public_person = PersonFactory(slug="minister", name="Public Minister", is_public=True)
    hidden_person_a = PersonFactory(slug="private-person", name="Zorkmid Private", is_public=False, organisation=org_a)
    SignatoryFactory(agreement=public_a, person=public_person, organisation=org_a)
    SignatoryFactory(agreement=public_a, person=hidden_person_a, organisation=org_a)
    event.people_present.set([public_person, hidden_person_a])
    public_doc_a = AgreementDocumentFactory(agreement=public_a, title="Public scan", is_public=True)
    internal_doc_a = AgreementDocumentFactory(agreement=public_a, title="Frobozz internal annex", is_public=False)
    hidden_doc_a = AgreementDocumentFactory(agreement=hidden_a, title="Quux annex of the draft", is_public=True)
    hidden_b = AgreementFactory(
        slug="hidden-b",
        signed=True,
        is_public=False,
        parties=[org_b, org_c],
        title_en="Private pact of Beta",
        summary_en="Confidential plans",
    )

    users = {
        "editor_a": staff_user("editor-a", group="organisation editor", organisations=[org_a]),
        "editor_b": staff_user("editor-b", group="organisation editor", organisations=[org_b]),
        "registry_admin": staff_user("registrar", group="registry admin"),
        "staff": staff_user("staff"),  # staff without a role: sees what is public
        "superuser": staff_user("root", superuser=True),
    }
    keys = {
        "partner_a": token_create(name="Partner A", organisation=org_a)[1],
        "partner_b": token_create(name="Partner B", organisation=org_b)[1],
    }
    return Cast(
        org_a, org_b, org_c, org_far, topic, trip, event, programme_item, public_a, hidden_a,
        public_doc_a, internal_doc_a, hidden_doc_a, hidden_b, public_person, hidden_person_a, users, keys,
    )  # fmt: skip


@pytest.fixture
def role_clients(cast):
    """One test client per role (the token roles send their token; staff roles are logged in)."""
    from django.test import Client

    result = {"anonymous": Client(HTTP_ACCEPT_LANGUAGE="en")}
    for role in ("partner_a", "partner_b"):
        result[role] = Client(HTTP_ACCEPT_LANGUAGE="en", HTTP_AUTHORIZATION=f"Token {cast.keys[role]}")
    for role in ("editor_a", "editor_b", "registry_admin", "staff", "superuser"):
        result[role] = logged_in(cast.users[role])
    return result
