"""No Docker engine runs here, so the compose file's wiring is checked by reading it.

The image itself is built and served without an engine by .ci/image_check.py (a
step of .ci/run); these are the fast checks of the same files.
"""

import ast
import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


def load_compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_has_a_database_and_the_web_service():
    services = load_compose()["services"]
    assert set(services) >= {"db", "redis", "web"}

    db = services["db"]
    assert db["image"] == "postgres:17"
    assert any(volume.split(":")[1] == "/var/lib/postgresql/data" for volume in db["volumes"])
    assert "pgdata" in load_compose()["volumes"]
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert db["environment"]["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD:?")


def services_healthchecked(services) -> set[str]:
    return {name for name, service in services.items() if "healthcheck" in service}


def test_web_waits_for_a_healthy_database_migrates_then_runs_gunicorn():
    web = load_compose()["services"]["web"]
    assert web["build"] == "."
    assert web["env_file"] == ".env"
    assert web["depends_on"] == {"db": {"condition": "service_healthy"}, "redis": {"condition": "service_healthy"}}
    assert web["environment"]["REDIS_URL"] == "redis://redis:6379/0"
    assert services_healthchecked(load_compose()["services"]) >= {"db", "redis"}
    database_url = web["environment"]["DATABASE_URL"]
    assert database_url.startswith("postgres://registry:") and database_url.endswith("@db:5432/registry")
    command = " ".join(web["command"])
    assert command.index("manage.py migrate") < command.index("gunicorn -c gunicorn.conf.py registry.wsgi")
    assert "ports" not in web and web["expose"] == ["8000"]  # reached only through the proxy
    assert web["environment"]["API_NUM_PROXIES"] == "1"


def test_nginx_buffers_in_front_of_gunicorn():
    proxy = load_compose()["services"]["proxy"]
    assert proxy["image"].startswith("nginx:")
    assert "8000:80" in proxy["ports"]
    assert proxy["environment"]["UPSTREAM"] == "web:8000"
    assert "./deploy/nginx.conf.template:/etc/nginx/templates/nginx.conf.template:ro" in proxy["volumes"]
    template = (ROOT / "deploy" / "nginx.conf.template").read_text()
    for directive in ("client_header_timeout", "client_body_timeout", "proxy_request_buffering on"):
        assert directive in template


def test_dockerfile_installs_the_locked_runtime_dependencies_before_the_code():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.12-slim", dockerfile, re.MULTILINE)
    lines = [line for line in dockerfile.splitlines() if line and not line.startswith("#")]
    install = next(n for n, line in enumerate(lines) if "pip install" in line)
    first_code = next(n for n, line in enumerate(lines) if line.startswith("COPY registry"))
    assert install < first_code  # a code change reuses the dependency layer
    assert "-c requirements.lock" in lines[install]
    assert "USER registry" in dockerfile and "collectstatic" in dockerfile


def test_backup_tools_match_the_compose_database():
    """pg_dump refuses a server newer than itself: the image's client is compose's PostgreSQL major."""
    database_major = load_compose()["services"]["db"]["image"].split(":")[1].split(".")[0]
    client = re.search(r"postgresql-client-(\d+)", (ROOT / "Dockerfile").read_text())
    assert client and client.group(1) == database_major


# --- the Compose Specification ------------------------------------------------------
# .ci/compose-spec.json is the Compose Specification's JSON schema as vendored by
# check-jsonschema 0.39.0 (PyPI; check_jsonschema/builtin_schemas/vendor/compose-spec.json,
# sha256 d549057e...0e64), Apache-2.0 (.ci/compose-spec.LICENSE). To update it, copy the
# file from a newer check-jsonschema.


def compose_validator():
    schema = json.loads((ROOT / ".ci" / "compose-spec.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_compose_file_follows_the_compose_specification():
    errors = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in compose_validator().iter_errors(load_compose())
    ]
    assert errors == []


def test_the_schema_refuses_a_misspelt_compose_file():
    compose = load_compose()
    compose["services"]["web"]["enviroment"] = compose["services"]["web"].pop("environment")
    compose["services"]["db"]["restart"] = ["always"]
    messages = " | ".join(e.message for e in compose_validator().iter_errors(compose))
    assert "'enviroment' was unexpected" in messages
    assert "['always'] is not of type 'string'" in messages


# --- environment variables: compose, .env.example and what the registry reads --------

# What the registry reads from the environment: its Python code (settings, wsgi,
# gunicorn.conf.py, management commands) and the operators' scripts in the image.
PRODUCT_PYTHON = ["registry", "agreements", "gunicorn.conf.py", "manage.py"]
OPERATOR_SCRIPTS = ["bin/backup", "bin/restore"]
# bin/start (a local first run) also reads some of .env.example's variables; its own
# PORT is documented in its header, not in .env.example.
LOCAL_SCRIPTS = ["bin/start"]
ENVIRON_READS = {"os.environ.get", "os.getenv", "os.environ.pop"}


def python_env_names(path: Path) -> tuple[set[str], set[str]]:
    """(names read, names given a default with os.environ.setdefault) in one module.
    Reads: os.environ.get/[]/in, os.getenv and the settings' env*() helpers, with the
    name as a literal or a module-level string constant."""
    tree = ast.parse(path.read_text())
    constants = {
        node.targets[0].id: node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        and len(node.targets) == 1
        and isinstance(node.targets[0], ast.Name)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    }

    def name(node) -> str | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.Name):
            return constants.get(node.id)
        return None

    read, defaulted = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args:
            function = ast.unparse(node.func)
            if function in ENVIRON_READS or (isinstance(node.func, ast.Name) and function.startswith("env")):
                read.add(name(node.args[0]))
            elif function == "os.environ.setdefault":
                defaulted.add(name(node.args[0]))
        elif isinstance(node, ast.Subscript) and ast.unparse(node.value) == "os.environ":
            read.add(name(node.slice))
        elif isinstance(node, ast.Compare) and any(ast.unparse(c) == "os.environ" for c in node.comparators):
            read.add(name(node.left))
    return read - {None}, defaulted - {None}


def shell_env_names(path: Path) -> set[str]:
    """Upper-case variables a script takes from its environment: used, but not assigned
    in the script, or used with a default or a required-check (${NAME:-x}, ${NAME:?x})."""
    text = path.read_text()
    used = set(re.findall(r"\$\{?([A-Z][A-Z0-9_]*)", text))
    assigned = set(re.findall(r"^\s*(?:export\s+)?([A-Z][A-Z0-9_]*)=", text, re.MULTILINE))
    from_environment = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*):?[-?]", text))
    return (used - assigned) | from_environment


def product_python_files() -> list[Path]:
    files = []
    for entry in PRODUCT_PYTHON:
        path = ROOT / entry
        files += sorted(p for p in path.rglob("*.py") if "migrations" not in p.parts) if path.is_dir() else [path]
    return files


def registry_reads() -> set[str]:
    names = set()
    for path in product_python_files():
        names |= python_env_names(path)[0]
    for script in OPERATOR_SCRIPTS:
        names |= shell_env_names(ROOT / script)
    return names


def env_example() -> tuple[set[str], set[str]]:
    """(variables set in .env.example, variables shown there commented out, as #NAME=value)."""
    lines = (ROOT / ".env.example").read_text().splitlines()
    active = {m.group(1) for line in lines if (m := re.match(r"^([A-Z][A-Z0-9_]*)=", line))}
    commented = {m.group(1) for line in lines if (m := re.match(r"^#\s?([A-Z][A-Z0-9_]*)=", line))}
    return active, commented


def compose_interpolated() -> set[str]:
    return set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", (ROOT / "docker-compose.yml").read_text()))


def test_the_readers_are_found():
    """The cross-checks below are only as good as the reading: it finds the known readers."""
    reads = registry_reads()
    assert {"DJANGO_SECRET_KEY", "DATABASE_URL", "DATABASE_CONN_MAX_AGE", "REDIS_URL", "GUNICORN_BIND"} <= reads
    assert "REGISTRY_ADMIN_PASSWORD" in reads  # through a module constant, in a management command
    assert "DJANGO_MEDIA_ROOT" in reads  # bin/backup and the settings
    assert "REGISTRY_ADMIN_USERNAME" in shell_env_names(ROOT / "bin" / "start")
    assert "PY" not in shell_env_names(ROOT / "bin" / "start")  # assigned there, not read from outside


def test_every_variable_the_registry_reads_is_in_env_example():
    active, commented = env_example()
    undocumented = registry_reads() - active - commented
    assert not undocumented, f"read by the registry but not in .env.example: {sorted(undocumented)}"


def test_every_variable_env_example_names_is_read():
    active, commented = env_example()
    local = set().union(*(shell_env_names(ROOT / script) for script in LOCAL_SCRIPTS))
    unread = (active | commented) - registry_reads() - local - compose_interpolated()
    assert not unread, f"named in .env.example but read by nothing: {sorted(unread)}"


def test_every_variable_compose_gives_the_registry_is_read_and_documented():
    services = load_compose()["services"]
    built = {name: service for name, service in services.items() if "build" in service}
    assert "web" in built
    reads = registry_reads()
    active, _commented = env_example()
    for name, service in built.items():
        assert service["env_file"] == ".env"
        environment = service.get("environment", {})
        keys = set(environment) if isinstance(environment, dict) else {item.split("=")[0] for item in environment}
        assert not keys - reads, f"{name}: compose sets variables nothing reads: {sorted(keys - reads)}"
    # Whatever compose fills in from .env is documented there.
    assert compose_interpolated() <= active, sorted(compose_interpolated() - active)


def test_env_example_leaves_unset_what_web_processes_default():
    """registry/wsgi.py gives web processes a default only when the variable is absent:
    even an empty NAME= line in .env (docker compose's env_file) would remove it."""
    defaulted = set()
    for path in product_python_files():
        defaulted |= python_env_names(path)[1]
    assert "DATABASE_STATEMENT_TIMEOUT" in defaulted
    active, _commented = env_example()
    assert not defaulted & active, f"set in .env.example, overriding the web default: {sorted(defaulted & active)}"


def test_nginx_passes_on_the_scheme_the_tls_terminator_saw(tmp_path):
    """Behind a TLS terminator nginx itself speaks http: it must pass on the
    terminator's X-Forwarded-Proto (with $scheme the app redirected https
    requests to https for ever), and its own scheme when none is given."""
    import http.server
    import shutil
    import socket
    import subprocess
    import threading
    import time
    import urllib.request

    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if nginx is None:
        pytest.skip("nginx is not installed (.ci/run installs nginx-light)")
    seen = []

    class Echo(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            seen.append(self.headers.get("X-Forwarded-Proto"))
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    upstream = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    values = {
        "LISTEN": f"127.0.0.1:{port}",
        "UPSTREAM": f"127.0.0.1:{upstream.server_address[1]}",
        "PID_FILE": str(tmp_path / "nginx.pid"),
        "TEMP_DIR": str(tmp_path),
    }
    config = (ROOT / "deploy" / "nginx.conf.template").read_text()
    for name, value in values.items():
        config = config.replace("${" + name + "}", value)
    (tmp_path / "nginx.conf").write_text(config)
    tmp_path.chmod(0o777)
    process = subprocess.Popen(
        [nginx, "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:

        def get(headers):
            deadline = time.monotonic() + 10
            while True:
                try:
                    request = urllib.request.Request(f"http://127.0.0.1:{port}/", headers=headers)
                    with urllib.request.urlopen(request, timeout=5) as response:  # our own test server
                        return response.status
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.1)

        assert get({"X-Forwarded-Proto": "https"}) == 200
        assert get({}) == 200
    finally:
        process.terminate()
        process.wait(timeout=10)
        upstream.shutdown()
        upstream.server_close()
    assert seen == ["https", "http"]
