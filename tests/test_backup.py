"""Backup and restore round trip (PostgreSQL): bin/backup, bin/restore into a
fresh database, the same rows, and the registry works on the restored data."""

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection

from .factories import AgreementDocumentFactory

ROOT = Path(__file__).resolve().parent.parent

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="backup and restore are for PostgreSQL (run with DATABASE_URL)"
)


def url_for(name: str) -> str:
    s = connection.settings_dict
    credentials = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{credentials}@{s['HOST'] or 'localhost'}:{s['PORT'] or 5432}/{name}"


def run(command, database, media, *args):
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))},
        "DATABASE_URL": url_for(database),
        "DJANGO_MEDIA_ROOT": str(media),
        "DJANGO_DEBUG": "1",
        "DJANGO_ALLOWED_HOSTS": "testserver",
        # The dump carries the database cache table, rate-limit counters included.
        "API_THROTTLE_ANONYMOUS": "100000/minute",
    }
    return subprocess.run([*command, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def row_counts(database: str) -> dict[str, int]:
    with psycopg.connect(url_for(database)) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1"
            )
        ]
        return {table: conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0] for table in tables}  # noqa: S608


@pytest.fixture
def restore_database():
    name = connection.settings_dict["NAME"] + "_restored"
    admin_url = url_for("postgres")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    yield name
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@postgresql_only
def test_backup_and_restore_round_trip(transactional_db, restore_database, tmp_path, settings):
    call_command("load_founding_data", verbosity=0)
    from agreements.models import Agreement

    agreement = Agreement.objects.get(slug="amz-sa-am-cooperation-2021")
    document = AgreementDocumentFactory(agreement=agreement, title="Signed scan", is_public=True)
    source = connection.settings_dict["NAME"]
    dump = tmp_path / "registry.dump"

    result = run(["bin/backup"], source, settings.MEDIA_ROOT, str(dump))
    assert result.returncode == 0, result.stderr
    assert dump.stat().st_size > 0 and (tmp_path / "registry-media.tar.gz").exists()

    restored_media = tmp_path / "restored-media"
    result = run(["bin/restore"], restore_database, restored_media, str(dump))
    assert result.returncode == 0, result.stderr
    assert row_counts(restore_database) == row_counts(source)
    with document.file.open("rb") as original:
        assert (restored_media / document.file.name).read_bytes() == original.read()

    # The registry works on the restored data: nothing to migrate, the founding
    # data is recognised as unchanged, the public list and the document answer.
    manage = [sys.executable, "manage.py"]
    result = run(manage, restore_database, restored_media, "migrate", "--check")
    assert result.returncode == 0, result.stdout + result.stderr
    result = run(manage, restore_database, restored_media, "load_founding_data")
    assert "0 created" in result.stdout and "0 skipped" in result.stdout, result.stdout + result.stderr
    check = (
        "from django.test import Client; c = Client(); "
        "print(c.get('/api/v1/agreements/').json()['count'], "
        f"c.get('/documents/{document.pk}/').status_code)"
    )
    result = run(manage, restore_database, restored_media, "shell", "-c", check)
    assert result.stdout.split()[-2:] == ["2", "200"], result.stdout + result.stderr

    # Restoring over existing data is refused, and changes nothing.
    before = row_counts(restore_database)
    result = run(["bin/restore"], restore_database, restored_media, str(dump))
    assert result.returncode == 1 and "restore only into an empty database" in result.stderr
    assert row_counts(restore_database) == before


def test_backup_refuses_sqlite(tmp_path):
    env = {**os.environ, "DATABASE_URL": "sqlite:///x.sqlite3"}
    result = subprocess.run(["bin/backup"], cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 2 and "works on PostgreSQL" in result.stderr
