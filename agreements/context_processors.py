from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.urls import translate_url
from django.utils.translation import get_language, get_language_info

# What a page's address may carry and still name the same page: the list's
# filters and a page number. Anything else (tracking, cache busting) is left out
# of the canonical address and the alternates.
CANONICAL_PARAMETERS = ("q", "party", "country", "topic", "kind", "year", "trip", "status", "ordering", "page")


def canonical_path(request) -> str:
    query = request.GET.copy()
    for name in list(query):
        if name not in CANONICAL_PARAMETERS or not any(query.getlist(name)):
            query.pop(name)
    return f"{request.path}?{query.urlencode()}" if query else request.path


def _absolute(request, path: str) -> str | None:
    """``path`` as an absolute address, or None when the request's host is not
    one of ours (the 400 page for a bad Host header renders without them)."""
    try:
        return request.build_absolute_uri(path)
    except DisallowedHost:
        return None


def languages(request):
    """The language switcher: the same page in each language, named in that
    language; the page's canonical address and its absolute alternates (for
    ``<link rel="canonical">`` and ``hreflang``), German being the default."""
    current = get_language()
    canonical = canonical_path(request)
    links = [
        {
            "code": code,
            "name": get_language_info(code)["name_local"],
            "url": translate_url(request.get_full_path(), code),
            "absolute_url": _absolute(request, translate_url(canonical, code)),
            "current": code == current,
        }
        for code, _name in settings.LANGUAGES
    ]
    return {
        "language_links": links,
        "canonical_url": _absolute(request, canonical),
        "default_language_url": next(link["absolute_url"] for link in links if link["code"] == settings.LANGUAGE_CODE),
    }
