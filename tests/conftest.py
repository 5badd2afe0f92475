import pytest
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


@pytest.fixture
def founding_data(db):
    call_command("load_founding_data", verbosity=0)


@pytest.fixture
def signed_agreement(db):
    return AgreementFactory(signed=True)
