# The constraint in its own migration: on PostgreSQL a table whose rows were
# just updated (0009's data step) can't be altered in the same transaction.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("agreements", "0009_document_content"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name='agreementdocument',
            constraint=models.CheckConstraint(condition=models.Q(('content_type__in', ['application/pdf', 'image/png', 'image/jpeg'])), name='agreementdocument_content_type_valid', violation_error_message='Documents are PDF, PNG or JPEG files.'),
        ),
    ]
