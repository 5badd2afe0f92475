from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    # Rate-limit counters are shared through Django's cache; without Redis it
    # lives in this table (createcachetable does nothing for other backends).
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


def drop_cache_table(apps, schema_editor):
    schema_editor.execute("DROP TABLE IF EXISTS registry_cache")


class Migration(migrations.Migration):
    dependencies = [("agreements", "0002_api_tokens_and_search")]

    operations = [migrations.RunPython(create_cache_table, drop_cache_table)]
