"""Maps drawn on the server as SVG: Europe's countries from Natural Earth
(shipped in geodata/, no tile server, no other host), organisations at their
coordinates, and a line between two organisations for the agreements they
share, thicker the more there are.

The projection is Lambert's azimuthal equal-area centred on Europe (10° E,
52° N, as the EU's ETRS89-LAEA grid), computed here in a few lines; the base
map is projected once per process and reused by every map."""

import functools
import itertools
import json
import math
from dataclasses import dataclass
from pathlib import Path

from django.db.models import Count, F, QuerySet
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .models import AgreementParty, Organisation
from .statistics import signed

BASE_MAP = Path(__file__).resolve().parent / "geodata" / "europe-50m.json"
CENTRE_LON, CENTRE_LAT = 10.0, 52.0
# The map page shows this window (west, south, east, north in degrees).
EUROPE = (-25.0, 34.0, 45.0, 71.0)
WIDTH = 1000  # user units across the whole window
MAX_LINKS = 300  # lines drawn and rows listed on a page; the CSV file has them all
MAX_LABELS = 30  # organisations named on the map itself (the table names all)
SIMPLIFY = 1.5  # map units between the base map's points (the whole map is WIDTH units across)


def project(lon: float, lat: float) -> tuple[float, float]:
    """Lambert azimuthal equal-area, on the unit sphere."""
    lam, phi = math.radians(lon - CENTRE_LON), math.radians(lat)
    phi0 = math.radians(CENTRE_LAT)
    k = math.sqrt(2 / (1 + math.sin(phi0) * math.sin(phi) + math.cos(phi0) * math.cos(phi) * math.cos(lam)))
    return k * math.cos(phi) * math.sin(lam), k * (
        math.cos(phi0) * math.sin(phi) - math.sin(phi0) * math.cos(phi) * math.cos(lam)
    )


@functools.cache
def _frame() -> tuple[float, float, float, float]:
    """(left, top, scale, height) that put the EUROPE window on WIDTH units."""
    west, south, east, north = EUROPE
    edge = [(west + (east - west) * i / 20, lat) for i in range(21) for lat in (south, north)]
    edge += [(lon, south + (north - south) * i / 20) for i in range(21) for lon in (west, east)]
    xs, ys = zip(*(project(lon, lat) for lon, lat in edge), strict=True)
    scale = WIDTH / (max(xs) - min(xs))
    return min(xs), max(ys), scale, (max(ys) - min(ys)) * scale


def to_map(lon: float, lat: float) -> tuple[float, float]:
    """A point in the map's user units (y downwards)."""
    left, top, scale, _height = _frame()
    x, y = project(lon, lat)
    return (x - left) * scale, (top - y) * scale


def height() -> float:
    return _frame()[3]


@functools.cache
def base_map() -> str:
    """The countries as one SVG path per country, in whole map units (a
    thousandth of the window's width), leaving out points closer than
    SIMPLIFY units to the last one kept and rings entirely outside the
    window; relative moves keep the numbers short (about 55 kB in all)."""
    data = json.loads(BASE_MAP.read_text())
    limit = height()
    paths = []
    for country in data["countries"]:
        commands = []
        for ring in country["rings"]:
            points: list[tuple[int, int]] = []
            for lon, lat in ring:
                x, y = to_map(lon, lat)
                point = (round(x), round(y))
                if not points or math.dist(point, points[-1]) >= SIMPLIFY:
                    points.append(point)
            xs, ys = [p[0] for p in points], [p[1] for p in points]
            if len(points) < 3 or max(xs) < 0 or min(xs) > WIDTH or max(ys) < 0 or min(ys) > limit:
                continue
            steps = "".join(
                f"{'' if dx < 0 else ' '}{dx}{'' if dy < 0 else ' '}{dy}"
                for (x0, y0), (x1, y1) in itertools.pairwise(points)
                for dx, dy in [(x1 - x0, y1 - y0)]
            )
            commands.append(f"M{points[0][0]} {points[0][1]}l{steps.lstrip()}z")
        if commands:
            paths.append(f'<path d="{"".join(commands)}"/>')
    return "".join(paths)


@dataclass
class Link:
    first: Organisation
    second: Organisation
    agreements: int


def links(agreements: QuerySet) -> tuple[list[Link], list[Organisation]]:
    """Every pair of party organisations of ``agreements`` with the number of
    those agreements they share (strongest first), and the organisations in
    them. Two queries, whatever the number of agreements."""
    chosen = signed(agreements)
    pairs = list(
        AgreementParty.objects.filter(agreement__in=chosen, agreement__parties__organisation__gt=F("organisation"))
        .values_list("organisation", "agreement__parties__organisation")
        .annotate(n=Count("agreement"))
        .order_by()
    )
    ids = {pk for first, second, _n in pairs for pk in (first, second)}
    organisations = {o.pk: o for o in Organisation.objects.filter(pk__in=ids).order_by("name")}
    result = [Link(organisations[first], organisations[second], n) for first, second, n in pairs]
    result.sort(key=lambda link: (-link.agreements, link.first.name, link.second.name))
    return result, list(organisations.values())


def placed(organisation: Organisation) -> bool:
    return organisation.latitude is not None and organisation.longitude is not None


def _point(organisation: Organisation) -> tuple[float, float]:
    return to_map(float(organisation.longitude), float(organisation.latitude))


def _view_box(organisations: list[Organisation], zoom: bool) -> tuple[float, float, float, float]:
    """The whole window, or (``zoom``) the organisations' surroundings."""
    whole = (0.0, 0.0, float(WIDTH), height())
    points = [_point(o) for o in organisations if placed(o)]
    if not zoom or not points:
        return whole
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    span = max(max(xs) - min(xs), (max(ys) - min(ys)) * 1.4, 160.0) * 1.3
    width, tall = span, span / 1.4
    left = (max(xs) + min(xs)) / 2 - width / 2
    top = (max(ys) + min(ys)) / 2 - tall / 2
    return round(left, 1), round(top, 1), round(width, 1), round(tall, 1)


def map_svg(
    element_id: str, title: str, organisations: list[Organisation], links: list[Link], *, zoom: bool = False
) -> SafeString:
    """The map: the base map, a line per link (width by count), a dot per
    placed organisation, names when there are few. An image with a title and
    a text alternative; the page lists the same links as a table."""
    left, top, width, tall = _view_box(organisations, zoom)
    unit = width / WIDTH  # strokes, dots and text keep their size when zoomed
    title_id, desc_id = f"{element_id}-title", f"{element_id}-desc"
    drawn = [link for link in links if placed(link.first) and placed(link.second)]
    shown = [o for o in organisations if placed(o)]
    strongest = max((link.agreements for link in drawn), default=1)
    description = ngettext(
        "%(count)d organisation shown at its location",
        "%(count)d organisations shown at their locations",
        len(shown),
    ) % {"count": len(shown)}
    description += "; " + ngettext(
        "%(count)d line between organisations that signed agreements together.",
        "%(count)d lines between organisations that signed agreements together.",
        len(drawn),
    ) % {"count": len(drawn)}
    parts = [
        f'<svg class="map" id="{escape(element_id)}" role="img" aria-labelledby="{title_id} {desc_id}" '
        f'viewBox="{left:g} {top:g} {width:g} {tall:g}" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{title_id}">{escape(title)}</title>',
        f'<desc id="{desc_id}">{escape(description)}</desc>',
        f'<rect class="map-sea" x="{left:g}" y="{top:g}" width="{width:g}" height="{tall:g}"/>',
        f'<g class="map-land" stroke-width="{0.6 * unit:.3g}">{base_map()}</g>',
        '<g class="map-links">',
    ]
    for link in drawn:
        (x1, y1), (x2, y2) = _point(link.first), _point(link.second)
        stroke = (1.5 + 5 * link.agreements / strongest) * unit
        parts.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke-width="{stroke:.3g}"/>')
    parts.append(f'</g><g class="map-places" stroke-width="{1.5 * unit:.3g}">')
    for organisation in shown:
        x, y = _point(organisation)
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{5 * unit:.3g}"/>')
    parts.append("</g>")
    if len(shown) <= MAX_LABELS:
        parts.append(f'<g class="map-names" font-size="{14 * unit:.3g}">')
        for organisation in shown:
            x, y = _point(organisation)
            parts.append(
                f'<text x="{x + 8 * unit:.1f}" y="{y - 6 * unit:.1f}">{escape(organisation.display_name)}</text>'
            )
        parts.append("</g>")
    parts.append("</svg>")
    # Every text in it is escaped above (bandit B308/B703 reviewed).
    return mark_safe("".join(parts))  # noqa: S308  # nosec B308 B703


def unplaced_note(organisations: list[Organisation]) -> str:
    missing = [o.display_name for o in organisations if not placed(o)]
    if not missing:
        return ""
    return _("Not on the map (no coordinates recorded): %(names)s.") % {"names": ", ".join(missing)}
