"""The OpenAPI document says what the API does: who may call an operation
without credentials, and how empty parameters are read."""

from drf_spectacular.openapi import AutoSchema
from rest_framework import permissions

from .permissions import ModelPermissionsOrReadOnly

# Permissions under which a read needs no credentials (what it shows is then
# what the public may see).
OPEN_READS = (permissions.AllowAny, permissions.IsAuthenticatedOrReadOnly, ModelPermissionsOrReadOnly)


class RegistrySchema(AutoSchema):
    def get_auth(self):
        auths = super().get_auth()
        if self.method not in permissions.SAFE_METHODS:
            # Every write needs credentials, whatever the view's permission class
            # lets through to its own check (a party's token for a confirmation).
            return [auth for auth in auths if auth != {}]
        perms = self.view.get_permissions()
        if all(isinstance(p, OPEN_READS) for p in perms) and {} not in auths:
            auths.append({})
        return auths


def allow_empty_query_values(result, generator, request, public):
    """One rule for empty parameters, as the filters apply it
    (``filtersets.without_empty``): ``?country=`` is the same as no ``country``."""
    for path in result.get("paths", {}).values():
        for operation in path.values():
            for parameter in operation.get("parameters", []) if isinstance(operation, dict) else []:
                if parameter.get("in") == "query":
                    parameter["allowEmptyValue"] = True
    return result
