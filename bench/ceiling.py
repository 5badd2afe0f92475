# ruff: noqa: S608 - SQL text is built from constants in this file; values are always bound parameters.
"""The *ceiling* reference: a plain WSGI app, no framework, that shows what
this machine can do at most for the benchmark's answers. Never part of the
product. Two modes, chosen per request by the ``X-Bench-Mode`` header:

- **uncached** (no header): the API's list and detail answers from
  hand-written SQL through psycopg (the page's ids first, then its rows with
  their nested objects as ``json_agg`` subqueries in one statement), dumped
  with orjson, **byte for byte the product's JSON** (bench/runner.py checks
  that on several addresses before it measures, and refuses to report a
  ratio otherwise); a home page with the product page's queries written as
  HTML with f-strings (not the product's HTML: see bench/README.md).
- **cached** (``X-Bench-Mode: cached``): the read the product makes before it
  answers from its cache (the data version; for a detail, the record's
  ``(pk, updated_at)`` and the data version in one query), then a Redis
  ``GET`` of the answer **the product stored**, under the key the product
  derives (``cache_key`` below, a copy of agreements/api/views.py
  ``ConditionalGetMixin._digest``/``_conditional`` and agreements/views.py
  ``cached_page``). A miss is a 500 whose body names the key: the runner
  checks before measuring that every cached scenario hits and returns the
  product's bytes, and stops with a message naming this function otherwise.

Run by the runner as ``gunicorn -c gunicorn.conf.py bench.ceiling:application``
with ``DATABASE_URL`` and ``REDIS_URL`` set. One connection per worker thread,
kept open. Each answer carries ``X-Bench-Queries``: the SQL statements it ran.
"""

import datetime
import hashlib
import html
import os
import pickle  # nosec B403 - reads what the product's own cache wrote (Django's RedisSerializer)
import threading
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import orjson
import psycopg
import redis
from psycopg.rows import dict_row
from psycopg.types.json import set_json_loads

from agreements.search import escape_like, phrase
from agreements.search import terms as search_terms

set_json_loads(orjson.loads)

DATABASE_URL = os.environ["DATABASE_URL"]
REDIS = redis.Redis.from_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/14"))
PUBLIC = "a.is_public AND a.status IN ('signed', 'terminated')"
LANGS = ("de", "en", "pl")
# The product's settings: TIME_ZONE, LANGUAGE_CODE (no Accept-Language is sent), cache KEY_PREFIX/VERSION.
TIME_ZONE = ZoneInfo("Europe/Berlin")
LANGUAGE = "de"
CACHE_PREFIX = ":1:"
MONTHS_DE = [
    "Januar",
    "Februar",
    "März",
    "April",
    "Mai",
    "Juni",
    "Juli",
    "August",
    "September",
    "Oktober",
    "November",
    "Dezember",
]

_local = threading.local()


def connect() -> psycopg.Connection:
    conn = getattr(_local, "conn", None)
    if conn is None or conn.closed:
        # UTC, as Django's connections: a record's version names updated_at in UTC.
        conn = _local.conn = psycopg.connect(DATABASE_URL, autocommit=True, options="-c TimeZone=UTC -c jit=off")
    return conn


def localdate() -> datetime.date:
    return datetime.datetime.now(TIME_ZONE).date()


def request_uri(environ) -> str:
    """Django's ``request.build_absolute_uri()`` for the plain ASCII addresses the benchmark uses."""
    query = environ.get("QUERY_STRING", "")
    return f"http://{environ.get('HTTP_HOST', 'localhost')}{environ.get('PATH_INFO', '/')}" + (
        f"?{query}" if query else ""
    )


def tr(alias: str, name: str, active: str = "de") -> str:
    """The product's fallback: active language, the record's own, then any."""
    others = ", ".join(f"NULLIF({alias}.{name}_{lang}, '')" for lang in LANGS)
    original = " ".join(f"WHEN '{lang}' THEN NULLIF({alias}.{name}_{lang}, '')" for lang in LANGS)
    return f"COALESCE(NULLIF({alias}.{name}_{active}, ''), CASE {alias}.language {original} END, {others}, '')"


def columns(base: str) -> str:
    """The agreement as the product's API shows it (AgreementSerializer), nested objects as JSON."""
    return f"""
        a.id, a.slug, {tr("a", "title")} AS title, a.kind, a.status, {tr("a", "summary")} AS summary,
        {tr("a", "objectives")} AS objectives, a.language, a.signed_date, a.signed_date_precision, a.signed_on,
        a.signed_on_precision, a.valid_from, a.valid_until, a.indefinite, a.is_public, a.published_at,
        a.created_at, a.updated_at,
        (SELECT COALESCE(json_agg(json_build_object('slug', t.slug, 'name', {tr("t", "name")},
                'url', '{base}topics/' || t.slug || '/') ORDER BY t.slug), '[]')
           FROM agreements_agreement_topics at JOIN agreements_topic t ON t.id = at.topic_id
          WHERE at.agreement_id = a.id) AS topics,
        (SELECT COALESCE(json_agg(json_build_object('organisation', json_build_object('slug', o.slug,
                'name', o.name, 'short_name', o.short_name, 'country', o.country,
                'url', '{base}organisations/' || o.slug || '/'), 'role', p.role) ORDER BY p.position, p.id), '[]')
           FROM agreements_agreementparty p JOIN agreements_organisation o ON o.id = p.organisation_id
          WHERE p.agreement_id = a.id) AS parties,
        (SELECT COALESCE(json_agg(json_build_object('person', json_build_object('slug', pe.slug, 'name', pe.name,
                'position', {tr("pe", "position")}, 'url', '{base}people/' || pe.slug || '/'),
                'organisation', so.slug) ORDER BY s.id), '[]')
           FROM agreements_signatory s JOIN agreements_person pe ON pe.id = s.person_id
           JOIN agreements_organisation so ON so.id = s.organisation_id
          WHERE s.agreement_id = a.id AND pe.is_public) AS signatories,
        (SELECT COALESCE(json_agg(json_build_object('title', d.title, 'kind', d.kind, 'language', d.language,
                'is_public', d.is_public, 'content_type', d.content_type, 'size', d.size,
                'file_url', '{base}documents/' || d.id || '/file/') ORDER BY d.kind, d.id), '[]')
           FROM agreements_agreementdocument d WHERE d.agreement_id = a.id AND d.is_public) AS documents,
        (SELECT COALESCE(json_agg(json_build_object('kind', so.kind, 'title', so.title, 'url', so.url,
                'publisher', so.publisher, 'published_on', so.published_on) ORDER BY so.published_on, so.id), '[]')
           FROM agreements_agreementsource so WHERE so.agreement_id = a.id) AS sources,
        e.slug AS e_slug, {tr("e", "title")} AS e_title, e.date AS e_date, e.date_precision AS e_precision,
        e.city AS e_city, tp.slug AS t_slug, {tr("tp", "title")} AS t_title, tp.start_date, tp.end_date
    """


JOINS = """
    LEFT JOIN agreements_signingevent e ON e.id = a.signing_event_id
    LEFT JOIN agreements_delegationtrip tp ON tp.id = e.trip_id
"""


def date_display(day, precision) -> str:
    """The product's DatePrecision.format in German (DATE_FORMAT "j. F Y", YEAR_MONTH_FORMAT "F Y")."""
    if day is None:
        return ""
    if precision == "year":
        return str(day.year)
    if precision == "month":
        return f"{MONTHS_DE[day.month - 1]} {day.year}"
    return f"{day.day}. {MONTHS_DE[day.month - 1]} {day.year}"


def timestamp(value: datetime.datetime | None) -> str | None:
    """DRF's DateTimeField: in the product's time zone, ISO 8601, "Z" for UTC."""
    if value is None:
        return None
    text = value.astimezone(TIME_ZONE).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def agreement_dict(row: dict, base: str, web: str, today: datetime.date) -> dict:
    event = None
    if row["e_slug"]:
        event = {
            "slug": row["e_slug"],
            "title": row["e_title"],
            "date": row["e_date"],
            "date_precision": row["e_precision"],
            "city": row["e_city"],
            "url": f"{base}signing-events/{row['e_slug']}/",
        }
    trip = None
    if row["t_slug"]:
        trip = {
            "slug": row["t_slug"],
            "title": row["t_title"],
            "start_date": row["start_date"],
            "end_date": row["end_date"],
            "url": f"{base}trips/{row['t_slug']}/",
        }
    return {
        "id": row["id"],
        "slug": row["slug"],
        "url": f"{base}agreements/{row['slug']}/",
        "web_url": f"{web}agreements/{row['slug']}/",  # every agreement the ceiling shows is published
        "title": row["title"],
        "kind": row["kind"],
        "status": row["status"],
        "expired": row["status"] == "signed" and row["valid_until"] is not None and row["valid_until"] < today,
        "summary": row["summary"],
        "objectives": row["objectives"],
        "language": row["language"],
        "topics": row["topics"],
        "parties": row["parties"],
        "signatories": row["signatories"],
        "signed_date": row["signed_date"],
        "signed_date_precision": row["signed_date_precision"],
        "signed_on": row["signed_on"],
        "signed_on_precision": row["signed_on_precision"],
        "signed_on_display": date_display(row["signed_date"], row["signed_date_precision"]),
        "signing_event": event,
        "trip": trip,
        "valid_from": row["valid_from"],
        "valid_until": row["valid_until"],
        "indefinite": row["indefinite"],
        "documents": row["documents"],
        "sources": row["sources"],
        "is_public": row["is_public"],
        "published_at": timestamp(row["published_at"]),
        "created_at": timestamp(row["created_at"]),
        "updated_at": timestamp(row["updated_at"]),
    }


class BadRequest(Exception):
    pass


def where_clause(query: dict) -> tuple[str, list, tuple | None]:
    """The product's filters used by the benchmark: party, topic, year, q."""
    conditions, params, search = [PUBLIC], [], None
    for slug in query.get("party", []):
        conditions.append(
            "EXISTS (SELECT 1 FROM agreements_agreementparty p JOIN agreements_organisation o "
            "ON o.id = p.organisation_id WHERE p.agreement_id = a.id AND o.slug = %s)"
        )
        params.append(slug)
    if query.get("topic"):
        conditions.append(
            "EXISTS (SELECT 1 FROM agreements_agreement_topics at JOIN agreements_topic t ON t.id = at.topic_id "
            "WHERE at.agreement_id = a.id AND t.slug = ANY(%s))"
        )
        params.append(query["topic"])
    if query.get("year"):
        try:
            year = int(query["year"][0])
        except ValueError:
            raise BadRequest("year") from None
        conditions.append("a.signed_date BETWEEN %s AND %s")
        params += [datetime.date(year, 1, 1), datetime.date(year, 12, 31)]
    text = (query.get("q") or [""])[0]
    words = search_terms(text)
    if words:
        search = (words, phrase(text))
        for word in words:  # the product's rule (agreements.search): every word in the folded text
            conditions.append("a.search_text LIKE %s")
            params.append(f"%{escape_like(word)}%")
    return " AND ".join(conditions), params, search


def replace_query_param(url: str, key: str, value) -> str:
    """DRF's pagination links (rest_framework.utils.urls): every parameter kept, sorted, ``key`` set."""
    scheme, netloc, path, query, fragment = urlsplit(url)
    params = parse_qs(query, keep_blank_values=True)
    params[key] = [str(value)]
    return urlunsplit((scheme, netloc, path, urlencode(sorted(params.items()), doseq=True), fragment))


def remove_query_param(url: str, key: str) -> str:
    scheme, netloc, path, query, fragment = urlsplit(url)
    params = parse_qs(query, keep_blank_values=True)
    params.pop(key, None)
    return urlunsplit((scheme, netloc, path, urlencode(sorted(params.items()), doseq=True), fragment))


def api_list(environ, query, base, web):
    try:
        size = min(int((query.get("page_size") or ["50"])[0]), 200)
        page = int((query.get("page") or ["1"])[0])
    except ValueError:
        raise BadRequest("page") from None
    where, params, search = where_clause(query)
    conn = connect()
    count = conn.execute(f"SELECT count(*) FROM agreements_agreement a WHERE {where}", params).fetchone()[0]
    # The page's ids first (sorted and cut with only what sorting needs), then its rows with
    # their nested objects: subqueries in the select list would otherwise run for every
    # row skipped by OFFSET.
    rank, rank_params = "0", []
    order = "p.signed_date DESC NULLS LAST, p.id DESC"  # the product's NEWEST_FIRST
    if search:
        # The product's rank: the exact title, then titles holding every word, then the rest; newest first.
        words, title = search
        in_title = " AND ".join(["a.search_title LIKE %s"] * len(words))
        rank = f"CASE WHEN a.search_title LIKE %s THEN 2 WHEN {in_title} THEN 1 ELSE 0 END"
        rank_params = [f"%\n{escape_like(title)}\n%", *(f"%{escape_like(w)}%" for w in words)]
        order = "p.rank DESC, p.signed_date DESC NULLS LAST, p.id DESC"
    inner_order = order.replace("p.rank", "rank").replace("p.", "a.")
    with conn.cursor(row_factory=dict_row) as cursor:
        rows = cursor.execute(
            f"""WITH p AS MATERIALIZED (
                    SELECT a.id, a.signed_date, {rank} AS rank FROM agreements_agreement a WHERE {where}
                     ORDER BY {inner_order} LIMIT %s OFFSET %s)
                SELECT {columns(base)} FROM p JOIN agreements_agreement a ON a.id = p.id {JOINS} ORDER BY {order}""",
            [*rank_params, *params, size, (page - 1) * size],
        ).fetchall()
    if page > 1 and not rows:
        return "404 Not Found", orjson.dumps({"page": ["no such page"]}), [], 2
    today = localdate()
    url = request_uri(environ)
    body = {
        "count": count,
        "next": replace_query_param(url, "page", page + 1) if page * size < count else None,
        "previous": (remove_query_param(url, "page") if page == 2 else replace_query_param(url, "page", page - 1))
        if page > 1
        else None,
        "results": [agreement_dict(row, base, web, today) for row in rows],
    }
    return "200 OK", orjson.dumps(body), [], 2


def api_detail(slug, base, web):
    with connect().cursor(row_factory=dict_row) as cursor:
        row = cursor.execute(
            f"SELECT {columns(base)} FROM agreements_agreement a {JOINS} WHERE {PUBLIC} AND a.slug = %s", [slug]
        ).fetchone()
    if row is None:
        return "404 Not Found", b'{"detail":"Not found."}', [], 1
    return "200 OK", orjson.dumps(agreement_dict(row, base, web, localdate())), [], 1


def home(web):
    """The public list's first page (20 newest) with the filter choices the product's page offers."""
    conn = connect()
    count = conn.execute(f"SELECT count(*) FROM agreements_agreement a WHERE {PUBLIC}").fetchone()[0]
    rows = conn.execute(
        f"""SELECT a.slug, {tr("a", "title")}, a.signed_on, a.signed_on_precision,
            (SELECT string_agg(COALESCE(NULLIF(o.short_name, ''), o.name), ', ' ORDER BY p.position, p.id)
               FROM agreements_agreementparty p JOIN agreements_organisation o ON o.id = p.organisation_id
              WHERE p.agreement_id = a.id),
            (SELECT string_agg({tr("t", "name")}, ', ' ORDER BY t.slug) FROM agreements_agreement_topics at
               JOIN agreements_topic t ON t.id = at.topic_id WHERE at.agreement_id = a.id)
           FROM agreements_agreement a WHERE {PUBLIC} ORDER BY a.signed_on DESC, a.id DESC LIMIT 20"""
    ).fetchall()
    organisations = conn.execute(
        f"""SELECT o.slug, o.name, o.country FROM agreements_organisation o WHERE EXISTS (
              SELECT 1 FROM agreements_agreementparty p JOIN agreements_agreement a ON a.id = p.agreement_id
               WHERE p.organisation_id = o.id AND {PUBLIC}) ORDER BY o.name"""
    ).fetchall()
    topics = conn.execute(
        f"""SELECT t.slug, {tr("t", "name")} FROM agreements_topic t WHERE EXISTS (
              SELECT 1 FROM agreements_agreement_topics at JOIN agreements_agreement a ON a.id = at.agreement_id
               WHERE at.topic_id = t.id AND {PUBLIC}) ORDER BY t.slug"""
    ).fetchall()
    trips = conn.execute(
        f"""SELECT tp.slug, {tr("tp", "title")} FROM agreements_delegationtrip tp WHERE EXISTS (
              SELECT 1 FROM agreements_signingevent e JOIN agreements_agreement a ON a.signing_event_id = e.id
               WHERE e.trip_id = tp.id AND {PUBLIC}) ORDER BY tp.start_date DESC, tp.slug"""
    ).fetchall()
    years = conn.execute(
        f"""SELECT DISTINCT date_trunc('year', a.signed_on) FROM agreements_agreement a
             WHERE {PUBLIC} AND a.signed_on IS NOT NULL ORDER BY 1 DESC"""
    ).fetchall()
    esc = html.escape
    out = [
        "<!doctype html><html lang='de'><head><meta charset='utf-8'><title>Kooperationsvereinbarungen</title>"
        f"</head><body><h1>Kooperationsvereinbarungen</h1><p>{count} Vereinbarungen</p><form><select name='party'>"
    ]
    out += [f"<option value='{esc(slug)}'>{esc(name)}</option>" for slug, name, _c in organisations]
    out.append("</select><select name='country'>")
    out += [f"<option>{esc(c)}</option>" for c in sorted({c for _s, _n, c in organisations})]
    out.append("</select><select name='topic'>")
    out += [f"<option value='{esc(slug)}'>{esc(name)}</option>" for slug, name in topics]
    out.append("</select><select name='trip'>")
    out += [f"<option value='{esc(slug)}'>{esc(name)}</option>" for slug, name in trips]
    out.append("</select><select name='year'>")
    out += [f"<option>{y.year}</option>" for (y,) in years]
    out.append("</select></form><ol>")
    for slug, title, signed_on, precision, parties, topic_names in rows:
        out.append(
            f"<li><a href='{web}agreements/{esc(slug)}/'>{esc(title)}</a> <span>{esc(parties or '')}</span> "
            f"<time>{date_display(signed_on, precision)}</time> <small>{esc(topic_names or '')}</small></li>"
        )
    out.append("</ol></body></html>")
    return "200 OK", "".join(out).encode(), [("Content-Type", "text/html; charset=utf-8")], 6


# --------------------------------------------------------------------------
# Cached answers: the product's own bytes


def digest(uri: str, *parts) -> str:
    """ConditionalGetMixin._digest: address, language, what the caller may see (anonymous: "public"), parts."""
    text = "|".join(map(str, (uri, LANGUAGE, "public", *parts)))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def data_version(conn) -> int:
    return conn.execute("SELECT value FROM agreements_dataversion WHERE id = 1 LIMIT 1").fetchone()[0]


def cache_key(environ) -> tuple[str, int, str | None]:
    """The product's cache key for this request, the statements read for it, and the ETag."""
    path, uri, conn, day = environ.get("PATH_INFO", "/"), request_uri(environ), connect(), localdate()
    parts = path.strip("/").split("/")
    if parts[:2] != ["api", "v1"]:
        # agreements/views.py cached_page
        address = hashlib.sha256(uri.encode()).hexdigest()
        return f"page:v1:{data_version(conn)}:{day}:{LANGUAGE}:{address}", 1, None
    if len(parts) == 4 and parts[2] == "agreements":
        # ConditionalGetMixin.retrieve: the record's (pk, updated_at) and the data version in one query.
        stamp = conn.execute(
            f"""SELECT a.id, a.updated_at, (SELECT value FROM agreements_dataversion WHERE id = 1)
                  FROM agreements_agreement a WHERE {PUBLIC} AND a.slug = %s LIMIT 1""",
            [parts[3]],
        ).fetchone()
        if stamp is None:
            return "", 1, None
        pk, updated_at, version = stamp
        record = hashlib.sha256(f"agreements.Agreement|{pk}|{updated_at.isoformat()}".encode()).hexdigest()[:16]
        etag = f'"{record}.{digest(uri, record, version, day)}"'
    else:
        kind = "statistics" if parts[2:] == ["statistics"] else "list"
        etag = f'"{digest(uri, kind, data_version(conn), day)}"'
    return f"api-json:v1:{etag}", 1, etag


def cached(environ):
    key, queries, etag = cache_key(environ)
    if etag is not None and environ.get("HTTP_IF_NONE_MATCH") == etag:
        return "304 Not Modified", b"", [("ETag", etag)], queries
    stored = REDIS.get(CACHE_PREFIX + key) if key else None
    if stored is None:
        message = f"cached ceiling: no stored answer under {CACHE_PREFIX + key!r} (see bench/ceiling.py cache_key)"
        return "500 Internal Server Error", message.encode(), [("X-Bench-Key", key)], queries
    value = pickle.loads(stored)  # noqa: S301 - the product's own cache entry  # nosec B301
    if etag is None:  # a page: (headers, content)
        headers, content = value
        return "200 OK", content, [("Content-Type", headers.get("Content-Type", "text/html"))], queries
    return "200 OK", value, [("Content-Type", "application/json"), ("ETag", etag)], queries


def application(environ, start_response):
    path = environ.get("PATH_INFO", "/")
    host = environ.get("HTTP_HOST", "localhost")
    web = f"http://{host}/"
    base = f"{web}api/v1/"
    query = parse_qs(environ.get("QUERY_STRING", ""))
    headers = [("Content-Type", "application/json")]
    try:
        if path == "/healthz":
            status, body, extra, queries = "200 OK", b'{"status":"ok"}', [], 0
        elif environ.get("HTTP_X_BENCH_MODE") == "cached":
            status, body, headers, queries = cached(environ)
            extra = []
        elif path == "/api/v1/agreements/":
            status, body, extra, queries = api_list(environ, query, base, web)
        elif path.startswith("/api/v1/agreements/") and path.count("/") == 5:
            status, body, extra, queries = api_detail(path.split("/")[4], base, web)
        elif path == "/":
            status, body, extra, queries = home(web)
            headers = []
        else:
            status, body, extra, queries = "404 Not Found", b'{"detail":"Not found."}', [], 0
    except BadRequest as exc:
        status, body, extra, queries = "400 Bad Request", orjson.dumps({str(exc): ["invalid"]}), [], 0
    headers += [*extra, ("Content-Length", str(len(body))), ("X-Bench-Queries", str(queries))]
    start_response(status, headers)
    return [body]
