import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.utils import translation

from .factories import AgreementFactory


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
