from rest_framework.permissions import SAFE_METHODS, DjangoModelPermissionsOrAnonReadOnly


class ModelPermissionsOrReadOnly(DjangoModelPermissionsOrAnonReadOnly):
    """Reads are for everyone (what a caller sees is decided by the model's
    ``visible_to``); writes need the model permission. DRF's class answers a
    read the same way, but builds the view's queryset first to learn the model."""

    def has_permission(self, request, view):
        if request.method in SAFE_METHODS:
            return True
        return super().has_permission(request, view)


class ChangePermission(ModelPermissionsOrReadOnly):
    """Lifecycle steps are POSTs that change a record: they need the change permission, not the add one."""

    perms_map = {**ModelPermissionsOrReadOnly.perms_map, "POST": ["%(app_label)s.change_%(model_name)s"]}
