from django.utils.translation import gettext as _
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import PageNumberPagination


class RegistryPagination(PageNumberPagination):
    """``{"count", "next", "previous", "results"}`` with ``page`` and
    ``page_size`` (default 50, at most 200). A page size that is not a
    positive whole number is a 400; a page beyond the last one a 404. Empty
    values are not given (``filtersets.without_empty``): page 1, the default size."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None or raw == "":
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            size = 0
        if size < 1:
            raise ValidationError(
                {"page_size": [_("Must be a whole number from 1 to %(max)d.") % {"max": self.max_page_size}]}
            )
        return min(size, self.max_page_size)

    def paginate_queryset(self, queryset, request, view=None):
        raw = request.query_params.get(self.page_query_param) or "1"
        if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
            raise ValidationError({"page": [_("Must be a whole number of 1 or more.")]})
        try:
            return super().paginate_queryset(queryset, request, view)
        except NotFound:
            raise NotFound({"page": [_("Page %(page)s does not exist.") % {"page": raw}]}) from None

    def get_page_number(self, request, paginator):
        return request.query_params.get(self.page_query_param) or 1

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1}
            elif parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": self.max_page_size}
        return parameters
