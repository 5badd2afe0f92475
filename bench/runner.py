# ruff: noqa: S603, S608, S310 - Runs local programs and fetches http://127.0.0.1 only; SQL text is built from constants.
"""The benchmark runner (called by ``bench/run``; see bench/README.md).

Creates its own PostgreSQL database, migrates it, generates a synthetic
registry, collects static files into a temporary folder, then serves the
product and the *ceiling* reference (bench/ceiling.py; the *naive* one,
bench/naive_urls.py, when asked) side by side under gunicorn with the
committed gunicorn.conf.py, production settings and worker recycling off,
and measures like with like: the product's cached answers against the
ceiling's Redis GET of the product's own stored bytes, its uncached answers
against the ceiling's SQL whose JSON is checked byte for byte first. Each
scenario runs in interleaved rounds (product, ceiling, product, ceiling …)
with wrk; medians are reported, with the load average at the start and end
of each scenario. Then reads while a staff writer writes (mixed), and
writes with webhook delivery with the change feed on and off. Prints
markdown tables.
"""

import argparse
import difflib
import http.server
import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
PYTHON = sys.executable
GUNICORN = str(Path(PYTHON).parent / "gunicorn")
SEARCH_WORD = "Wasserstoff"
# Every request names this host (both apps build absolute links from it, and the
# product's cache keys hold it), so the two apps' answers can be compared byte for byte.
HOST = "localhost"
VARY = re.compile(rb"[?&]bench=[0-9A-Za-z-]+")


@dataclass
class Scenario:
    name: str
    path: str
    # How the ceiling answers: "cached" (a Redis GET of the product's stored answer),
    # "uncached" (its own SQL, JSON byte-identical to the product's, checked),
    # "approx" (its own SQL and HTML that is not the product's page), None (no reference).
    ceiling: str | None = None
    naive: str | None = None  # the path on the naive app
    conditional: bool = False  # send If-None-Match with the ETag of a first answer
    expect: int = 200
    smoke: bool = False
    vary: bool = False  # a new URL for every request (an ignored parameter): nothing can come from a cache
    checks: list[str] = field(default_factory=list)  # more addresses for the byte-for-byte check


@dataclass
class Measurement:
    rps: float = 0.0
    p50: float = 0.0
    p95: float = 0.0
    p99: float = 0.0
    errors: int = 0
    requests: int = 0
    rss_mb: float = 0.0
    queries: str = "?"
    note: str = ""
    rounds: list[float] = field(default_factory=list)  # req/s of each round
    load: str = ""  # the load average (1/5/15 min) at the scenario's start and end


@dataclass
class Server:
    name: str
    app: str
    settings: str | None
    process: subprocess.Popen | None = None
    port: int = 0
    results: dict[str, Measurement] = field(default_factory=dict)


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------
# Database


def admin_url(base: str) -> str:
    return f"{base}/postgres"


def database_exists(base: str, name: str) -> bool:
    with psycopg.connect(admin_url(base), autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None


def create_database(base: str, name: str) -> None:
    with psycopg.connect(admin_url(base), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database(base: str, name: str) -> None:
    with psycopg.connect(admin_url(base), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def agreement_count(url: str) -> int:
    with psycopg.connect(url) as conn:
        exists = conn.execute("SELECT to_regclass('agreements_agreement')").fetchone()[0]
        return conn.execute("SELECT count(*) FROM agreements_agreement").fetchone()[0] if exists else 0


def pick_parameters(url: str) -> dict:
    """Realistic, non-empty parameters from the generated data."""
    public = "a.is_public AND a.status IN ('signed', 'terminated')"
    with psycopg.connect(url) as conn:
        published = conn.execute(f"SELECT count(*) FROM agreements_agreement a WHERE {public}").fetchone()[0]
        party, topic, year = conn.execute(
            f"""SELECT o.slug, t.slug, extract(year FROM a.signed_on)::int, count(*)
                  FROM agreements_agreement a
                  JOIN agreements_agreementparty p ON p.agreement_id = a.id
                  JOIN agreements_organisation o ON o.id = p.organisation_id
                  JOIN agreements_agreement_topics at ON at.agreement_id = a.id
                  JOIN agreements_topic t ON t.id = at.topic_id
                 WHERE {public} AND a.signed_on IS NOT NULL
                 GROUP BY 1, 2, 3 ORDER BY 4 DESC, 1, 2, 3 LIMIT 1"""
        ).fetchone()[:3]
        agreement = conn.execute(
            f"""SELECT a.slug FROM agreements_agreement a WHERE {public} AND a.signing_event_id IS NOT NULL
                 ORDER BY a.id OFFSET (SELECT count(*) / 2 FROM agreements_agreement a WHERE {public}
                 AND a.signing_event_id IS NOT NULL) LIMIT 1"""
        ).fetchone()[0]
        # The organisation with the median number of published agreements.
        organisation, org_agreements = conn.execute(
            f"""WITH c AS (SELECT o.slug, count(a.id) AS n FROM agreements_organisation o
                  JOIN agreements_agreementparty p ON p.organisation_id = o.id
                  JOIN agreements_agreement a ON a.id = p.agreement_id AND {public} GROUP BY o.slug)
                SELECT slug, n FROM c ORDER BY n, slug OFFSET (SELECT count(*) / 2 FROM c) LIMIT 1"""
        ).fetchone()
        others = [
            row[0]
            for row in conn.execute(
                f"""SELECT a.slug FROM agreements_agreement a WHERE {public}
                     ORDER BY md5(a.slug) LIMIT 4"""
            ).fetchall()
        ]
        country = conn.execute(
            "SELECT country FROM agreements_organisation GROUP BY 1 ORDER BY count(*) DESC, 1 OFFSET 1 LIMIT 1"
        ).fetchone()[0]
        total, organisations = conn.execute(
            "SELECT (SELECT count(*) FROM agreements_agreement), (SELECT count(*) FROM agreements_organisation)"
        ).fetchone()
    pages = max(1, -(-published // 50))
    return {
        "published": published,
        "agreements": total,
        "organisations": organisations,
        "party": party,
        "topic": topic,
        "year": year,
        "agreement": agreement,
        "organisation": organisation,
        "organisation_agreements": org_agreements,
        "country": country,
        "other_agreements": others,
        "deep_page": max(1, int(pages * 0.9)),
    }


def scenarios(p: dict) -> list[Scenario]:
    filtered = f"/api/v1/agreements/?page_size=50&party={p['party']}&topic={p['topic']}&year={p['year']}"
    searched = f"/api/v1/agreements/?page_size=50&q={SEARCH_WORD}"
    deep = f"/api/v1/agreements/?page_size=50&page={p['deep_page']}"
    detail = f"/api/v1/agreements/{p['agreement']}/"
    plain = "/api/v1/agreements/?page_size=50"
    public_search = f"/agreements/?q={SEARCH_WORD}&country={p['country']}&kind=cooperation_agreement"
    details = [f"/api/v1/agreements/{slug}/" for slug in p["other_agreements"]]
    lists = [f"{plain}&page=2", f"{searched}&page=2", filtered, deep]
    return [
        Scenario("API list", plain, "cached", plain, smoke=True),
        Scenario("API list, uncached", plain, "uncached", plain, vary=True, smoke=True, checks=lists),
        Scenario("API list: party+topic+year", filtered, "cached", filtered),
        Scenario("API list: party+topic+year, uncached", filtered, "uncached", filtered, vary=True),
        Scenario(f"API list: q={SEARCH_WORD}", searched, "cached", searched),
        Scenario(f"API list: q={SEARCH_WORD}, uncached", searched, "uncached", searched, vary=True),
        Scenario(f"API list: page {p['deep_page']}", deep, "cached", deep),
        Scenario(f"API list: page {p['deep_page']}, uncached", deep, "uncached", deep, vary=True),
        Scenario("API detail", detail, "cached", detail, smoke=True),
        Scenario("API detail, uncached", detail, "uncached", detail, vary=True, smoke=True, checks=details),
        Scenario("API list, If-None-Match", plain, "cached", None, conditional=True, expect=304, smoke=True),
        Scenario("API statistics", "/api/v1/statistics/", "cached", smoke=True),
        Scenario("API statistics, uncached", "/api/v1/statistics/", vary=True),
        Scenario("Home page /", "/", "cached", smoke=True),
        Scenario("Home page /, uncached", "/", "approx", vary=True),
        Scenario("List: q+country+kind", public_search, "cached"),
        Scenario("List: q+country+kind, uncached", public_search, vary=True),
        Scenario("Agreement page", f"/agreements/{p['agreement']}/", "cached", smoke=True),
        Scenario("Agreement page, uncached", f"/agreements/{p['agreement']}/", vary=True),
        Scenario(
            f"Organisation page ({p['organisation_agreements']} agr.)", f"/organisations/{p['organisation']}/", "cached"
        ),
        Scenario("Atom feed", "/feeds/agreements/", "cached", smoke=True),
        Scenario("Statistics page", "/statistics/", "cached", smoke=True),
        Scenario("Statistics page, uncached", "/statistics/", vary=True),
        Scenario(f"Statistics: country={p['country']}", f"/statistics/?country={p['country']}", "cached"),
        Scenario("Map page", "/map/", "cached", smoke=True),
        Scenario("Map page, uncached", "/map/", vary=True),
    ]


# --------------------------------------------------------------------------
# Processes


def manage(env: dict, *args: str) -> None:
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True)


def start(server: Server, env: dict, log_dir: Path) -> None:
    server.port = free_port()
    server_env = {**env, "GUNICORN_BIND": f"127.0.0.1:{server.port}"}
    if server.settings:
        server_env["DJANGO_SETTINGS_MODULE"] = server.settings
    logfile = open(log_dir / f"gunicorn-{server.name}.log", "w")  # noqa: SIM115 - closed with the process
    server.process = subprocess.Popen(
        [GUNICORN, "-c", str(ROOT / "gunicorn.conf.py"), server.app],
        cwd=ROOT,
        env=server_env,
        stdout=logfile,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise SystemExit(f"{server.name} did not start; see {logfile.name}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{server.port}/healthz", timeout=2).read()
            break
        except OSError:
            time.sleep(0.3)
    else:
        raise SystemExit(f"{server.name} did not answer /healthz within 60 s; see {logfile.name}")
    # Wait until every worker has booted, so the first measurement is not a start-up.
    time.sleep(1.0)


def stop(server: Server) -> None:
    if server.process and server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)
        try:
            server.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()
    server.process = None


def worker_pids(master: int) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == master:
            pids.append(int(entry))
    return pids


def rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class MemorySampler:
    """Peak RSS of any gunicorn worker while running, sampled every 100 ms;
    also the peak growth of each worker over its RSS when sampling began."""

    def __init__(self, master: int):
        self.master = master
        self.peak = 0.0
        self.growth = 0.0
        self.baseline = {pid: rss_mb(pid) for pid in worker_pids(master)}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            for pid in worker_pids(self.master):
                value = rss_mb(pid)
                self.peak = max(self.peak, value)
                if pid in self.baseline:
                    self.growth = max(self.growth, value - self.baseline[pid])
            self._stop.wait(0.1)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def loadavg() -> str:
    return "/".join(f"{value:.2f}" for value in os.getloadavg())


def fetch(
    url: str, headers: dict | None = None, timeout: float = 120, method: str = "GET", body: bytes | None = None
) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, data=body, headers={"Host": HOST, **(headers or {})}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def wrk(url: str, headers: dict, args, duration: float, vary: bool = False) -> dict:
    command = [
        "wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{max(1, round(duration))}s",
        "--timeout", f"{args.timeout:g}s", "-s", str(BENCH / "report.lua"),
    ]  # fmt: skip
    for name, value in {"Host": HOST, **headers}.items():
        command += ["-H", f"{name}: {value}"]
    # report.lua appends "&bench=<thread>-<n>" to every request's URL when told to vary.
    output = subprocess.run(
        [*command, url, *(["--", "vary"] if vary else [])], capture_output=True, text=True, check=True
    ).stdout
    match = re.search(r"^BENCH (\{.*\})$", output, re.MULTILINE)
    if not match:
        raise SystemExit(f"could not read wrk's output:\n{output}")
    return json.loads(match.group(1))


def request_headers(server: Server, scenario: Scenario, path: str, product_port: int) -> tuple[dict, str]:
    """The headers every request of the scenario carries on this server, and an error (or "")."""
    headers = {"X-Bench-Mode": "cached"} if server.name == "ceiling" and scenario.ceiling == "cached" else {}
    if scenario.conditional:
        # The product's ETag: the ceiling's cached mode derives the same one, so it answers 304 too.
        _status, answer_headers, _body = fetch(f"http://127.0.0.1:{product_port}{path}")
        etag = answer_headers.get("ETag") or answer_headers.get("Etag")
        if not etag:
            return headers, "no ETag"
        headers["If-None-Match"] = etag
    return headers, ""


def run_once(server: Server, scenario: Scenario, path: str, headers: dict, args, duration: float) -> Measurement:
    url = f"http://127.0.0.1:{server.port}{path}"
    result = Measurement()
    with MemorySampler(server.process.pid) as memory:
        run = wrk(url, headers, args, duration, scenario.vary)
    result.requests = run["requests"]
    result.rps = run["requests"] / (run["duration_us"] / 1e6)
    result.p50, result.p95, result.p99 = run["p50"] / 1000, run["p95"] / 1000, run["p99"] / 1000
    result.errors = run["status"] + run["connect"] + run["read"] + run["write"] + run["timeout"]
    if run["requests"] == 0:  # nothing answered within the run (wrk does not count these as timeouts)
        result.errors = max(result.errors, args.connections)
    result.rss_mb = memory.peak
    return result


def median_of(runs: list[Measurement]) -> Measurement:
    result = Measurement()
    for name in ("rps", "p50", "p95", "p99"):
        setattr(result, name, statistics.median(getattr(m, name) for m in runs))
    result.errors = sum(m.errors for m in runs)
    result.requests = sum(m.requests for m in runs)
    result.rss_mb = max(m.rss_mb for m in runs)
    result.rounds = [m.rps for m in runs]
    return result


def diff_excerpt(a: bytes, b: bytes, context: int = 160) -> str:
    """Where two answers part, with some context, and a line diff of their pretty-printed JSON if they are JSON."""
    i = next((n for n, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
    lines = [
        f"  first difference at byte {i} (product {len(a)} bytes, ceiling {len(b)} bytes)",
        f"  product: {a[max(0, i - context) : i + context]!r}",
        f"  ceiling: {b[max(0, i - context) : i + context]!r}",
    ]
    try:
        pretty = [json.dumps(json.loads(x), indent=1, ensure_ascii=False).splitlines() for x in (a, b)]
        lines += [
            "  " + line for line in list(difflib.unified_diff(*pretty, "product", "ceiling", n=2, lineterm=""))[:40]
        ]
    except ValueError:
        pass
    return "\n".join(lines)


def check_cached(product: Server, ceiling: Server, scenario: Scenario) -> None:
    """The ceiling's cached mode must find the product's stored answer and return its bytes; else stop."""
    headers = {}
    if scenario.conditional:
        headers, _error = request_headers(ceiling, scenario, scenario.path, product.port)
    status, _h, body = fetch(f"http://127.0.0.1:{product.port}{scenario.path}", headers)
    c_status, c_headers, c_body = fetch(
        f"http://127.0.0.1:{ceiling.port}{scenario.path}", {**headers, "X-Bench-Mode": "cached"}
    )
    if (status, body) != (c_status, c_body):
        raise SystemExit(
            f"cached ceiling does not return the product's stored answer for {scenario.path} "
            f"(product {status}, ceiling {c_status}; key {c_headers.get('X-Bench-Key', '?')!r}):\n"
            f"{diff_excerpt(body, c_body)}\n"
            "The product's cache key scheme (agreements/api/views.py ConditionalGetMixin._digest/_conditional, "
            "agreements/views.py cached_page) and bench/ceiling.py cache_key() must derive the same key: "
            "re-align cache_key() with the product."
        )


def check_identical(product: Server, ceiling: Server, scenario: Scenario) -> str:
    """ "" when the ceiling's uncached answers equal the product's byte for byte on the scenario's
    address (with a vary parameter when the scenario varies) and its other check addresses; else a diff."""
    paths = [scenario.path, *scenario.checks]
    if scenario.vary:
        separator = "&" if "?" in scenario.path else "?"
        paths.insert(1, f"{scenario.path}{separator}bench=check-1")
    for path in paths:
        status, _h, body = fetch(f"http://127.0.0.1:{product.port}{path}")
        if status != 200 and path in scenario.checks:
            continue  # an address the data at hand does not have (a small registry's page 2)
        c_status, _c, c_body = fetch(f"http://127.0.0.1:{ceiling.port}{path}")
        body, c_body = VARY.sub(b"", body), VARY.sub(b"", c_body)
        if status != c_status or body != c_body:
            return f"{path}: product {status}, ceiling {c_status}\n{diff_excerpt(body, c_body)}"
    return ""


def run_scenario(scenario: Scenario, servers: dict[str, Server], args) -> None:
    """One checked request on each app, warm-up, then ``--rounds`` interleaved rounds; medians."""
    load_start = loadavg()
    apps = []
    for app, server in servers.items():
        path = {"product": scenario.path, "ceiling": scenario.path if scenario.ceiling else None,
                "naive": scenario.naive}[app]  # fmt: skip
        if path is None:
            continue
        headers, error = request_headers(server, scenario, path, servers["product"].port)
        status, _h, body = fetch(f"http://127.0.0.1:{server.port}{path}", headers)
        if error or status != scenario.expect:
            log(f"{app}: {path} answered {status}, expected {scenario.expect} {error}: {body[:300]!r}")
            server.results[scenario.name] = Measurement(errors=1, note=error or f"HTTP {status}")
            continue
        apps.append((app, server, path, headers, _h.get("X-Bench-Queries")))
    if "ceiling" in servers and scenario.ceiling == "cached":
        check_cached(servers["product"], servers["ceiling"], scenario)
    refused = ""
    if "ceiling" in servers and scenario.ceiling == "uncached":
        refused = check_identical(servers["product"], servers["ceiling"], scenario)
        if refused:
            log(f"ceiling's JSON differs from the product's; no ratio for {scenario.name}:\n{refused}")
    if args.warmup > 0:
        for _app, server, path, headers, _q in apps:
            wrk(f"http://127.0.0.1:{server.port}{path}", headers, args, args.warmup, scenario.vary)
    runs: dict[str, list[Measurement]] = {app: [] for app, *_ in apps}
    for _round in range(args.rounds):
        for app, server, path, headers, _q in apps:
            runs[app].append(run_once(server, scenario, path, headers, args, args.duration))
    for app, server, _path, _headers, queries in apps:
        result = median_of(runs[app])
        if queries:
            result.queries = queries
        if app == "ceiling" and refused:
            result.note = "JSON differs: no ratio"
        server.results[scenario.name] = result
        log(
            f"{app:8} {scenario.name:40} {result.rps:8.1f} req/s  p50 {result.p50:7.1f} ms  "
            f"p99 {result.p99:7.1f} ms  errors {result.errors}  RSS {result.rss_mb:.0f} MB  "
            f"rounds {' '.join(f'{r:.0f}' for r in result.rounds)}"
        )
    servers["product"].results.setdefault(scenario.name, Measurement()).load = f"{load_start} → {loadavg()}"


# --------------------------------------------------------------------------
# Writes: a staff writer through the API, and a webhook receiver


class Writer(threading.Thread):
    """Staff writes through the API at a steady rate: each a PATCH of one
    published agreement's English summary (a real change: the data version
    moves, the feed records it), the agreements taken in turn."""

    offset = 0  # the next agreement to write (shared by all writers of a run)

    def __init__(self, port: int, token: str, slugs: list[str], rate: float, duration: float):
        super().__init__(daemon=True)
        self.port, self.token, self.slugs, self.rate, self.duration = port, token, slugs, rate, duration
        self.writes: list[tuple[str, float, float, int]] = []  # slug, sent, answered (monotonic), status

    def run(self):
        started = time.monotonic()
        n = 0
        while True:
            due = started + n / self.rate
            if due - started >= self.duration:
                break
            time.sleep(max(0.0, due - time.monotonic()))
            slug = self.slugs[Writer.offset % len(self.slugs)]
            Writer.offset += 1
            body = json.dumps({"summary_en": f"Benchmark write {Writer.offset} at {time.time():.3f}"}).encode()
            sent = time.monotonic()
            status, _h, _b = fetch(
                f"http://127.0.0.1:{self.port}/api/v1/agreements/{slug}/",
                {"Authorization": f"Token {self.token}", "Content-Type": "application/json"},
                method="PATCH",
                body=body,
            )
            self.writes.append((slug, sent, time.monotonic(), status))
            n += 1

    @property
    def errors(self) -> int:
        return sum(1 for *_, status in self.writes if status != 200)

    def latencies(self) -> list[float]:
        return [(answered - sent) * 1000 for _slug, sent, answered, status in self.writes if status == 200]


class Receiver:
    """A webhook receiver on 127.0.0.1: notes when each entry's record arrived (monotonic clock)."""

    def __init__(self):
        self.arrivals: dict[str, list[float]] = {}
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                now = time.monotonic()
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    entries = json.loads(body)["data"]["entries"]
                except (ValueError, KeyError, TypeError):
                    entries = []
                with receiver.lock:
                    for entry in entries:
                        receiver.arrivals.setdefault(str(entry.get("slug")), []).append(now)
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def lags(self, writes, wait: float) -> tuple[list[float], int]:
        """Delivery lag of each write (ms from the write's answer, when it was committed, to the receiver
        getting its record; at least 0), waiting up to ``wait`` s for the last ones; and how many never came."""
        deadline = time.monotonic() + wait
        while True:
            lags, missing = [], 0
            with self.lock:
                for slug, sent, answered, status in writes:
                    if status != 200:
                        continue
                    arrived = [t for t in self.arrivals.get(slug, []) if t >= sent]
                    if arrived:
                        lags.append(max(0.0, (arrived[0] - answered) * 1000))
                    else:
                        missing += 1
            if not missing or time.monotonic() > deadline:
                return lags, missing
            time.sleep(0.2)

    def close(self):
        self.server.shutdown()


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))]


def bench_script(env: dict, *args: str) -> dict:
    output = subprocess.run(
        [PYTHON, str(BENCH / "writes.py"), *args],
        cwd=ROOT,
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
    )
    if output.returncode != 0:
        raise SystemExit(f"bench/writes.py {' '.join(args)} failed:\n{output.stderr[-3000:]}")
    return json.loads(output.stdout)


def set_change_feed(url: str, on: bool) -> None:
    """The change feed's triggers (agreements/feed_triggers.py, named <table>_chg_<event>) enabled or
    disabled, in one transaction: disabled, writes record no entry, so there is nothing to deliver."""
    with psycopg.connect(url, autocommit=True) as conn:
        triggers = conn.execute(
            r"SELECT tgrelid::regclass::text, tgname FROM pg_trigger WHERE NOT tgisinternal AND tgname LIKE '%\_chg\_%'"
        ).fetchall()
        if not triggers:
            raise SystemExit("no change feed triggers (<table>_chg_<event>, agreements/feed_triggers.py) found")
        with conn.transaction():
            for table, name in triggers:
                conn.execute(
                    sql.SQL("ALTER TABLE {} {} TRIGGER {}").format(
                        sql.Identifier(table), sql.SQL("ENABLE" if on else "DISABLE"), sql.Identifier(name)
                    )
                )


def mixed(product: Server, items: list[Scenario], setup: dict, args) -> list[str]:
    """Reads at full rate, alone and while the staff writer writes ``--mixed-rate`` agreements per second;
    interleaved rounds, medians."""
    lines = [
        f"Reads with wrk at full rate, alone and while a staff writer PATCHes one published agreement every "
        f"{1 / args.mixed_rate:g} s through the API; {args.rounds} interleaved rounds of {args.duration} s, medians.",
        "",
        "| Reads | read-only req/s | p99 ms | with writes req/s | p99 ms | with/without | writes (errors) "
        "| write p50/p95 ms | load 1/5/15 start → end |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for scenario in items:
        load_start = loadavg()
        url = f"http://127.0.0.1:{product.port}{scenario.path}"
        fetch(url)
        quiet, busy, writers = [], [], []
        for _round in range(args.rounds):
            quiet.append(run_once(product, scenario, scenario.path, {}, args, args.duration))
            writer = Writer(product.port, setup["token"], setup["slugs"], args.mixed_rate, args.duration)
            writer.start()
            busy.append(run_once(product, scenario, scenario.path, {}, args, args.duration))
            writer.join()
            writers.append(writer)
        q, b = median_of(quiet), median_of(busy)
        latencies = [ms for w in writers for ms in w.latencies()]
        write_errors = sum(w.errors for w in writers)
        log(f"mixed    {scenario.name:40} {q.rps:8.1f} → {b.rps:8.1f} req/s  p99 {q.p99:.1f} → {b.p99:.1f} ms")
        lines.append(
            f"| {scenario.name} | {q.rps:.1f} | {q.p99:.1f} | {b.rps:.1f} | {b.p99:.1f} "
            f"| {b.rps / q.rps * 100 if q.rps else 0:.0f} % | {len(latencies)} ({write_errors}) "
            f"| {percentile(latencies, 0.5):.1f} / {percentile(latencies, 0.95):.1f} | {load_start} → {loadavg()} |"
        )
        if q.errors or b.errors or write_errors:
            raise SystemExit(
                f"mixed scenario {scenario.name}: {q.errors + b.errors} read errors, {write_errors} write errors"
            )
    return lines


def write_scenario(
    product: Server, env: dict, url: str, setup: dict, receiver: Receiver, args, work: Path
) -> list[str]:
    """Staff writes at ``--write-rate`` per second with webhook delivery on (the worker running), the change
    feed's triggers on and off in interleaved rounds: write latency, and delivery lag with the feed on."""
    load_start = loadavg()
    worker_log = open(work / "task-worker.log", "w")  # noqa: SIM115 - closed with the process
    worker = subprocess.Popen(
        [PYTHON, "manage.py", "task_worker", "--interval", "1"],
        cwd=ROOT,
        env=env,
        stdout=worker_log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    results = {"on": [], "off": []}
    lags, missing = [], 0
    try:
        # One write delivered first: the worker has started and the endpoint is reachable.
        set_change_feed(url, True)
        first = Writer(product.port, setup["token"], setup["slugs"], 1, 1)
        first.run()
        _lags, not_delivered = receiver.lags(first.writes, wait=90)
        if first.errors or not_delivered:
            raise SystemExit(f"the first write was not delivered within 90 s; see {worker_log.name}")
        for _round in range(args.rounds):
            for state in ("on", "off"):
                set_change_feed(url, state == "on")
                writer = Writer(product.port, setup["token"], setup["slugs"], args.write_rate, args.duration)
                writer.run()
                if writer.errors:
                    raise SystemExit(f"write scenario: {writer.errors} writes failed (feed {state})")
                results[state].append(writer.latencies())
                if state == "on":
                    round_lags, round_missing = receiver.lags(writer.writes, wait=30)
                    lags += round_lags
                    missing += round_missing
        if worker.poll() is not None:
            raise SystemExit(f"the task worker stopped; see {worker_log.name}")
    finally:
        set_change_feed(url, True)
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
        worker_log.close()
    p95 = {state: statistics.median(percentile(r, 0.95) for r in runs) for state, runs in results.items()}
    p50 = {state: statistics.median(percentile(r, 0.5) for r in runs) for state, runs in results.items()}
    count = {state: sum(len(r) for r in runs) for state, runs in results.items()}
    added = (p95["on"] / p95["off"] - 1) * 100 if p95["off"] else float("nan")
    log(
        f"writes   feed on p50/p95 {p50['on']:.1f}/{p95['on']:.1f} ms, off {p50['off']:.1f}/{p95['off']:.1f} ms; "
        f"delivery lag p50/p95 {percentile(lags, 0.5):.0f}/{percentile(lags, 0.95):.0f} ms, {missing} missing"
    )
    lines = [
        f"Staff writes (PATCH of one published agreement through the API) at {args.write_rate:g}/s for "
        f"{args.duration} s per phase, {args.rounds} interleaved rounds of feed on / off (its triggers disabled: "
        f"no entries, nothing to deliver); a webhook endpoint of a party organisation posts to a receiver on "
        f"127.0.0.1, `manage.py task_worker --interval 1` delivering. Medians of the rounds' percentiles.",
        "",
        "| Change feed | writes | p50 ms | p95 ms | added at p95 | delivery lag p50 / p95 ms | not delivered "
        "| load 1/5/15 start → end |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
        f"| on (outbox, webhooks) | {count['on']} | {p50['on']:.1f} | {p95['on']:.1f} | {added:+.0f} % "
        f"| {percentile(lags, 0.5):.0f} / {percentile(lags, 0.95):.0f} | {missing} | {load_start} → {loadavg()} |",
        f"| off | {count['off']} | {p50['off']:.1f} | {p95['off']:.1f} | – | – | – | |",
    ]
    if missing:
        log(f"{missing} writes were not delivered within 30 s; see {worker_log.name}")
    return lines


def csv_download(server: Server) -> Measurement:
    result = Measurement()
    url = f"http://127.0.0.1:{server.port}/agreements.csv"
    time.sleep(0.5)
    with MemorySampler(server.process.pid) as memory:
        started = time.monotonic()
        status, _headers, body = fetch(url, timeout=600)
        elapsed = time.monotonic() - started
    rows = body.count(b"\n") - 1
    result.errors = 0 if status == 200 else 1
    result.rss_mb = memory.peak
    result.note = (
        f"1 download: {elapsed:.2f} s, {rows} rows, {len(body) / 1e6:.1f} MB; worker RSS +{memory.growth:.0f} MB"
    )
    result.p50 = elapsed * 1000
    log(f"product  CSV export: {result.note}")
    return result


def count_queries(env: dict, settings: str, items: list[dict]) -> dict:
    output = subprocess.run(
        [PYTHON, str(BENCH / "queries.py")],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": settings, "PYTHONPATH": str(ROOT)},
        input=json.dumps(items),
        capture_output=True,
        text=True,
    )
    if output.returncode != 0:
        log(f"query count for {settings} failed:\n{output.stderr[-3000:]}")
        return {}
    return json.loads(output.stdout)


# --------------------------------------------------------------------------
# The table


def ratio(product: Measurement, reference: Measurement | None, *, percent: bool) -> str:
    if reference is None or not reference.rps or reference.errors or reference.note:
        return "–"
    value = product.rps / reference.rps
    return f"{value * 100:.0f} %" if percent else f"{value:.1f}×"


def reference_cell(reference: Measurement | None) -> str:
    if reference is None:
        return "–"
    if reference.note and not reference.rps:
        return reference.note
    cell = f"{reference.rps:.0f} / {reference.p99:.1f} ({reference.queries} q)"
    if reference.errors:
        cell += f", {reference.errors} errors"
    return f"{cell}; {reference.note}" if reference.note else cell


CEILINGS = {"cached": "Redis GET", "uncached": "SQL, same JSON", "approx": "SQL, own HTML ≈"}


def query_cell(count: dict, cold_only: bool = False) -> str:
    """Statements of one request: "cold / cached" when a cached answer needs fewer."""
    cold, warm = count.get("cold", count["queries"]), count["queries"]
    if cold_only:
        return str(cold)
    return f"{cold} / {warm}" if cold != warm else str(warm)


def table(items: list[Scenario], servers: dict[str, Server], csv: Measurement | None, header: str) -> str:
    product = servers["product"].results
    ceiling = servers["ceiling"].results if "ceiling" in servers else {}
    naive = servers["naive"].results if "naive" in servers else {}
    naive_head = " naive req/s / p99 (SQL) | product/naive |" if naive else ""
    lines = [
        header,
        "",
        "| Scenario | req/s | p50 ms | p95 ms | p99 ms | errors | SQL/req (cold / cached) | peak worker RSS MB "
        "| ceiling | ceiling req/s / p99 ms (SQL) | product/ceiling |" + naive_head + " load 1/5/15 start → end |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|" + ("---:|---:|" if naive else "") + "---|",
    ]
    for scenario in items:
        m = product.get(scenario.name)
        if m is None:
            continue
        c, n = ceiling.get(scenario.name), naive.get(scenario.name)
        if m.note:
            cells = [m.note, "", "", "", str(m.errors), m.queries, ""]
        else:
            cells = [f"{m.rps:.1f}", f"{m.p50:.1f}", f"{m.p95:.1f}", f"{m.p99:.1f}", str(m.errors), m.queries,
                     f"{m.rss_mb:.0f}"]  # fmt: skip
        kind = CEILINGS.get(scenario.ceiling or "", "–") if c is not None else "–"
        share = ratio(m, c, percent=True)
        if scenario.ceiling == "approx" and share != "–":
            share = f"≈ {share}"
        cells += [kind, reference_cell(c), share]
        if naive:
            cells += [reference_cell(n), ratio(m, n, percent=False)]
        cells.append(m.load)
        lines.append(f"| {scenario.name} | " + " | ".join(cells) + " |")
    if csv is not None:
        lines.append(
            f"| CSV export /agreements.csv (all public) | {csv.note} | | | | {csv.errors} | {csv.queries} "
            f"| {csv.rss_mb:.0f} | – | – | – |" + (" – | – |" if naive else "") + f" {csv.load} |"
        )
    return "\n".join(lines)


# --------------------------------------------------------------------------


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="bench/run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--organisations", type=int, default=500)
    parser.add_argument("--agreements", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--duration", type=int, default=12, help="seconds of load per run (default 12)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds per scenario (default 3)")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of unmeasured load first (default 3; 0: none)")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections (default 8)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--timeout", type=float, default=10, help="wrk request timeout in seconds (default 10)")
    parser.add_argument("--workers", type=int, help="WEB_CONCURRENCY for gunicorn (default: gunicorn.conf.py's)")
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432", help="server URL, no database")
    parser.add_argument("--database", help="database name (default bench_<pid>; created, dropped at the end)")
    parser.add_argument("--keep-database", action="store_true", help="do not drop the database at the end")
    parser.add_argument("--reuse", action="store_true", help="use --database as it is if it holds agreements")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/14", help="cache for the run (flushed first)")
    parser.add_argument("--only", help="comma-separated apps to serve: product,ceiling,naive (default product,ceiling)")
    parser.add_argument(
        "--scenarios", help="run only scenarios whose name contains one of these words (comma-separated)"
    )
    parser.add_argument("--no-mixed", action="store_true", help="skip the mixed read/write scenario")
    parser.add_argument("--mixed-rate", type=float, default=1.0, help="writes per second while reading (default 1)")
    parser.add_argument("--no-writes", action="store_true", help="skip the write scenario (feed on/off, webhooks)")
    parser.add_argument("--write-rate", type=float, default=5.0, help="writes per second (default 5)")
    parser.add_argument("--output", help="also write the tables to this file")
    parser.add_argument(
        "--smoke", action="store_true", help="tiny data, short runs, few scenarios; non-zero exit on errors"
    )
    args = parser.parse_args(argv)
    if args.smoke:
        args.organisations, args.agreements = 20, 200
        args.duration, args.warmup, args.connections, args.threads, args.rounds = 1, 0, 2, 1, 1
        args.write_rate = 2.0
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk).")
    name = args.database or f"bench_{os.getpid()}"
    url = f"{args.postgres}/{name}"
    work = Path(tempfile.mkdtemp(prefix="registry-bench-"))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.product_settings",
        "BENCH_STATIC_ROOT": str(work / "static"),
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_LOG_LEVEL": "WARNING",
        "DATABASE_URL": url,
        "REDIS_URL": args.redis,
        # Every request comes from one address: limits far above what this machine can serve.
        "API_THROTTLE_ANONYMOUS": "1000000/second",
        "API_THROTTLE_PARTNER": "1000000/second",
        "API_THROTTLE_STAFF": "1000000/second",
        # No worker recycling while measuring (the same for every app).
        "GUNICORN_MAX_REQUESTS": "0",
        # The write scenario's webhook receiver listens on 127.0.0.1 over http.
        "WEBHOOK_ALLOW_HTTP": "1",
        "WEBHOOK_ALLOWED_NETWORKS": "127.0.0.1/32",
    }
    if args.workers:
        env["WEB_CONCURRENCY"] = str(args.workers)
    created = False
    servers: dict[str, Server] = {}
    failed = False
    receiver = None
    try:
        import redis

        redis.Redis.from_url(args.redis).flushdb()
        exists = database_exists(args.postgres, name)
        if exists and not args.reuse:
            raise SystemExit(f"database {name} exists; drop it, choose another --database or pass --reuse")
        if not exists:
            create_database(args.postgres, name)
            created = True
        generation = "reused"
        if agreement_count(url) == 0:
            log(f"database {name}: migrate")
            manage(env, "migrate", "--no-input", "-v0")
            log(f"generate {args.organisations} organisations, {args.agreements} agreements")
            started = time.monotonic()
            manage(env, "generate_registry", "--organisations", str(args.organisations),
                   "--agreements", str(args.agreements), "--seed", str(args.seed))  # fmt: skip
            generation = f"{time.monotonic() - started:.0f} s"
        else:
            manage(env, "migrate", "--no-input", "-v0")
        manage(env, "collectstatic", "--no-input", "-v0")
        params = pick_parameters(url)
        log(f"parameters: {params}")
        items = scenarios(params)
        if args.smoke:
            items = [s for s in items if s.smoke]
        if args.scenarios:
            words = [w.strip().lower() for w in args.scenarios.split(",")]
            items = [s for s in items if any(w in s.name.lower() for w in words)]

        apps = (args.only or "product,ceiling").split(",")
        if "product" not in apps:
            apps.insert(0, "product")
        known = {
            "product": Server("product", "registry.wsgi", "bench.product_settings"),
            "ceiling": Server("ceiling", "bench.ceiling:application", None),
            "naive": Server("naive", "registry.wsgi", "bench.naive_settings"),
        }
        servers = {app: known[app] for app in apps}

        log("counting SQL per request in-process, starting the apps")
        counts = {}

        def count_all():
            counts["product"] = count_queries(
                env,
                "bench.product_settings",
                [
                    *({"name": s.name, "path": s.path, "conditional": s.conditional} for s in items),
                    {"name": "csv", "path": "/agreements.csv", "once": True},
                ],
            )
            if "naive" in servers:
                counts["naive"] = count_queries(
                    env, "bench.naive_settings", [{"name": s.name, "path": s.naive} for s in items if s.naive]
                )

        counting = threading.Thread(target=count_all)
        counting.start()
        # All apps serve at once (idle but for the one being measured), so rounds can interleave.
        for server in servers.values():
            start(server, env, work)
        counting.join()
        redis.Redis.from_url(args.redis).flushdb()  # nothing the counting left is measured
        for server in servers.values():
            # Every worker and thread answers before anything is measured (each imports, connects, loads
            # the API's and the pages' code): 2 s of the API list (the same address on every app), then of /.
            for path in ("/api/v1/agreements/?page_size=50", "/"):
                wrk(f"http://127.0.0.1:{server.port}{path}", {}, args, 2)
        run_load = loadavg()
        for scenario in items:
            run_scenario(scenario, servers, args)
            for app in ("product", "naive"):
                result = servers[app].results.get(scenario.name) if app in servers else None
                if result is not None and scenario.name in counts.get(app, {}):
                    result.queries = query_cell(counts[app][scenario.name], cold_only=scenario.vary)
        csv = None
        if not args.scenarios or "csv" in args.scenarios:
            load_start = loadavg()
            csv = csv_download(servers["product"])
            csv.queries = query_cell(counts["product"].get("csv", {"queries": "?"}))
            csv.load = f"{load_start} → {loadavg()}"

        header = (
            f"{params['published']} public of {params['agreements']} agreements, {params['organisations']} "
            "organisations "
            f"(generation: {generation}); wrk {args.connections} connections, {args.threads} threads, "
            f"{args.rounds} interleaved rounds of {args.duration:g} s per scenario and app after {args.warmup:g} s "
            f"warm-up, medians; gunicorn.conf.py ({env.get('WEB_CONCURRENCY', 'default')} workers, no recycling); "
            f"{os.cpu_count()} CPUs; load 1/5/15 {run_load} at the start"
        )
        report = [table(items, servers, csv, header)]

        product = servers["product"]
        if not args.no_mixed or not args.no_writes:
            receiver = Receiver()
            setup = bench_script(env, "setup", receiver.url)
        if not args.no_mixed:
            names = ("API list",) if args.smoke else ("API list", "API detail", "Home page /")
            reads = [s for s in items if s.name in names] or items[:1]
            report += ["", *mixed(product, reads, setup, args)]
        if not args.no_writes:
            report += ["", *write_scenario(product, env, url, setup, receiver, args, work)]
        report.append(f"\nLoad 1/5/15 at the end: {loadavg()}")
        text = "\n".join(report)
        print(text)
        if args.output:
            Path(args.output).write_text(text + "\n")
        failed = any(m.errors for m in product.results.values()) or (csv is not None and csv.errors > 0)
        for app in ("ceiling", "naive"):
            if app in servers and any(m.errors for m in servers[app].results.values()):
                failed = True
        if failed:
            log(f"errors occurred; gunicorn logs are in {work}")
    except BaseException:
        failed = True
        raise
    finally:
        if receiver is not None:
            receiver.close()
        for server in servers.values():
            stop(server)
        if created and not args.keep_database:
            drop_database(args.postgres, name)
        elif created:
            log(f"kept database {name}")
        if not failed:
            shutil.rmtree(work, ignore_errors=True)
        else:
            log(f"logs are in {work}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
