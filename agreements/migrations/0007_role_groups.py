"""The two staff roles as groups with their model permissions."""

from django.db import migrations

REGISTRY_MODELS = [
    "organisation", "person", "topic", "agreement", "agreementparty", "signatory", "agreementdocument",
    "agreementsource", "signingevent", "delegationtrip", "tripstop", "programmeitem", "apitoken",
]
# Organisation editors: agreements (and their parts) of their organisations, their organisations' profiles.
EDITOR_WRITES = {
    "agreement": ("add", "change", "delete"),
    "agreementparty": ("add", "change", "delete"),
    "signatory": ("add", "change", "delete"),
    "agreementdocument": ("add", "change", "delete"),
    "agreementsource": ("add", "change", "delete"),
    "organisation": ("change",),
}
EDITOR_VIEWS = [m for m in REGISTRY_MODELS if m != "apitoken"]


def create_groups(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    # Permissions are normally created after all migrations; make sure they exist now.
    for label in ("agreements", "auth"):
        config = apps.get_app_config(label)
        config.models_module = True
        create_permissions(config, apps=apps, verbosity=0)

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    registry = Permission.objects.filter(content_type__app_label="agreements")

    admins, _ = Group.objects.get_or_create(name="registry admin")
    admins.permissions.set(registry)

    codenames = [f"view_{m}" for m in EDITOR_VIEWS]
    codenames += [f"{action}_{m}" for m, actions in EDITOR_WRITES.items() for action in actions]
    editors, _ = Group.objects.get_or_create(name="organisation editor")
    editors.permissions.set(registry.filter(codename__in=codenames))


def delete_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=["registry admin", "organisation editor"]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("agreements", "0006_organisation_members"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, delete_groups)]
