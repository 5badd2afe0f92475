"""The production image, proved without a Docker engine.

No Docker engine runs on the project's machines, so this check reads the
Dockerfile itself and does what a build would do, in a temporary folder that
stands for the image's root:

1. the build context is the checkout less what .dockerignore leaves out; every
   tracked file must either be copied by a COPY/ADD line or be left out there
   on purpose (a new folder the image needs cannot be forgotten silently), and
   secrets or local data (.env, media/, *.dump, ...) must never be copied;
2. FROM names the Python version (a fresh virtualenv of that version stands
   for the image's Python), ENV/ARG/WORKDIR/USER/EXPOSE are followed, COPY/ADD
   copy into the tree, RUN lines run in it (pip and python from the
   virtualenv; pip's cache is reused; what only sets up the base system, such
   as apt-get or useradd, is reported and skipped), and every installed
   package must be pinned by requirements.lock;
3. the registry then runs from that tree as the image's unprivileged user
   would (when run as root), with docker-compose.yml's environment for the
   web service (its env_file being a copy of .env.example), PostgreSQL and
   Redis replaced by a throwaway database on the local server and a
   throwaway redis-server started with compose's own redis command: check
   --deploy, a statement timeout in the web processes' database sessions,
   the service's command (migrate, then gunicorn), the image's
   HEALTHCHECK, the README's `docker compose exec web ...` lines (founding
   data, staff login, bin/backup), then the German, Polish and English home
   pages in their languages, their static files, /healthz, /readyz, the API,
   Redis in use, and bin/restore of the backup into an empty database.

    .venv/bin/python .ci/image_check.py [--context DIR] [--dockerfile FILE] [--keep]

Local services: PostgreSQL at IMAGE_CHECK_POSTGRES (default
postgres://postgres@127.0.0.1:5432/postgres, trust auth) and redis-server on
PATH. Scratch space: IMAGE_CHECK_TMP, else /dev/shm, else the temp folder.
Every failure is listed at the end; the exit status is 1 if any.
"""
# Subprocesses run the project's own commands; the scratch folder is made by mkdtemp.
# ruff: noqa: S603, S607, S108

import argparse
import html
import json
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import polib
import psycopg
import yaml

STARTED = time.monotonic()
FAILURES: list[str] = []

# Paths that must never be copied into the image, whatever the Dockerfile's
# COPY lines become (secrets, local data, caches). Checked against the context.
NEVER_COPIED = [
    ".env",
    ".git/config",
    ".venv/bin/python",
    "db.sqlite3",
    "media/documents/contract.pdf",
    "staticfiles/css/site.css",
    "registry-20260101T000000Z.dump",
    "registry-20260101T000000Z-media.tar.gz",
    "backups/registry.dump",
    "test-artifacts/home.png",
    "registry/__pycache__/settings.cpython-312.pyc",
]
# The base system's own set-up: run by a real build, not emulated here.
SYSTEM_COMMANDS = {"apt-get", "apt", "dpkg", "useradd", "groupadd", "adduser", "addgroup", "usermod"}
# The home page in each language (German unprefixed). Its English <h1> is looked up in
# the catalogues (locale/*/LC_MESSAGES/django.po); the German and Polish pages must
# show those translations.
HOME_URLS = {"en": "/en/", "de": "/", "pl": "/pl/"}


def say(message: str) -> None:
    print(message, flush=True)


def fail(message: str) -> None:
    FAILURES.append(message)
    say(f"FAIL: {message}")


def ok(message: str) -> None:
    say(f"ok: {message}")


def phase(title: str) -> None:
    say(f"\n--- {title} ({time.monotonic() - STARTED:.0f} s)")


class Fatal(Exception):
    """Nothing after this can be checked."""


# --- .dockerignore ---------------------------------------------------------------


@dataclass
class IgnorePattern:
    regex: re.Pattern
    exclusion: bool
    dirs: int


def ignore_regex(pattern: str) -> re.Pattern:
    """Docker's pattern language (moby/patternmatcher): * and ? stop at /, ** spans folders."""
    out, i = "^", 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "*":
            if pattern[i + 1 : i + 2] == "*":
                i += 1
                if pattern[i + 1 : i + 2] == "/":
                    i += 1
                out += ".*" if i + 1 >= len(pattern) else "(.*/)?"
            else:
                out += "[^/]*"
        elif ch == "?":
            out += "[^/]"
        elif ch == "\\" and i + 1 < len(pattern):
            i += 1
            out += re.escape(pattern[i])
        elif ch in "[]":
            out += ch
        else:
            out += re.escape(ch)
        i += 1
    return re.compile(out + "$")


class DockerIgnore:
    def __init__(self, text: str):
        self.patterns: list[IgnorePattern] = []
        for raw in text.splitlines():
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            exclusion = line.startswith("!")
            line = os.path.normpath(line.removeprefix("!").strip())
            if len(line) > 1 and line.startswith("/"):
                line = line[1:]
            self.patterns.append(IgnorePattern(ignore_regex(line), exclusion, len(line.split("/"))))
        self.has_exclusions = any(p.exclusion for p in self.patterns)

    def ignored(self, path: str) -> bool:
        """Last matching pattern wins; a pattern matching a parent folder matches its files."""
        parents = path.split("/")[:-1]
        result = False
        for pattern in self.patterns:
            match = bool(pattern.regex.match(path))
            if not match and parents and pattern.dirs <= len(parents):
                match = bool(pattern.regex.match("/".join(parents[: pattern.dirs])))
            if match:
                result = not pattern.exclusion
        return result


# --- Dockerfile -----------------------------------------------------------------


@dataclass
class Instruction:
    keyword: str
    args: str
    line: int

    def exec_form(self) -> list[str] | None:
        if self.args.lstrip().startswith("["):
            return json.loads(self.args)
        return None


def read_dockerfile(text: str) -> list[Instruction]:
    instructions, parts, start = [], [], 0
    for number, raw in enumerate(text.splitlines(), 1):
        stripped = raw.strip()
        if stripped.startswith("#") or (not stripped and not parts):
            continue  # comments (also inside a continued instruction), parser directives, blank lines
        if not parts:
            start = number
        if stripped.endswith("\\"):
            parts.append(raw.rstrip()[:-1])
            continue
        parts.append(raw)
        logical = "".join(parts).strip()
        parts = []
        keyword, _, args = logical.partition(" ")
        instructions.append(Instruction(keyword.upper(), args.strip(), start))
    if parts:
        raise Fatal("the Dockerfile ends inside a continued line")
    return instructions


def expand(value: str, variables: dict[str, str]) -> str:
    """$NAME, ${NAME} and ${NAME:-default} as Docker expands them in COPY, ENV, WORKDIR..."""

    def one(match: re.Match) -> str:
        name = match.group(1) or match.group(2)
        default = match.group(3)
        got = variables.get(name, "")
        return got if got or default is None else default

    return re.sub(r"\$(?:([A-Za-z_]\w*)|\{([A-Za-z_]\w*)(?::-([^}]*))?\})", one, value)


def split_and(command: str) -> list[str]:
    """Split a shell command on top-level && (outside quotes)."""
    parts, current, quote, i = [], "", None, 0
    while i < len(command):
        ch = command[i]
        if quote:
            if ch == "\\" and quote == '"' and i + 1 < len(command):
                current += command[i : i + 2]
                i += 2
                continue
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif command.startswith("&&", i):
            parts.append(current.strip())
            current, i = "", i + 2
            continue
        current += ch
        i += 1
    parts.append(current.strip())
    return [part for part in parts if part]


# --- the build, emulated -----------------------------------------------------------


@dataclass
class Image:
    context: Path
    root: Path  # stands for the image's /
    venv: Path
    python_version: str = ""
    env: dict[str, str] = field(default_factory=dict)
    args: dict[str, str] = field(default_factory=dict)
    workdir: str = "/"
    user: str = "root"
    expose: list[str] = field(default_factory=list)
    healthcheck: list[str] | None = None
    cmd: list[str] | None = None
    entrypoint: list[str] | None = None
    copy_sources: list[str] = field(default_factory=list)
    library_path: str = ""  # LD_LIBRARY_PATH for a copied Python
    copied: set[str] = field(default_factory=set)  # context paths that went into the image
    system_setup: list[str] = field(default_factory=list)

    def host(self, image_path: str) -> Path:
        return self.root / image_path.lstrip("/")

    def image_path(self, path: str) -> str:
        return os.path.normpath(path if path.startswith("/") else f"{self.workdir}/{path}")


def emulated_user() -> tuple[int, int] | None:
    """The image's unprivileged user is played by 'nobody' (only possible as root)."""
    if os.geteuid() != 0:
        return None
    import pwd

    try:
        entry = pwd.getpwnam("nobody")
    except KeyError:
        return None
    return entry.pw_uid, entry.pw_gid


def as_user_prefix(user: str) -> list[str]:
    ids = emulated_user()
    if user in {"root", "0"} or ids is None:
        return []
    return ["setpriv", f"--reuid={ids[0]}", f"--regid={ids[1]}", "--clear-groups", "--"]


def find_python(version: str) -> str:
    candidates = []
    venv_python = Path(__file__).resolve().parent.parent / ".venv" / "bin" / "python"
    if venv_python.exists():
        base = subprocess.run(
            [str(venv_python), "-c", "import sys; print(sys._base_executable)"], capture_output=True, text=True
        ).stdout.strip()
        candidates.append(base)
    candidates += [shutil.which(f"python{version}") or "", str(Path.home() / ".pyenv" / "shims" / f"python{version}")]
    for candidate in candidates:
        if not candidate or not Path(candidate).exists():
            continue
        got = subprocess.run(
            [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"], capture_output=True, text=True
        ).stdout.strip()
        if got == version:
            return candidate
    raise Fatal(f"the image's Python is {version}; no python{version} found here (install it, e.g. with pyenv)")


def readable_python(image: Image, python: str, user: str) -> str:
    """The Python the image's user (played by 'nobody') can run: this one, or a copy of its
    installation when that lies out of the user's reach (pyenv's under /root, say)."""
    prefix = as_user_prefix(user)
    if not prefix or subprocess.run([*prefix, python, "-c", ""], capture_output=True).returncode == 0:
        return python
    base = subprocess.run([python, "-c", "import sys; print(sys.base_prefix)"], capture_output=True, text=True)
    copy = image.root.parent / "python"
    skip = shutil.ignore_patterns("test", "site-packages", "config-*", "idlelib", "tkinter", "turtledemo", "*.a")
    shutil.copytree(base.stdout.strip(), copy, symlinks=True, ignore=skip)
    image.library_path = str(copy / "lib")  # its RUNPATH names the original's lib/
    say(f"  (a copy of {base.stdout.strip()}, which is out of reach of the image's unprivileged user)")
    return str(copy / "bin" / Path(python).name)


def context_files(context: Path) -> list[str]:
    if (context / ".git").exists():
        out = subprocess.run(["git", "ls-files", "-z"], cwd=context, capture_output=True, check=True).stdout
        return [path for path in out.decode().split("\0") if path and (context / path).exists()]
    return sorted(
        str(path.relative_to(context)) for path in context.rglob("*") if path.is_file() and ".git" not in path.parts
    )


def walk_context(context: Path, source: Path, ignore: DockerIgnore):
    """Files under source (context-relative), less .dockerignore; ignored folders are pruned."""
    for folder, dirs, files in os.walk(source):
        relative_folder = os.path.relpath(folder, context)
        relative_folder = "" if relative_folder == "." else relative_folder + "/"
        if not ignore.has_exclusions:
            dirs[:] = [d for d in dirs if not ignore.ignored(relative_folder + d)]
        for name in files:
            relative = relative_folder + name
            if not ignore.ignored(relative):
                yield relative


def copy_instruction(image: Image, instruction: Instruction, ignore: DockerIgnore) -> None:
    words = instruction.exec_form() or shlex.split(instruction.args)
    flags = [w for w in words if w.startswith("--")]
    words = [expand(w, image.env | image.args) for w in words if not w.startswith("--")]
    chown = None
    for flag in flags:
        name, _, value = flag[2:].partition("=")
        if name == "chown":
            chown = value.split(":")[0]
        elif name not in {"link", "chmod"}:
            raise Fatal(f"line {instruction.line}: {instruction.keyword} --{name} is not emulated; extend the check")
    *sources, dest = words
    if not sources:
        raise Fatal(f"line {instruction.line}: {instruction.keyword} without a source")
    dest_path = image.image_path(dest)
    into_folder = dest.endswith("/") or len(sources) > 1 or image.host(dest_path).is_dir()
    for source in sources:
        if "://" in source:
            raise Fatal(f"line {instruction.line}: ADD from a URL is not emulated")
        source = os.path.normpath(source)
        image.copy_sources.append(source)
        matches = sorted(image.context.glob(source)) if any(c in source for c in "*?[") else [image.context / source]
        copied_any = False
        for match in matches:
            relative = os.path.relpath(match, image.context)
            if match.is_dir():
                for file in walk_context(image.context, match, ignore):
                    inner = os.path.relpath(file, relative) if relative != "." else file
                    copy_file(image, file, f"{dest_path}/{inner}", chown)
                    copied_any = True
            elif match.is_file() and not ignore.ignored(relative):
                target = f"{dest_path}/{match.name}" if into_folder else dest_path
                copy_file(image, relative, target, chown)
                copied_any = True
        if not copied_any:
            raise Fatal(
                f"line {instruction.line}: {instruction.keyword} {source}: not found in the build context "
                "or left out by .dockerignore (docker build fails here too)"
            )


def copy_file(image: Image, relative: str, target: str, chown: str | None) -> None:
    host_target = image.host(target)
    host_target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(image.context / relative, host_target, follow_symlinks=False)
    image.copied.add(relative)
    ids = emulated_user()
    if chown and chown not in {"root", "0"} and ids:
        os.chown(host_target, *ids)


def build_env(image: Image) -> dict[str, str]:
    """The environment a RUN line sees: the image's ENV, its ARGs, the venv first on PATH, and the
    machine's own ways to reach the package registries (pip's configuration, proxies)."""
    env = {
        "PATH": f"{image.venv}/bin:/usr/local/bin:/usr/bin:/bin",
        "HOME": os.environ.get("HOME", "/root") if image.user in {"root", "0"} else str(image.host("/nonexistent")),
        "LANG": "C.UTF-8",
    }
    env |= {k: v for k, v in os.environ.items() if k.startswith("PIP_") or k.lower().endswith("_proxy")}
    env |= image.args | image.env
    env.pop("PIP_NO_CACHE_DIR", None)  # reuse pip's cache here
    env["VIRTUAL_ENV"] = str(image.venv)
    if image.library_path:
        env["LD_LIBRARY_PATH"] = image.library_path
    return env


def paths_to_tree(image: "Image", command: str) -> tuple[str, list[str]]:
    """Absolute paths into the tree where the build made that folder (WORKDIR, COPY, mkdir);
    the others (/var/lib/apt, /usr/local, ...) belong to the base system and are returned."""
    outside = []

    def to_tree(match: re.Match) -> str:
        path = match.group(0)
        if path.startswith("/dev/"):
            return path
        if image.host("/" + path.lstrip("/").split("/")[0]).exists():
            return str(image.host(path))
        outside.append(path)
        return path

    return re.sub(r"(?<![\w.:/-])/[^\s'\";|&<>()]*", to_tree, command), outside


def run_instruction(image: Image, instruction: Instruction) -> None:
    exec_form = instruction.exec_form()
    command = shlex.join(exec_form) if exec_form else instruction.args
    for part in split_and(command):
        words = shlex.split(part, posix=True)
        assignments = 0
        while assignments < len(words) and re.match(r"^[A-Za-z_]\w*=", words[assignments]):
            assignments += 1
        program = words[assignments] if assignments < len(words) else ""
        if program in SYSTEM_COMMANDS:
            image.system_setup.append(part)
            say(f"  skipped (the base system's set-up): {part}")
            continue
        if program in {"chown", "chgrp"}:
            owner = words[assignments + 1].split(":")[0]
            paths = [image.host(image.image_path(w)) for w in words[assignments + 2 :] if not w.startswith("-")]
            ids = emulated_user()
            if ids and owner not in {"root", "0"}:
                for path in paths:
                    os.chown(path, *ids)
                say(f"  ran as chown to 'nobody' (stands for {owner}): {part}")
            else:
                say(f"  skipped (not root here): {part}")
            continue
        mapped, outside = paths_to_tree(image, part)
        if outside:
            image.system_setup.append(part)
            say(f"  skipped (touches the base system: {', '.join(outside)}): {part}")
            continue
        if re.search(r"\bpip3?\s+install\b", mapped):
            mapped = re.sub(r"\s--no-cache-dir\b", "", mapped)  # reuse pip's cache here
            mapped = re.sub(r"\bpip3?(\s+install)", r"python -m pip\1", mapped)
        say(f"  RUN {part}")
        cwd = image.host(image.workdir)
        cwd.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(
            [*as_user_prefix(image.user), "sh", "-c", mapped],
            cwd=cwd,
            env=build_env(image),
            capture_output=True,
            text=True,
            timeout=900,
        )
        if result.returncode != 0:
            raise Fatal(
                f"line {instruction.line}: RUN {part} exited {result.returncode}:\n"
                + (result.stdout + result.stderr)[-3000:]
            )


def build(image: Image, instructions: list[Instruction], ignore: DockerIgnore) -> None:
    froms = [i for i in instructions if i.keyword == "FROM"]
    if len(froms) != 1:
        raise Fatal("the check emulates a single-stage Dockerfile (one FROM); extend it for more")
    base = froms[0].args.split()[0]
    match = re.match(r"^(?:docker\.io/(?:library/)?)?python:(\d+\.\d+)", base)
    if not match:
        raise Fatal(f"FROM {base}: the check knows the official python images only")
    image.python_version = match.group(1)
    users = [expand(i.args, image.env).split(":")[0] for i in instructions if i.keyword == "USER"]
    python = readable_python(image, find_python(image.python_version), users[-1] if users else "root")
    subprocess.run([python, "-m", "venv", str(image.venv)], env=build_env(image), check=True)
    say(f"FROM {base}: a fresh virtualenv of {python} (Python {image.python_version}) stands for the image's Python")
    for instruction in instructions:
        keyword = instruction.keyword
        if keyword in {"FROM", "LABEL", "STOPSIGNAL", "MAINTAINER"}:
            continue
        if keyword == "ARG":
            name, _, default = instruction.args.partition("=")
            image.args[name.strip()] = default.strip()
        elif keyword == "ENV":
            words = shlex.split(instruction.args)
            if words and "=" not in words[0]:
                image.env[words[0]] = instruction.args.split(None, 1)[1].strip()
            else:
                for word in words:
                    name, _, value = word.partition("=")
                    image.env[name] = expand(value, image.env | image.args)
        elif keyword == "WORKDIR":
            image.workdir = image.image_path(expand(instruction.args, image.env | image.args))
            image.host(image.workdir).mkdir(parents=True, exist_ok=True)
        elif keyword in {"COPY", "ADD"}:
            copy_instruction(image, instruction, ignore)
        elif keyword == "RUN":
            run_instruction(image, instruction)
        elif keyword == "USER":
            image.user = expand(instruction.args, image.env | image.args).split(":")[0]
        elif keyword == "EXPOSE":
            image.expose += [port.split("/")[0] for port in instruction.args.split()]
        elif keyword == "VOLUME":
            for path in instruction.exec_form() or instruction.args.split():
                image.host(image.image_path(path)).mkdir(parents=True, exist_ok=True)
        elif keyword == "HEALTHCHECK":
            _, _, command = instruction.args.partition("CMD")
            image.healthcheck = json.loads(command) if command.strip().startswith("[") else ["sh", "-c", command]
        elif keyword == "CMD":
            image.cmd = instruction.exec_form() or ["sh", "-c", instruction.args]
        elif keyword == "ENTRYPOINT":
            image.entrypoint = instruction.exec_form() or ["sh", "-c", instruction.args]
        else:
            raise Fatal(f"line {instruction.line}: {keyword} is not emulated; extend the check")


def check_context(image: Image, ignore: DockerIgnore) -> None:
    """Every tracked file is in the image or left out on purpose; secrets are never copied."""
    orphans: dict[str, list[str]] = {}
    for path in context_files(image.context):
        if path not in image.copied and not ignore.ignored(path):
            orphans.setdefault(path.split("/")[0], []).append(path)
    if orphans:
        for top, paths in sorted(orphans.items()):
            fail(
                f"{top}{'/' if '/' in paths[0] else ''} ({len(paths)} tracked file(s), e.g. {paths[0]}) is neither "
                "copied into the image by the Dockerfile nor left out on purpose in .dockerignore"
            )
    else:
        ok("every tracked file is copied into the image or left out in .dockerignore")

    def covered(path: str) -> bool:
        for source in image.copy_sources:
            if source == "." or path == source or path.startswith(source + "/"):
                return True
            if any(c in source for c in "*?[") and re.match(ignore_regex(source).pattern, path):
                return True
        return False

    leaked = [path for path in NEVER_COPIED if covered(path) and not ignore.ignored(path)]
    if leaked:
        fail(f"these would be copied into the image (add them to .dockerignore): {', '.join(leaked)}")
    else:
        ok(f"secrets and local data are never copied ({len(NEVER_COPIED)} sample paths)")


def check_installed(image: Image) -> None:
    """What the build installed is exactly what requirements.lock pins."""

    def norm(name: str) -> str:
        return re.sub(r"[-_.]+", "-", name).lower()

    lock = {}
    for line in (image.context / "requirements.lock").read_text().splitlines():
        line = line.split("#")[0].strip()
        if "==" in line:
            name, _, version = line.partition("==")
            lock[norm(name)] = version.strip()
    project = norm(tomllib.loads((image.context / "pyproject.toml").read_text())["project"]["name"])
    frozen = subprocess.run(
        [str(image.venv / "bin" / "python"), "-m", "pip", "freeze", "--all"], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    installed = {}
    for line in frozen:
        name, _, version = line.partition("==")
        if version and norm(name) not in {"pip", "setuptools", "wheel", project}:
            installed[norm(name)] = version
    unpinned = {f"{n}=={v}" for n, v in installed.items() if lock.get(n) != v}
    if unpinned:
        fail(f"installed but not pinned so by requirements.lock: {', '.join(sorted(unpinned))}")
    else:
        ok(f"{len(installed)} packages installed, each at requirements.lock's version")


# --- the compose environment ---------------------------------------------------------


def read_env_file(path: Path) -> dict[str, str]:
    """Compose's env_file format: KEY=VALUE lines; # comments; quotes around a value are removed."""
    values = {}
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        line = line.removeprefix("export ").strip()
        name, sep, value = line.partition("=")
        if not sep:
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        else:
            value = re.split(r"\s+#", value)[0]
        values[name.strip()] = value
    return values


def interpolate(value: str, variables: dict[str, str]) -> str:
    """Compose's interpolation: $NAME, ${NAME}, ${NAME:-default}, ${NAME:?error}, $$ for a dollar."""

    def one(match: re.Match) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group(1) or match.group(2)
        operator, argument = match.group(3) or "", match.group(4) or ""
        got = variables.get(name)
        if operator in {":?", "?"} and (got is None or (operator == ":?" and got == "")):
            raise Fatal(f"compose stops: {argument or name + ' is not set'}")
        if operator in {":-", "-"} and (got is None or (operator == ":-" and got == "")):
            return argument
        return got or ""

    return re.sub(r"\$\$|\$(?:([A-Za-z_]\w*)|\{([A-Za-z_]\w*)(?:(:?[-?])([^}]*))?\})", one, str(value))


def environment_mapping(raw) -> dict[str, str]:
    if isinstance(raw, list):
        return dict(item.partition("=")[::2] for item in raw)
    return {k: "" if v is None else str(v) for k, v in (raw or {}).items()}


@dataclass
class Local:
    postgres: str  # the local server's admin URL
    database: str  # the throwaway database standing for compose's
    redis_port: int


def localise(value: str, services: dict, local: Local) -> str:
    """postgres://user:pw@db:5432/x -> the throwaway local database; redis://redis:6379/0 -> the local redis-server."""
    parts = urlsplit(value)
    if not parts.scheme or parts.hostname not in services:
        return value
    image = str(services[parts.hostname].get("image", ""))
    if parts.scheme.startswith("postgres") and image.startswith("postgres"):
        admin = urlsplit(local.postgres)
        return urlunsplit((parts.scheme, admin.netloc, f"/{local.database}", parts.query, parts.fragment))
    if parts.scheme.startswith("redis") and image.startswith("redis"):
        return urlunsplit((parts.scheme, f"127.0.0.1:{local.redis_port}", parts.path, parts.query, parts.fragment))
    raise Fatal(f"{value}: the check has no local stand-in for compose service {parts.hostname!r} ({image})")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def web_service(compose: dict) -> tuple[str, dict]:
    built = {name: s for name, s in compose["services"].items() if "build" in s}
    if not built:
        raise Fatal("docker-compose.yml has no service built from this Dockerfile")
    for name in sorted(built):
        if name != "web":
            say(f"note: compose service {name!r} also runs this image; the check serves 'web' only")
    if "web" not in built:
        raise Fatal("docker-compose.yml has no 'web' service built from the Dockerfile")
    return "web", built["web"]


# --- running the tree -------------------------------------------------------------------


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


OPENER = urllib.request.build_opener(NoRedirect)


def http_get(port: int, path: str, host: str) -> tuple[int, str]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        # What the compose proxy forwards for a visitor who came over HTTPS.
        headers={"Host": host, "X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"},
    )
    try:
        with OPENER.open(request, timeout=30) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8", "replace")


def expect_page(port: int, path: str, host: str, status: int, *needles: str) -> str:
    got, body = http_get(port, path, host)
    # Soft hyphens (U+00AD, where long German words may break) are not text.
    text = body.replace("\u00ad", "").replace("&shy;", "")
    missing = [needle for needle in needles if needle not in text]
    if got != status or missing:
        fail(f"{path} answered {got} (wanted {status}" + (f" containing {missing!r})" if missing else ")"))
        say(body[:600])
    else:
        ok(f"{path} -> {got}" + (f" with {needles[0]!r}" if needles else ""))
    return body


def translations(context: Path, english: str) -> dict[str, str]:
    """The catalogues' translations of an English text, by language."""
    catalogues = {
        language: polib.pofile(str(context / "locale" / language / "LC_MESSAGES" / "django.po"))
        for language in HOME_URLS
    }
    msgids = {e.msgid for e in catalogues["en"] if not e.obsolete and english in {e.msgid, e.msgstr}}
    found = {}
    for language, catalogue in catalogues.items():
        for entry in catalogue:
            if entry.msgid in msgids and not entry.obsolete and not entry.msgctxt and entry.msgstr:
                found[language] = entry.msgstr
    return found


def readme_compose_lines(context: Path, service: str) -> list[str]:
    """`docker compose exec <service> CMD` lines of the README's shell blocks, in order."""
    lines, in_block = [], False
    for raw in (context / "README.md").read_text().splitlines():
        if raw.startswith("```"):
            in_block = not in_block
            continue
        match = re.match(rf"^docker compose exec (?:-T )?{service} (.+)$", raw.strip()) if in_block else None
        if match:
            lines.append(match.group(1))
    return lines


def serve(image: Image, args: argparse.Namespace, local: Local, work: Path) -> None:
    context = image.context
    compose = yaml.safe_load((context / "docker-compose.yml").read_text())
    name, web = web_service(compose)
    services = compose["services"]

    # The container's environment: the image's ENV, then env_file (.env = a copy of .env.example
    # with the secret key an operator sets), then environment, interpolated from .env.
    dotenv = read_env_file(context / ".env.example")
    dotenv["DJANGO_SECRET_KEY"] = dotenv.get("DJANGO_SECRET_KEY") or secrets.token_urlsafe(50)
    env_files = web.get("env_file", [])
    env_files = [env_files] if isinstance(env_files, str | dict) else env_files
    container = dict(image.env)
    for env_file in env_files:
        env_file = env_file["path"] if isinstance(env_file, dict) else env_file
        if env_file != ".env":
            raise Fatal(f"service {name}: env_file {env_file} is not emulated (only .env, from .env.example)")
        container |= dotenv
    for key, value in environment_mapping(web.get("environment")).items():
        container[key] = localise(interpolate(value, dotenv), services, local)
    port = free_port()
    # The container's own network: its port becomes a free local one.
    container["GUNICORN_BIND"] = f"127.0.0.1:{port}"
    container |= {
        "PATH": f"{image.venv}/bin:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(image.host("/nonexistent")),
        "LANG": "C.UTF-8",
        "VIRTUAL_ENV": str(image.venv),
    }
    if image.library_path:
        container["LD_LIBRARY_PATH"] = image.library_path
    for key in ("DATABASE_URL", "REDIS_URL"):
        shown = re.sub(r"://([^:@/]+):[^@/]*@", r"://\1:***@", container.get(key, "(not set)"))
        say(f"{key}={shown}")
    user = image.user
    prefix = as_user_prefix(user)
    if prefix:
        say(f"runs as 'nobody', standing for the image's USER {user}")
    elif user not in {"root", "0"}:
        say(f"note: not root here, so the image's USER {user} is not emulated")
    workdir = image.host(image.workdir)

    def in_container(command: list[str], timeout: int = 300) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*prefix, *command], cwd=workdir, env=container, capture_output=True, text=True, timeout=timeout
        )

    phase("check --deploy with compose's settings")
    result = in_container(["python", "manage.py", "check", "--deploy", "--fail-level", "WARNING"])
    if result.returncode:
        fail(f"manage.py check --deploy exited {result.returncode}:\n{(result.stdout + result.stderr)[-2000:]}")
    else:
        ok("manage.py check --deploy --fail-level WARNING")
    # A web process's database session, as gunicorn's workers set it up (registry.wsgi first).
    probe = (
        "import registry.wsgi; from django.db import connection; c = connection.cursor(); "
        "c.execute('SHOW statement_timeout'); print(c.fetchone()[0])"
    )
    result = in_container(["python", "-c", probe])
    timeout = result.stdout.strip()
    if result.returncode or timeout in {"", "0"}:
        fail(f"web processes run queries without a statement timeout ({timeout or result.stderr[-500:]!r})")
    else:
        ok(f"web processes' statement timeout: {timeout}")

    command = web.get("command") or image.cmd
    if isinstance(command, str):
        command = shlex.split(command)
    command = [*(image.entrypoint or []), *command]
    phase(f"the service's command: {shlex.join(command)}")
    log_path = work / "web.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [*prefix, *command],
            cwd=workdir,
            env=container,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    args.cleanup.append(lambda: stop(server))
    container_port = (image.expose or ["8000"])[0]
    healthcheck = [
        re.sub(rf"(127\.0\.0\.1|localhost):{container_port}\b", f"127.0.0.1:{port}", word)
        for word in image.healthcheck or []
    ]
    healthy = False
    for _ in range(180):
        if server.poll() is not None:
            break
        if healthcheck:
            healthy = in_container(healthcheck, timeout=10).returncode == 0
        else:
            healthy = http_get(port, "/healthz", "127.0.0.1")[0] == 200
        if healthy:
            break
        time.sleep(1)
    if not healthy:
        fail(f"the service never became healthy (exit {server.poll()}); its log ends:\n{log_path.read_text()[-3000:]}")
        raise Fatal("nothing to request")
    ok("migrated and serving; the image's HEALTHCHECK passes" if healthcheck else "serving (no HEALTHCHECK)")

    phase("what the README has operators run: docker compose exec web ...")
    lines = readme_compose_lines(context, name)
    if not any("bin/backup" in line for line in lines):
        fail("the README shows no `docker compose exec web bin/backup ...` for operators")
        lines.append("bin/backup backups/image-check.dump")  # does it run at all?
    for line in lines:
        result = in_container(["sh", "-c", line])
        if result.returncode:
            fail(f"`{line}` exited {result.returncode}:\n{(result.stdout + result.stderr)[-1500:]}")
        else:
            ok(f"`{line}`")

    phase("the pages, through gunicorn")
    host = container.get("DJANGO_ALLOWED_HOSTS", "localhost").split(",")[0]
    expect_page(port, "/healthz", "127.0.0.1", 200, '"ok"')
    expect_page(port, "/readyz", "127.0.0.1", 200, '"ok"')
    english = expect_page(port, HOME_URLS["en"], host, 200, "<h1>", 'lang="en"')
    heading = html.unescape(m.group(1).strip()) if (m := re.search(r"<h1>(.*?)</h1>", english, re.S)) else ""
    translated = translations(context, heading)
    german = ""
    for language, path in HOME_URLS.items():
        if language == "en":
            continue
        if translated.get(language, heading) == heading:
            raise Fatal(f"locale/{language} has no translation of the home page's heading {heading!r}")
        wanted = f"<h1>{html.escape(translated[language], quote=False)}</h1>"
        body = expect_page(port, path, host, 200, wanted, f'lang="{language}"')
        german = body if language == "de" else german
    statics = re.findall(r'(?:href|src)="(/static/[^"]+)"', german)
    if not statics:
        fail("the German home page links no static file")
    for static in statics:
        expect_page(port, static, host, 200)
    expect_page(port, "/api/v1/agreements/", host, 200, '"count":')
    redis_keys = subprocess.run(
        ["redis-cli", "-p", str(local.redis_port), "dbsize"], capture_output=True, text=True
    ).stdout.strip()
    if redis_keys.isdigit() and int(redis_keys) > 0:
        ok(f"the shared cache is compose's Redis ({redis_keys} keys after these requests)")
    else:
        fail(f"nothing was written to Redis (dbsize {redis_keys!r}): REDIS_URL is not in use")

    phase("bin/restore of that backup into an empty database")
    dumps = sorted(workdir.rglob("*.dump"))
    if not dumps:
        fail("bin/backup left no .dump file in the image's tree")
        return
    restored = f"{local.database}_restored"
    with psycopg.connect(local.postgres, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{restored}"')
    args.cleanup.append(lambda: drop_database(local.postgres, restored))
    restore_env = container | {"DATABASE_URL": re.sub(r"/[^/]*$", f"/{restored}", container["DATABASE_URL"])}
    result = subprocess.run(
        [*prefix, "bin/restore", str(dumps[-1].relative_to(workdir))],
        cwd=workdir,
        env=restore_env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if result.returncode:
        fail(f"bin/restore exited {result.returncode}:\n{(result.stdout + result.stderr)[-1500:]}")
        return
    counts = []
    for database in (local.database, restored):
        url = urlunsplit(urlsplit(local.postgres)._replace(path=f"/{database}"))
        with psycopg.connect(url) as conn:
            counts.append(conn.execute("SELECT count(*) FROM agreements_agreement").fetchone()[0])
    if counts[0] == counts[1] and counts[0] > 0:
        ok(f"{dumps[-1].name} restored: {counts[1]} agreements, as served")
    else:
        fail(f"restored database has {counts[1]} agreements, the served one {counts[0]}")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def drop_database(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def start_redis(context: Path, work: Path, args: argparse.Namespace) -> int:
    """A throwaway redis-server, started with compose's own redis command plus a local port."""
    compose = yaml.safe_load((context / "docker-compose.yml").read_text())
    redis = next((s for s in compose["services"].values() if str(s.get("image", "")).startswith("redis")), None)
    if redis is None:
        raise Fatal("docker-compose.yml has no redis service")
    command = redis.get("command") or ["redis-server"]
    command = shlex.split(command) if isinstance(command, str) else list(command)
    if command[0] != "redis-server" or not shutil.which("redis-server"):
        raise Fatal("redis-server is needed here (apt-get install redis-server); compose runs " + shlex.join(command))
    port = free_port()
    process = subprocess.Popen(
        [*command, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(work), "--daemonize", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    args.cleanup.append(lambda: stop(process))
    for _ in range(50):
        pong = subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True, text=True).stdout
        if pong.strip() == "PONG":
            say(f"redis-server on port {port}: {shlex.join(command[1:])}")
            return port
        time.sleep(0.1)
    raise Fatal("the throwaway redis-server did not answer")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--context", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--dockerfile", type=Path, help="default: CONTEXT/Dockerfile")
    parser.add_argument("--keep", action="store_true", help="keep the assembled tree (its path is printed)")
    args = parser.parse_args()
    args.cleanup = []
    # Stopped from outside (a CI time limit): still stop the servers and drop the databases.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    context = args.context.resolve()
    dockerfile = (args.dockerfile or context / "Dockerfile").resolve()
    # Memory-backed when there is such a folder: the tree, the virtualenv and a Python copy are
    # some 15,000 files, slow to delete on a disk mounted with online discard.
    scratch = os.environ.get("IMAGE_CHECK_TMP") or ("/dev/shm" if os.access("/dev/shm", os.W_OK) else None)
    work = Path(tempfile.mkdtemp(prefix="image-check-", dir=scratch))
    work.chmod(0o755)  # the emulated user reads the tree and the virtualenv
    image = Image(context=context, root=work / "root", venv=work / "venv")
    image.root.mkdir()
    postgres = os.environ.get("IMAGE_CHECK_POSTGRES", "postgres://postgres@127.0.0.1:5432/postgres")
    database = f"registry_image_check_{os.getpid()}"
    try:
        phase(f"the image's file tree, built from {dockerfile} in {image.root}")
        ignore_file = context / ".dockerignore"
        ignore = DockerIgnore(ignore_file.read_text() if ignore_file.exists() else "")
        if not ignore_file.exists():
            fail(".dockerignore is missing: the whole checkout (.git, .venv, .env, media/) is the build context")
        build(image, read_dockerfile(dockerfile.read_text()), ignore)
        files = [p for p in image.root.rglob("*") if p.is_file()]
        size = sum(p.stat().st_size for p in files)
        say(f"tree: {len(files)} files, {size / 1e6:.1f} MB (virtualenv apart)")
        for setup in image.system_setup:
            say(f"  (a real build also runs: {setup})")
        check_context(image, ignore)
        check_installed(image)

        phase("local stand-ins for compose's db and redis")
        with psycopg.connect(postgres, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{database}"')
        args.cleanup.append(lambda: drop_database(postgres, database))
        say(f"PostgreSQL: throwaway database {database}")
        local = Local(postgres=postgres, database=database, redis_port=start_redis(context, work, args))
        serve(image, args, local, work)
    except Fatal as error:
        fail(str(error))
    finally:
        for cleanup in reversed(args.cleanup):
            try:
                cleanup()
            except Exception as error:  # cleanup goes on whatever failed before
                say(f"cleanup: {error}")
        if args.keep:
            say(f"kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    elapsed = time.monotonic() - STARTED
    if FAILURES:
        say(f"\nimage check FAILED in {elapsed:.0f} s: {len(FAILURES)} failure(s)")
        for number, failure in enumerate(FAILURES, 1):
            say(f"  {number}. {failure.splitlines()[0]}")
        return 1
    say(f"\nimage check passed in {elapsed:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
