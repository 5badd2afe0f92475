"""Build europe-50m.json (the base map of the map pages) from world-atlas.

    npm pack world-atlas@2.0.2 && tar xzf world-atlas-2.0.2.tgz
    python agreements/geodata/build_europe.py package/countries-50m.json

world-atlas redistributes Natural Earth's Admin 0 country boundaries (1:50m,
public domain) as TopoJSON. This decodes the topology into rings of
longitude/latitude, keeps the parts of countries that reach into Europe's
window, rounds to 0.01° and writes what the registry ships (see LICENCE.md).
"""

import json
import sys
from pathlib import Path

# Longitude and latitude window of the map pages (a margin around Europe).
WEST, EAST, SOUTH, NORTH = -30.0, 50.0, 30.0, 73.0
OUTPUT = Path(__file__).with_name("europe-50m.json")


def decode_arcs(topology: dict) -> list[list[tuple[float, float]]]:
    (sx, sy), (tx, ty) = topology["transform"]["scale"], topology["transform"]["translate"]
    arcs = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:  # delta-encoded, quantized
            x, y = x + dx, y + dy
            points.append((x * sx + tx, y * sy + ty))
        arcs.append(points)
    return arcs


def ring(arcs, indexes) -> list[tuple[float, float]]:
    points: list[tuple[float, float]] = []
    for index in indexes:
        arc = arcs[index] if index >= 0 else list(reversed(arcs[~index]))
        points.extend(arc[1:] if points else arc)
    return points


def in_window(points) -> bool:
    lons = [p[0] for p in points]
    lats = [p[1] for p in points]
    return min(lons) <= EAST and max(lons) >= WEST and min(lats) <= NORTH and max(lats) >= SOUTH


def rounded(points) -> list[list[float]]:
    result: list[list[float]] = []
    for lon, lat in points:
        point = [round(lon, 2), round(lat, 2)]
        if not result or result[-1] != point:
            result.append(point)
    return result


def main(path: str) -> None:
    topology = json.loads(Path(path).read_text())
    arcs = decode_arcs(topology)
    countries = []
    for geometry in topology["objects"]["countries"]["geometries"]:
        polygons = geometry.get("arcs") or []
        if geometry["type"] == "Polygon":
            polygons = [polygons]
        rings = [rounded(r) for polygon in polygons for r in (ring(arcs, idx) for idx in polygon) if in_window(r)]
        rings = [r for r in rings if len(r) >= 4]
        if rings:
            countries.append({"id": geometry.get("id", ""), "name": geometry["properties"]["name"], "rings": rings})
    countries.sort(key=lambda country: country["name"])
    data = {
        "source": "Natural Earth 1:50m Admin 0 countries (public domain), via world-atlas 2.0.2 (ISC)",
        "window": [WEST, SOUTH, EAST, NORTH],
        "countries": countries,
    }
    OUTPUT.write_text(json.dumps(data, separators=(",", ":")) + "\n")
    print(f"{OUTPUT}: {len(countries)} countries, {OUTPUT.stat().st_size} bytes")


if __name__ == "__main__":
    main(sys.argv[1])
