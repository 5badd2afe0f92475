from django.core.paginator import Paginator
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import PageNumberPagination


class CountedPaginator(Paginator):
    """A paginator that can be told the count (the view already knows it)."""

    def __init__(self, *args, known_count: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.known_count = known_count

    @cached_property
    def count(self):
        return self.known_count if self.known_count is not None else super().count


class RegistryPagination(PageNumberPagination):
    """``{"count", "next", "previous", "results"}`` with ``page`` and
    ``page_size`` (default 50, at most 200). A page size that is not a
    positive whole number is a 400; a page beyond the last one a 404."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
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
        raw = request.query_params.get(self.page_query_param, "1")
        if not raw.isdigit() or int(raw) < 1:
            raise ValidationError({"page": [_("Must be a whole number of 1 or more.")]})
        known_count = getattr(view, "known_count", None)
        self.django_paginator_class = lambda *args, **kwargs: CountedPaginator(*args, known_count=known_count, **kwargs)
        try:
            return super().paginate_queryset(queryset, request, view)
        except NotFound:
            raise NotFound({"page": [_("Page %(page)s does not exist.") % {"page": raw}]}) from None
