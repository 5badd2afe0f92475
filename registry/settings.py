"""Settings for the Cooperation Agreement Registry.

Everything configurable comes from the environment (see `.env.example`).
The helpers below are strict: a value they cannot understand stops start-up
with a message naming the variable, instead of silently falling back.
"""

import datetime
import ipaddress
import os
from pathlib import Path

import dj_database_url
import orjson
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def envbool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean; use one of: 1/0, true/false, yes/no, on/off.")


def envint(name: str, default: int, *, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number.") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name}={raw!r} must be at least {minimum}.")
    return value


def envlist(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    if not raw.strip():
        return []
    items = [item.strip() for item in raw.split(",")]
    if any(not item or any(ch.isspace() for ch in item) for item in items):
        raise ImproperlyConfigured(f"{name}={raw!r} must be a comma-separated list without empty items or spaces.")
    return items


def envchoice(name: str, default: str, choices: set[str]) -> str:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().upper()
    if value not in choices:
        raise ImproperlyConfigured(f"{name}={raw!r} must be one of: {', '.join(sorted(choices))}.")
    return value


def envdatabase(name: str, default: str) -> dict:
    raw = os.environ.get(name) or default
    conn_max_age = envint("DATABASE_CONN_MAX_AGE", 60)
    connect_timeout = envint("DATABASE_CONNECT_TIMEOUT", 5)
    try:
        config = dj_database_url.parse(raw, conn_max_age=conn_max_age)
    except Exception as exc:  # dj-database-url raises several types for junk
        raise ImproperlyConfigured(f"{name}={raw!r} is not a usable database URL: {exc}") from None
    engine = config.get("ENGINE", "")
    if engine not in {"django.db.backends.sqlite3", "django.db.backends.postgresql"}:
        raise ImproperlyConfigured(f"{name}={raw!r}: only sqlite:// and postgres:// URLs are supported.")
    if not config.get("NAME"):
        raise ImproperlyConfigured(f"{name}={raw!r} names no database.")
    if engine == "django.db.backends.postgresql":
        config.setdefault("OPTIONS", {})
        config["OPTIONS"].setdefault("connect_timeout", connect_timeout)
        # A database host that stops answering (hung, or cut off by the
        # network) must not hold a connection for ever: TCP keepalives drop an
        # idle pooled connection to it within ~25 s, and data it does not
        # acknowledge within 10 s breaks the connection (a query waiting on it
        # fails and is answered 503). A server that is merely frozen (SIGSTOP;
        # its kernel still acknowledges) is caught by the web processes'
        # watchdog within a few seconds (registry/database.py).
        config["OPTIONS"].setdefault("keepalives", 1)
        config["OPTIONS"].setdefault("keepalives_idle", 10)
        config["OPTIONS"].setdefault("keepalives_interval", 5)
        config["OPTIONS"].setdefault("keepalives_count", 3)
        config["OPTIONS"].setdefault("tcp_user_timeout", 10_000)
        # A runaway query is cancelled by the server (and answered 503). Web
        # processes default to 15 s (registry/wsgi.py); management commands
        # (migrations, loads) have no limit unless the variable is set.
        # No JIT: the registry's queries are short, and PostgreSQL's cost
        # estimates on the large tables made it compile (~50 ms) for searches
        # that then ran for less than that (measured with bench/).
        options = ["-c jit=off"]
        statement_timeout = envint("DATABASE_STATEMENT_TIMEOUT", 0)
        if statement_timeout:
            options.append(f"-c statement_timeout={statement_timeout}")
        config["OPTIONS"]["options"] = " ".join(options)
        config["CONN_HEALTH_CHECKS"] = True
    return config


DEBUG = envbool("DJANGO_DEBUG", False)

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is required when DJANGO_DEBUG is off "
            "(generate one with: python -c 'import secrets; print(secrets.token_urlsafe(50))')."
        )
    SECRET_KEY = "insecure-development-key-only-used-with-debug-on"  # noqa: S105 - debug only

ALLOWED_HOSTS = envlist("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = envlist("DJANGO_CSRF_TRUSTED_ORIGINS", [])
for _origin in CSRF_TRUSTED_ORIGINS:
    if not _origin.startswith(("http://", "https://")):
        raise ImproperlyConfigured(
            f"DJANGO_CSRF_TRUSTED_ORIGINS entry {_origin!r} must start with http:// or https://."
        )

INSTALLED_APPS = [
    "registry.apps.RegistryAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "django.contrib.postgres",
    "django_countries",
    "django_filters",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "import_export",
    "axes",
    "django_otp",
    "registry.apps.TOTPConfig",  # django_otp.plugins.otp_totp, with translated names
    "django_tasks_db",  # the task queue of webhook deliveries (a table; worker: manage.py task_worker)
    "agreements",
]

MIDDLEWARE = [
    "registry.middleware.DatabaseGuardMiddleware",
    "registry.middleware.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "registry.middleware.LocaleMiddleware",
    # After the language is chosen (its 413 is in the caller's language), before anything reads a body.
    "registry.middleware.RequestSizeLimitMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "registry.middleware.StaffSessionTimeoutMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",
]

# Staff login protection (django-axes): after AXES_FAILURE_LIMIT failed logins
# for a user name or from an address, logins are refused for the cool-off
# time. Attempts live in the database, so every web instance sees them.
# Logins are staff logins, in the admin; an unsafe "next" lands there too.
LOGIN_URL = "admin:login"
LOGIN_REDIRECT_URL = "admin:index"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = envint("DJANGO_LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=envint("DJANGO_LOGIN_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "registry.security.client_ip"
AXES_LOCKOUT_CALLABLE = "registry.security.lockout_response"
AXES_SENSITIVE_PARAMETERS = ["password", "otp_token"]
AXES_VERBOSE = False

ROOT_URLCONF = "registry.urls"
WSGI_APPLICATION = "registry.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "agreements.context_processors.languages",
            ],
        },
    },
]

DATABASES = {"default": envdatabase("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Languages: German is the default; English and Polish are full siblings.
# The order matters: reader-facing text fields are created in this order.
LANGUAGE_CODE = "de"
LANGUAGES = [("de", _("German")), ("en", _("English")), ("pl", _("Polish"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "Europe/Berlin"
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("DJANGO_MEDIA_ROOT") or BASE_DIR / "media")
# Documents are stored through Django's storage API under generated names and
# are never served from MEDIA_URL: a view applies the visibility rule. Another
# backend (e.g. S3 via django-storages) is configured with DJANGO_FILE_STORAGE.
DOCUMENT_MAX_BYTES = envint("DJANGO_DOCUMENT_MAX_MB", 20, minimum=1) * 1024 * 1024
STORAGES = {
    "default": {"BACKEND": os.environ.get("DJANGO_FILE_STORAGE") or "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}


def envrate(name: str, default: str) -> str:
    raw = os.environ.get(name) or default
    count, _slash, period = raw.strip().partition("/")
    if not count.isdigit() or period not in {"s", "sec", "second", "m", "min", "minute", "h", "hour", "d", "day"}:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a rate like 120/minute or 10/second.")
    return raw.strip()


# Shared between processes and instances: Redis when REDIS_URL is set, else a
# table in the database (created by migration). Never per-process memory,
# except while Redis is unreachable: then each process answers without it,
# from its own memory and the database, and counts rate limits on its own
# (fail open to per-process counters; registry/cache.py).
REDIS_URL = os.environ.get("REDIS_URL", "").strip()
if REDIS_URL:
    if not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
        raise ImproperlyConfigured(f"REDIS_URL={REDIS_URL!r} must start with redis://, rediss:// or unix://.")
    from redis.backoff import NoBackoff
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.retry import Retry

    CACHES = {
        "default": {
            "BACKEND": "registry.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {
                # A Redis that does not answer costs a request at most this (s),
                # and then nothing for CIRCUIT_SECONDS (the circuit is open).
                "socket_connect_timeout": 0.25,
                "socket_timeout": 0.5,
                # One immediate retry on a refused or reset connection (a pooled
                # connection from before a Redis restart); none on a timeout.
                "retry": Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
                "CIRCUIT_SECONDS": 5,
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "registry_cache"}}

# CSV/XLSX import and export in the admin: each import runs in one transaction;
# the uploaded file waits for confirmation in the shared cache (not on one
# instance's disk). Formula cells are escaped by agreements/resources.py (the
# library's own escaping turns empty cells into "None" and drops the "=").
IMPORT_EXPORT_USE_TRANSACTIONS = True
IMPORT_EXPORT_TMP_STORAGE_CLASS = "import_export.tmp_storages.CacheStorage"
IMPORT_EXPORT_SKIP_ADMIN_LOG = False

# The API's change feed keeps entries this many days; an older cursor is a 410.
CHANGE_FEED_RETENTION_DAYS = envint("CHANGE_FEED_RETENTION_DAYS", 90, minimum=1)

# Background tasks (Django's tasks framework): webhook deliveries are queued in
# the database and run by a worker process ("manage.py task_worker"; compose's
# worker service, bin/start starts one too).
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# Webhooks (agreements/webhooks.py). Endpoints must use https unless this is on
# (local development and tests), and may not reach loopback, private,
# link-local, multicast, reserved or metadata addresses, checked whenever a
# delivery connects, unless the address lies in WEBHOOK_ALLOWED_NETWORKS
# (comma-separated CIDRs, e.g. 127.0.0.1/32 for a receiver on the same host).
WEBHOOK_ALLOW_HTTP = envbool("WEBHOOK_ALLOW_HTTP", DEBUG)
WEBHOOK_ALLOWED_NETWORKS = envlist("WEBHOOK_ALLOWED_NETWORKS", [])
for _network in WEBHOOK_ALLOWED_NETWORKS:
    try:
        ipaddress.ip_network(_network)
    except ValueError:
        raise ImproperlyConfigured(f"WEBHOOK_ALLOWED_NETWORKS entry {_network!r} is not a network (CIDR).") from None
# Seconds to connect, and to wait for each read of the answer.
WEBHOOK_TIMEOUT_SECONDS = envint("WEBHOOK_TIMEOUT_SECONDS", 5, minimum=1)
# Failed deliveries are retried after 30 s, 1 min, 2 min, ... (at most an hour
# apart) for this many hours; then the endpoint is disabled and its
# organisation's members and the registry administrators are told by e-mail.
WEBHOOK_RETRY_HOURS = envint("WEBHOOK_RETRY_HOURS", 24, minimum=24)
# After an endpoint's secret is rotated, deliveries are signed with the new and
# the old secret for this many hours (the receiver switches meanwhile).
WEBHOOK_SECRET_GRACE_HOURS = envint("WEBHOOK_SECRET_GRACE_HOURS", 24, minimum=0)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "agreements.api.authentication.TokenAuthentication",
        "agreements.api.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["agreements.api.permissions.ModelPermissionsOrReadOnly"],
    # orjson: the same JSON, several times faster to produce and to read.
    "DEFAULT_RENDERER_CLASSES": ["drf_orjson_renderer.renderers.ORJSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["drf_orjson_renderer.parsers.ORJSONParser"],
    # Field errors of list items are keyed by their index, as the json module writes them.
    "ORJSON_RENDERER_OPTIONS": [orjson.OPT_NON_STR_KEYS],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "agreements.api.pagination.RegistryPagination",
    "DEFAULT_SCHEMA_CLASS": "agreements.api.schema.RegistrySchema",
    "EXCEPTION_HANDLER": "agreements.api.exceptions.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "agreements.api.throttling.AnonymousRateThrottle",
        "agreements.api.throttling.PartnerRateThrottle",
        "agreements.api.throttling.StaffRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anonymous": envrate("API_THROTTLE_ANONYMOUS", "120/minute"),
        "partner": envrate("API_THROTTLE_PARTNER", "1200/minute"),
        "staff": envrate("API_THROTTLE_STAFF", "3000/minute"),
    },
    # Client address for per-address limits: REMOTE_ADDR unless this many
    # trusted proxies put theirs in X-Forwarded-For (so rotating it helps nobody).
    "NUM_PROXIES": envint("API_NUM_PROXIES", 0),
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Cooperation Agreement Registry API",
    "DESCRIPTION": (
        "Cooperation agreements, the organisations that sign them, signing events and delegation trips. "
        "Send `Authorization: Token <key>` to see what your organisation may see. Lists are paginated "
        "(`page`, `page_size` up to 200); a parameter that cannot be used answers 400 naming it, and an empty "
        "one (`?country=`) is the same as one not given. Reads need no credentials."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "agreements.api.schema.allow_empty_query_values",
    ],
    "SWAGGER_UI_DIST": "SIDECAR",
    # No deep links: Swagger UI puts each one inside its operation's toggle
    # button (a link nested in a button: WCAG 4.1.2).
    "SWAGGER_UI_SETTINGS": {"deepLinking": False},
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "AgreementKindEnum": "agreements.choices.AgreementKind",
        "AgreementStatusEnum": "agreements.choices.AgreementStatus",
        "OrganisationKindEnum": "agreements.choices.OrganisationKind",
        "PartyRoleEnum": "agreements.choices.PartyRole",
        "DatePrecisionEnum": "agreements.choices.DatePrecision",
        "TextLanguageEnum": "agreements.choices.TextLanguage",
        # The change feed's kinds of entry (agreements.models.ChangeKind), in the feed and webhook filters.
        "ChangeKindEnum": ["created", "updated", "deleted", "published", "unpublished", "removed_from_view"],
    },
}

# Security. Behind a TLS-terminating proxy set DJANGO_SECURE_PROXY_SSL_HEADER=1.
SECURE_SSL_REDIRECT = envbool("DJANGO_SECURE_SSL_REDIRECT", not DEBUG)
if envbool("DJANGO_SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = envint("DJANGO_SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = envbool("DJANGO_SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Content Security Policy (Django's own): no page needs inline script or style,
# and nothing is loaded from another host.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
CSRF_FAILURE_VIEW = "registry.views.csrf_failure"

# Staff sessions end after a while without activity and, whatever the activity,
# after a maximum duration; logging in always starts a new session key.
SESSION_IDLE_SECONDS = envint("DJANGO_SESSION_IDLE_MINUTES", 30, minimum=1) * 60
SESSION_COOKIE_AGE = envint("DJANGO_SESSION_MAX_HOURS", 12, minimum=1) * 3600

# Request bodies: form/JSON data as Django's default (2.5 MB); uploads up to
# the document limit plus room for the form's other fields.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
REQUEST_BODY_MAX_BYTES = DOCUMENT_MAX_BYTES + 1024 * 1024

# E-mail (expiry reminders). With debug on (a local run) the console backend
# prints mails instead of sending them; in production SMTP is the default.
_email_backend = os.environ.get("DJANGO_EMAIL_BACKEND") or (
    "django.core.mail.backends.console.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend"
)
MAILERS = {
    "default": {
        "BACKEND": _email_backend,
        "OPTIONS": (
            {
                "host": os.environ.get("DJANGO_EMAIL_HOST", "localhost"),
                "port": envint("DJANGO_EMAIL_PORT", 25, minimum=1),
                "username": os.environ.get("DJANGO_EMAIL_HOST_USER", ""),
                "password": os.environ.get("DJANGO_EMAIL_HOST_PASSWORD", ""),
                "use_tls": envbool("DJANGO_EMAIL_USE_TLS", False),
            }
            if _email_backend.endswith("smtp.EmailBackend")
            else {}
        ),
    }
}
DEFAULT_FROM_EMAIL = os.environ.get("DJANGO_DEFAULT_FROM_EMAIL", "registry@localhost")
# Links in e-mails (expiry reminders) are absolute: the registry's address as its
# users open it, e.g. https://registry.example.org. Default: the first trusted
# origin, else (with debug on) the local development server.
SITE_URL = os.environ.get("DJANGO_SITE_URL", "").strip() or next(
    iter(CSRF_TRUSTED_ORIGINS), "http://localhost:8000" if DEBUG else ""
)
if SITE_URL and not SITE_URL.startswith(("http://", "https://")):
    raise ImproperlyConfigured(f"DJANGO_SITE_URL={SITE_URL!r} must start with http:// or https://.")
SITE_URL = SITE_URL.rstrip("/")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {
        "handlers": ["console"],
        "level": envchoice("DJANGO_LOG_LEVEL", "INFO", {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}),
    },
}
