"""No Docker engine runs here, so the compose file's wiring is checked by reading it."""

import re
from pathlib import Path

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


def test_dockerfile_and_env_example_match_the_settings():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert dockerfile.startswith("FROM python:3.12")
    assert "-c requirements.lock" in dockerfile and "collectstatic" in dockerfile
    assert "USER registry" in dockerfile
    documented = {
        line.split("=")[0]
        for line in (ROOT / ".env.example").read_text().splitlines()
        if line and not line.startswith("#")
    }
    settings_text = (ROOT / "registry" / "settings.py").read_text() + (ROOT / "gunicorn.conf.py").read_text()
    read = set(re.findall(r'env\w*\(\s*"([A-Z_]+)"', settings_text))
    read |= set(re.findall(r'os\.environ\.get\("([A-Z_]+)"', settings_text))
    assert read <= documented, f"undocumented: {read - documented}"
