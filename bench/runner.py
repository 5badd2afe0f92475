# ruff: noqa: S603, S608, S310 - Runs local programs and fetches http://127.0.0.1 only; SQL text is built from constants.
"""The benchmark runner (called by ``bench/run``; see bench/README.md).

Creates its own PostgreSQL database, migrates it, generates a synthetic
registry, collects static files into a temporary folder, then serves in turn
the product, the *ceiling* reference (bench/ceiling.py) and the *naive*
reference (bench/naive_urls.py) under gunicorn with the committed
gunicorn.conf.py and production settings (debug off), drives each scenario
with wrk (a separate process), samples the workers' memory from /proc,
counts SQL per request in-process, and prints one markdown table.
"""

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import socket
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


@dataclass
class Scenario:
    name: str
    path: str
    ceiling: str | None = None  # the path on the ceiling app, when it has an equivalent
    naive: str | None = None  # the path on the naive app
    conditional: bool = False  # send If-None-Match with the ETag of a first answer
    expect: int = 200
    smoke: bool = False
    vary: bool = False  # a new URL for every request (an ignored parameter): nothing can come from a cache


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
        country = conn.execute(
            "SELECT country FROM agreements_organisation GROUP BY 1 ORDER BY count(*) DESC, 1 OFFSET 1 LIMIT 1"
        ).fetchone()[0]
    pages = max(1, -(-published // 50))
    return {
        "published": published,
        "party": party,
        "topic": topic,
        "year": year,
        "agreement": agreement,
        "organisation": organisation,
        "organisation_agreements": org_agreements,
        "country": country,
        "deep_page": max(1, int(pages * 0.9)),
    }


def scenarios(p: dict) -> list[Scenario]:
    filtered = f"/api/v1/agreements/?page_size=50&party={p['party']}&topic={p['topic']}&year={p['year']}"
    searched = f"/api/v1/agreements/?page_size=50&q={SEARCH_WORD}"
    deep = f"/api/v1/agreements/?page_size=50&page={p['deep_page']}"
    detail = f"/api/v1/agreements/{p['agreement']}/"
    plain = "/api/v1/agreements/?page_size=50"
    public_search = f"/agreements/?q={SEARCH_WORD}&country={p['country']}&kind=cooperation_agreement"
    return [
        Scenario("API list", plain, plain, plain, smoke=True),
        Scenario("API list, uncached", plain, plain, plain, vary=True),
        Scenario("API list: party+topic+year", filtered, filtered, filtered),
        Scenario(f"API list: q={SEARCH_WORD}", searched, searched, searched),
        Scenario(f"API list: q={SEARCH_WORD}, uncached", searched, searched, searched, vary=True),
        Scenario(f"API list: page {p['deep_page']}", deep, deep, deep),
        Scenario("API detail", detail, detail, detail, smoke=True),
        Scenario("API list, If-None-Match", plain, plain, None, conditional=True, expect=304, smoke=True),
        Scenario("Home page /", "/", "/", None, smoke=True),
        Scenario("Home page /, uncached", "/", "/", None, vary=True),
        Scenario("List: q+country+kind", public_search),
        Scenario("List: q+country+kind, uncached", public_search, vary=True),
        Scenario("Agreement page", f"/agreements/{p['agreement']}/", smoke=True),
        Scenario(f"Organisation page ({p['organisation_agreements']} agr.)", f"/organisations/{p['organisation']}/"),
        Scenario("Atom feed", "/feeds/agreements/", smoke=True),
        Scenario("Statistics page", "/statistics/", smoke=True),
        Scenario("Statistics page, uncached", "/statistics/", vary=True),
        Scenario(f"Statistics: country={p['country']}", f"/statistics/?country={p['country']}"),
        Scenario("Map page", "/map/", smoke=True),
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


def fetch(url: str, headers: dict | None = None, timeout: float = 120) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, headers=headers or {})
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
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    # report.lua appends "&bench=<thread>-<n>" to every request's URL when told to vary.
    output = subprocess.run(
        [*command, url, *(["--", "vary"] if vary else [])], capture_output=True, text=True, check=True
    ).stdout
    match = re.search(r"^BENCH (\{.*\})$", output, re.MULTILINE)
    if not match:
        raise SystemExit(f"could not read wrk's output:\n{output}")
    return json.loads(match.group(1))


def measure(server: Server, scenario: Scenario, path: str, args) -> Measurement:
    url = f"http://127.0.0.1:{server.port}{path}"
    headers = {}
    result = Measurement()
    if scenario.conditional:
        status, answer_headers, _body = fetch(url)
        etag = answer_headers.get("ETag") or answer_headers.get("Etag")
        if not etag:
            result.note = "no ETag"
            result.errors = 1
            return result
        headers["If-None-Match"] = etag
    status, answer_headers, body = fetch(url, headers)
    if "X-Bench-Queries" in answer_headers:
        result.queries = answer_headers["X-Bench-Queries"]
    if status != scenario.expect:
        log(f"{server.name}: {path} answered {status}, expected {scenario.expect}: {body[:300]!r}")
        result.errors = 1
        result.note = f"HTTP {status}"
        return result
    if args.warmup > 0:
        wrk(url, headers, args, args.warmup, scenario.vary)
    with MemorySampler(server.process.pid) as memory:
        run = wrk(url, headers, args, args.duration, scenario.vary)
    result.requests = run["requests"]
    result.rps = run["requests"] / (run["duration_us"] / 1e6)
    result.p50, result.p95, result.p99 = run["p50"] / 1000, run["p95"] / 1000, run["p99"] / 1000
    result.errors = run["status"] + run["connect"] + run["read"] + run["write"] + run["timeout"]
    if run["requests"] == 0:  # nothing answered within the run (wrk does not count these as timeouts)
        result.errors = max(result.errors, args.connections)
    result.rss_mb = memory.peak
    log(
        f"{server.name:8} {scenario.name:40} {result.rps:8.1f} req/s  p50 {result.p50:7.1f} ms  "
        f"p99 {result.p99:7.1f} ms  errors {result.errors}  RSS {result.rss_mb:.0f} MB"
    )
    return result


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
    if reference is None or not reference.rps or reference.errors:
        return "–"
    value = product.rps / reference.rps
    return f"{value * 100:.0f} %" if percent else f"{value:.1f}×"


def reference_cell(reference: Measurement | None) -> str:
    if reference is None:
        return "–"
    if reference.note:
        return reference.note
    if reference.errors:
        return f"{reference.rps:.1f}, {reference.errors} errors ({reference.queries} q)"
    return f"{reference.rps:.0f} ({reference.queries} q)"


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
    lines = [
        header,
        "",
        "| Scenario | req/s | p50 ms | p95 ms | p99 ms | errors | SQL/req (cold / cached) | peak worker RSS MB "
        "| ceiling req/s (SQL) | product/ceiling | naive req/s (SQL) | product/naive |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
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
        cells += [reference_cell(c), ratio(m, c, percent=True), reference_cell(n), ratio(m, n, percent=False)]
        lines.append(f"| {scenario.name} | " + " | ".join(cells) + " |")
    if csv is not None:
        lines.append(
            f"| CSV export /agreements.csv (all public) | {csv.note} | | | | {csv.errors} | {csv.queries} "
            f"| {csv.rss_mb:.0f} | – | – | – | – |"
        )
    return "\n".join(lines)


# --------------------------------------------------------------------------


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="bench/run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--organisations", type=int, default=500)
    parser.add_argument("--agreements", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--duration", type=int, default=15, help="seconds of load per scenario (default 15)")
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
    parser.add_argument("--only", help="comma-separated apps to serve: product,ceiling,naive (default all)")
    parser.add_argument(
        "--scenarios", help="run only scenarios whose name contains one of these words (comma-separated)"
    )
    parser.add_argument("--output", help="also write the table to this file")
    parser.add_argument(
        "--smoke", action="store_true", help="tiny data, short runs, few scenarios; non-zero exit on errors"
    )
    args = parser.parse_args(argv)
    if args.smoke:
        args.organisations, args.agreements = 20, 200
        args.duration, args.warmup, args.connections, args.threads = 1, 0, 2, 1
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
    }
    if args.workers:
        env["WEB_CONCURRENCY"] = str(args.workers)
    created = False
    servers: dict[str, Server] = {}
    failed = False
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

        apps = (args.only or "product,ceiling,naive").split(",")
        if "product" not in apps:
            apps.insert(0, "product")
        known = {
            "product": Server("product", "registry.wsgi", "bench.product_settings"),
            "ceiling": Server("ceiling", "bench.ceiling:application", None),
            "naive": Server("naive", "registry.wsgi", "bench.naive_settings"),
        }
        servers = {app: known[app] for app in apps}

        log("counting SQL per request in-process")
        counts = {
            "product": count_queries(
                env,
                "bench.product_settings",
                [
                    *({"name": s.name, "path": s.path, "conditional": s.conditional} for s in items),
                    {"name": "csv", "path": "/agreements.csv", "once": True},
                ],
            )
        }
        if "naive" in servers:
            counts["naive"] = count_queries(
                env, "bench.naive_settings", [{"name": s.name, "path": s.naive} for s in items if s.naive]
            )

        csv = None
        for app, server in servers.items():
            start(server, env, work)
            try:
                for scenario in items:
                    path = {"product": scenario.path, "ceiling": scenario.ceiling, "naive": scenario.naive}[app]
                    if path is None:
                        continue
                    result = measure(server, scenario, path, args)
                    if app in counts and scenario.name in counts[app]:
                        result.queries = query_cell(counts[app][scenario.name], cold_only=scenario.vary)
                    server.results[scenario.name] = result
                if app == "product":
                    csv = csv_download(server)
                    csv.queries = query_cell(counts["product"].get("csv", {"queries": "?"}))
            finally:
                stop(server)

        header = (
            f"{params['published']} public of {args.agreements} agreements, {args.organisations} organisations "
            f"(generation: {generation}); wrk {args.connections} connections, {args.threads} threads, "
            f"{args.duration:g} s per scenario after {args.warmup:g} s warm-up; gunicorn.conf.py "
            f"({env.get('WEB_CONCURRENCY', 'default')} workers); {os.cpu_count()} CPUs"
        )
        report = table(items, servers, csv, header)
        print(report)
        if args.output:
            Path(args.output).write_text(report + "\n")
        product = servers["product"].results
        failed = any(m.errors for m in product.values()) or (csv is not None and csv.errors > 0)
        for app in ("ceiling", "naive"):
            if app in servers and any(m.note for m in servers[app].results.values()):
                failed = True
        if failed:
            log(f"errors occurred; gunicorn logs are in {work}")
    finally:
        for server in servers.values():
            stop(server)
        if created and not args.keep_database:
            drop_database(args.postgres, name)
        elif created:
            log(f"kept database {name}")
        if not failed:
            shutil.rmtree(work, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
