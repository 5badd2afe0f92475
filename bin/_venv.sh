# Shared by bin/start and bin/test: find Python 3.12+, create .venv, install
# the pinned dependencies (again only when pyproject.toml or the lock changed).
# Usage: . bin/_venv.sh; ensure_venv "" | ensure_venv "[dev]"

find_python() {
    local candidate
    for candidate in "${PYTHON:-}" python3 python3.14 python3.13 python3.12 python; do
        [ -n "$candidate" ] || continue
        command -v "$candidate" >/dev/null 2>&1 || continue
        if "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
            echo "$candidate"
            return 0
        fi
    done
    echo "error: Python 3.12 or newer is needed (set PYTHON=/path/to/python3.12)." >&2
    return 1
}

ensure_venv() {
    local extra="$1" python stamp want
    if [ ! -x .venv/bin/python ]; then
        python=$(find_python) || return 1
        echo "==> Creating .venv with $("$python" --version)"
        "$python" -m venv .venv || return 1
    fi
    want="$(cat pyproject.toml requirements.lock | sha256sum | cut -c1-16)$extra"
    stamp=.venv/.installed
    if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
        echo "==> Installing dependencies${extra:+ with $extra} (pinned by requirements.lock)"
        .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip || return 1
        PYTHONWARNINGS=ignore .venv/bin/python -m pip install --quiet --disable-pip-version-check \
            -c requirements.lock -e ".$extra" || return 1
        echo "$want" >"$stamp"
    fi
}
