# Search that finds (issue 15): the agreement's searchable text, folded
# (accents removed, lower case), replaces the tsvector document of 0002.

import agreements.search
from django.contrib.postgres.operations import TrigramExtension, UnaccentExtension
from django.db import migrations, models

# A trigram index serves "contains" on PostgreSQL (a word anywhere, also inside
# a German compound); SQLite reads the column (no such index type).
INDEX = "agreement_search_text_trgm"


def fill_search_text(apps, schema_editor):
    # The model's own definition (agreements.models.search_document), as 0002 did.
    from agreements.models import Agreement, search_document

    Agreement.objects.update(**search_document())


def create_search_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX {INDEX} ON agreements_agreement USING gin (search_text gin_trgm_ops)"
        )


def drop_search_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):

    dependencies = [
        ('agreements', '0022_legal_pages'),
    ]

    operations = [
        # No-ops on SQLite, where AgreementsConfig registers unaccent() on each connection.
        UnaccentExtension(),
        TrigramExtension(),
        # Nullable, without a default: SQLite adds and drops the columns in place
        # (no table rebuild that would lose the data version triggers of 0015/0017).
        migrations.RemoveField(
            model_name='agreement',
            name='search_vector',
        ),
        migrations.AddField(
            model_name='agreement',
            name='search_text',
            field=agreements.search.SearchTextField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name='agreement',
            name='search_title',
            field=models.TextField(editable=False, null=True),
        ),
        migrations.RunPython(fill_search_text, migrations.RunPython.noop),
        migrations.RunPython(create_search_index, drop_search_index),
    ]
