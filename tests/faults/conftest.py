"""A throwaway PostgreSQL cluster (initdb/pg_ctl on a free port, so the shared
server is never touched) and the registry under gunicorn against it, with
production settings. For the fault tests: ``bin/test -m faults tests/faults``."""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PG_BIN = next(
    (Path(p) for p in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True) if (p / "initdb").exists()),
    None,
) if Path("/usr/lib/postgresql").exists() else None  # fmt: skip

pytestmark = pytest.mark.faults


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def as_postgres(command: list[str]) -> list[str]:
    # initdb and postgres refuse to run as root.
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@dataclass
class Cluster:
    data: Path
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/registry"

    def ctl(self, *args: str) -> None:
        subprocess.run(
            as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", *args]),
            check=True,
            capture_output=True,
            timeout=60,
        )

    def start(self) -> None:
        self.ctl("-o", f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1", "start")

    def stop(self) -> None:
        self.ctl("-m", "fast", "stop")

    def freeze(self) -> list[int]:
        """SIGSTOP this cluster's postmaster, then its children (a stopped
        postmaster forks no more): a hung database host, as a client sees it.
        Only this cluster's processes, never another server's."""
        postmaster = int((self.data / "postmaster.pid").read_text().split()[0])
        os.kill(postmaster, signal.SIGSTOP)
        children = Path(f"/proc/{postmaster}/task/{postmaster}/children").read_text().split()
        frozen = [postmaster, *(int(pid) for pid in children)]
        for pid in frozen[1:]:
            os.kill(pid, signal.SIGSTOP)
        return frozen

    @staticmethod
    def thaw(frozen: list[int]) -> None:
        for pid in frozen:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)


@pytest.fixture(scope="session")
def cluster():
    if PG_BIN is None or (shutil.which("runuser") is None and os.geteuid() == 0):
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    # Not under pytest's private temporary folder: the postgres user must reach it.
    base = Path(tempfile.mkdtemp(prefix="registry-faults-"))
    os.chmod(base, 0o755)
    data = base / "data"
    data.mkdir()
    if os.geteuid() == 0:
        shutil.chown(data, "postgres", "postgres")
    subprocess.run(
        as_postgres([str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "--no-sync"]),
        check=True,
        capture_output=True,
        timeout=120,
    )
    log = base / "postgres.log"
    log.touch()
    if os.geteuid() == 0:
        shutil.chown(log, "postgres", "postgres")
    instance = Cluster(data, free_port(), log)
    instance.start()
    createdb = [str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(instance.port), "-U", "postgres", "registry"]
    subprocess.run(
        as_postgres(createdb),
        check=True,
        capture_output=True,
        timeout=60,
    )
    yield instance
    with contextlib.suppress(subprocess.CalledProcessError):
        instance.stop()
    shutil.rmtree(base, ignore_errors=True)


def production_env(cluster: Cluster, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "API_", "REDIS"))}
    env.update(
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY="fault-tests-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DJANGO_SECURE_SSL_REDIRECT="0",
        DATABASE_URL=cluster.url,
        DATABASE_CONNECT_TIMEOUT="2",
        DATABASE_CONN_MAX_AGE="60",
        API_THROTTLE_ANONYMOUS="100000/minute",
        API_THROTTLE_PARTNER="100000/minute",
        API_THROTTLE_STAFF="100000/minute",
        DJANGO_LOG_LEVEL="WARNING",
    )
    env.update(extra)
    return env


def manage(env: dict, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.fixture(scope="session")
def registry_data(cluster):
    env = production_env(cluster)
    manage(env, "migrate", "--noinput")
    manage(env, "collectstatic", "--noinput")
    manage(env, "load_founding_data")
    return cluster


@dataclass
class Redis:
    """A throwaway redis-server on a free port (the shared one is never touched)."""

    port: int
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def cli(self, *args: str) -> str:
        result = subprocess.run(
            ["redis-cli", "-p", str(self.port), *args], capture_output=True, text=True, timeout=10, check=False
        )
        return result.stdout.strip()

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while self.cli("ping") != "PONG":
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(timeout=30)


@pytest.fixture
def redis_server():
    if shutil.which("redis-server") is None or shutil.which("redis-cli") is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    instance = Redis(free_port())
    instance.start()
    yield instance
    if instance.process.poll() is None:
        instance.kill()


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    log: Path
    log_handle: object

    def get(self, path: str, timeout: float = 10, headers: dict | None = None) -> tuple[int, dict, float]:
        started = time.monotonic()
        request = urllib.request.Request(self.url + path, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                response.read()
                return response.status, dict(response.headers), time.monotonic() - started
        except urllib.error.HTTPError as error:
            error.read()
            return error.code, dict(error.headers), time.monotonic() - started

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        return [int(pid) for pid in children]


def start_server(cluster: Cluster, tmp_path: Path, **env_extra: str) -> Server:
    port = free_port()
    env = production_env(cluster, GUNICORN_BIND=f"127.0.0.1:{port}", **env_extra)
    log = tmp_path / "gunicorn.log"
    handle = log.open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "registry.wsgi"],
        cwd=ROOT,
        env=env,
        stdout=handle,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    server = Server(f"http://127.0.0.1:{port}", process, log, handle)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if server.get("/healthz", timeout=2)[0] == 200:
                return server
        except OSError:
            time.sleep(0.2)
    process.kill()
    handle.close()
    raise AssertionError("gunicorn did not start:\n" + log.read_text())


def stop_server(server: Server) -> None:
    os.killpg(server.process.pid, signal.SIGTERM)
    try:
        server.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(server.process.pid, signal.SIGKILL)
        server.process.wait(timeout=30)
    server.log_handle.close()


@pytest.fixture
def server(registry_data, tmp_path):
    instance = start_server(registry_data, tmp_path, WEB_CONCURRENCY="2", GUNICORN_THREADS="4")
    yield instance
    stop_server(instance)


@dataclass
class Proxy:
    url: str
    process: subprocess.Popen


@pytest.fixture
def proxied(server, tmp_path):
    """nginx from deploy/nginx.conf.template (as docker-compose runs it) in front of ``server``."""
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if nginx is None:
        pytest.skip("nginx is not installed (apt-get install nginx-light)")
    port = free_port()
    temp = Path(tempfile.mkdtemp(prefix="registry-nginx-"))
    os.chmod(temp, 0o777)
    values = {
        "LISTEN": f"127.0.0.1:{port}",
        "UPSTREAM": server.url.removeprefix("http://"),
        "PID_FILE": str(temp / "nginx.pid"),
        "TEMP_DIR": str(temp),
    }
    config = (ROOT / "deploy" / "nginx.conf.template").read_text()
    for name, value in values.items():
        config = config.replace("${" + name + "}", value)
    (temp / "nginx.conf").write_text(config)
    with (temp / "error.log").open("w") as errors:
        process = subprocess.Popen(
            [nginx, "-p", str(temp), "-c", str(temp / "nginx.conf"), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=errors,
        )
    proxy = Proxy(f"http://127.0.0.1:{port}", process)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(proxy.url + "/healthz", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            time.sleep(0.2)
    else:
        process.kill()
        raise AssertionError("nginx did not start: " + (temp / "error.log").read_text())
    yield proxy
    process.terminate()
    process.wait(timeout=30)
    shutil.rmtree(temp, ignore_errors=True)
