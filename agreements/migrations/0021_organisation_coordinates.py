import django.core.validators
from django.db import migrations, models

# SQLite rebuilds the organisation table to add a column with a default or a
# constraint, and the rebuilt table has lost the data version triggers of
# migration 0015: put them back (after the rebuild, whichever way it runs).
SQLITE_BUMP = (
    "INSERT INTO agreements_dataversion (id, value) "
    "VALUES (1, CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER)) "
    "ON CONFLICT (id) DO UPDATE SET value = MAX(agreements_dataversion.value + 1, excluded.value)"
)


def restore_sqlite_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    table = "agreements_organisation"
    for event in ("INSERT", "UPDATE", "DELETE"):
        schema_editor.execute(
            f"CREATE TRIGGER IF NOT EXISTS {table}_dv_{event.lower()} AFTER {event} ON {table} BEGIN {SQLITE_BUMP}; END"
        )


def coordinate(name, help_text, limit):
    return models.DecimalField(
        blank=True,
        decimal_places=5,
        help_text=help_text,
        max_digits=8,
        null=True,
        validators=[
            django.core.validators.MinValueValidator(-limit),
            django.core.validators.MaxValueValidator(limit),
        ],
        verbose_name=name,
    )


SOURCE = models.CharField(
    blank=True,
    help_text="Where the coordinates come from, e.g. “city centre of Dresden”.",
    max_length=250,
    verbose_name="source of the coordinates",
)
LATITUDE = ("latitude", "Degrees north (WGS 84), e.g. 51.05 for Dresden.", 90)
LONGITUDE = ("longitude", "Degrees east (WGS 84), e.g. 13.74 for Dresden.", 180)


class Migration(migrations.Migration):
    dependencies = [
        ("agreements", "0020_change_feed"),
    ]

    operations = [
        migrations.RunPython(migrations.RunPython.noop, restore_sqlite_triggers),
        *[
            migrations.AddField(model_name=model, name=name, field=field)
            for model in ("organisation", "historicalorganisation")
            for name, field in (
                ("latitude", coordinate(*LATITUDE)),
                ("longitude", coordinate(*LONGITUDE)),
                ("coordinates_source", SOURCE.clone()),
            )
        ],
        migrations.AddConstraint(
            model_name="organisation",
            constraint=models.CheckConstraint(
                condition=models.Q(("latitude__isnull", True), ("longitude__isnull", True))
                | models.Q(
                    ("latitude__gte", -90),
                    ("latitude__isnull", False),
                    ("latitude__lte", 90),
                    ("longitude__gte", -180),
                    ("longitude__isnull", False),
                    ("longitude__lte", 180),
                ),
                name="organisation_coordinates_complete",
                violation_error_message="Give both latitude and longitude (in degrees), or neither.",
            ),
        ),
        migrations.RunPython(restore_sqlite_triggers, migrations.RunPython.noop),
    ]
