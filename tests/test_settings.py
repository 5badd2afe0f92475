"""Configuration comes only from the environment, and junk stops start-up
with a message naming the variable. Each case starts a fresh process."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "a-long-random-secret-key-for-the-deploy-check-0123456789-abcdefghijklmnop",
    "DJANGO_ALLOWED_HOSTS": "registry.example.org",
    "DJANGO_CSRF_TRUSTED_ORIGINS": "https://registry.example.org",
    "DATABASE_URL": "sqlite:///:memory:",
}


def manage(*args, **env_overrides):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    env.update(PRODUCTION)
    for key, value in env_overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_settings_pass_the_deploy_check():
    result = manage("check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("DJANGO_DEBUG", "maybe", "DJANGO_DEBUG='maybe' is not a boolean"),
        ("DJANGO_SECRET_KEY", None, "DJANGO_SECRET_KEY is required"),
        ("DJANGO_SECRET_KEY", "", "DJANGO_SECRET_KEY is required"),
        ("DATABASE_URL", "mysql://root@localhost/x", "only sqlite:// and postgres:// URLs are supported"),
        ("DATABASE_URL", "not a url", "is not a usable database URL"),
        ("DJANGO_ALLOWED_HOSTS", "a.example.org,,b.example.org", "comma-separated list"),
        ("DJANGO_CSRF_TRUSTED_ORIGINS", "registry.example.org", "must start with http:// or https://"),
        ("DJANGO_SECURE_HSTS_SECONDS", "a year", "DJANGO_SECURE_HSTS_SECONDS='a year' is not a whole number"),
        ("DATABASE_CONNECT_TIMEOUT", "-1", "must be at least 0"),
        ("DJANGO_LOG_LEVEL", "LOUD", "DJANGO_LOG_LEVEL='LOUD' must be one of"),
    ],
)
def test_junk_values_stop_start_up_naming_the_variable(variable, value, message):
    result = manage("check", **{variable: value})
    assert result.returncode != 0
    assert message in result.stderr
    assert "ImproperlyConfigured" in result.stderr


def test_debug_may_run_without_a_secret_key():
    result = manage("check", DJANGO_DEBUG="1", DJANGO_SECRET_KEY=None)
    assert result.returncode == 0, result.stderr


def test_database_url_selects_postgresql():
    result = manage(
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings; d = settings.DATABASES['default'];"
        "print(d['ENGINE'], d['NAME'], d['HOST'], d['PORT'], d['OPTIONS']['connect_timeout'])",
        DATABASE_URL="postgres://postgres@db.internal:5433/registry",
        DATABASE_CONNECT_TIMEOUT="3",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.postgresql", "registry", "db.internal", "5433", "3"]


def test_default_database_is_a_sqlite_file_in_the_project():
    result = manage(
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings; print(settings.DATABASES['default']['NAME'])",
        DATABASE_URL=None,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(ROOT / "db.sqlite3")


def test_redis_url_selects_the_redis_cache():
    result = manage(
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings; print(settings.CACHES['default']['BACKEND'])",
        REDIS_URL="redis://127.0.0.1:6379/0",
    )
    assert result.stdout.strip() == "registry.cache.ResilientRedisCache", result.stderr
    result = manage(
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings; print(settings.CACHES['default']['BACKEND'])",
        REDIS_URL=None,
    )
    assert result.stdout.strip() == "django.core.cache.backends.db.DatabaseCache", result.stderr


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("REDIS_URL", "localhost:6379", "must start with redis://"),
        ("API_THROTTLE_ANONYMOUS", "lots", "is not a rate like"),
        ("API_NUM_PROXIES", "-2", "must be at least 0"),
    ],
)
def test_junk_api_settings_stop_start_up(variable, value, message):
    result = manage("check", **{variable: value})
    assert result.returncode != 0 and message in result.stderr


def test_postgresql_gets_connect_and_statement_timeouts_from_the_environment():
    code = "from django.conf import settings; o = settings.DATABASES['default']['OPTIONS']; print(o)"
    result = manage(
        "shell",
        "-c",
        code,
        DATABASE_URL="postgres://registry@db.example.org/registry",
        DATABASE_CONNECT_TIMEOUT="3",
        DATABASE_STATEMENT_TIMEOUT="2500",
    )
    assert result.returncode == 0, result.stderr
    assert "'connect_timeout': 3" in result.stdout
    assert "'options': '-c jit=off -c statement_timeout=2500'" in result.stdout
    result = manage("shell", "-c", code, DATABASE_URL="postgres://registry@db.example.org/registry")
    assert "statement_timeout" not in result.stdout  # commands: no limit unless asked
    assert "'options': '-c jit=off'" in result.stdout


def test_web_processes_default_to_a_statement_timeout():
    code = "import registry.wsgi, os; print(os.environ['DATABASE_STATEMENT_TIMEOUT'])"
    result = manage("shell", "-c", code, DATABASE_URL="postgres://registry@db.example.org/registry")
    assert result.stdout.strip().splitlines()[-1] == "15000", result.stderr
