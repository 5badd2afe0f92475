from django.contrib.admin.apps import AdminConfig


class RegistryAdminConfig(AdminConfig):
    """Django's admin with our site (second factor, see registry/admin_site.py)."""

    default_site = "registry.admin_site.RegistryAdminSite"
