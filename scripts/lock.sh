#!/usr/bin/env bash
# Regenerate the lock files beside scripts/pyproject.toml, with pip-compile (pip-tools) in a throwaway
# venv: exact versions and sha256 hashes of every distribution, for CPython 3.11 on Linux x86_64
# (the interpreter that runs this; the one scripts/setup-python.sh uses).
#
#   requirements-build.lock   pip and setuptools (the latter builds the editable install of the package)
#   requirements-report.lock  extras report + test: report.html rendering and its tests, no JAX
#   requirements-train.lock   extras train + test: the training pipeline and its tests
#
# The report and train locks are resolved against one joint resolution of all extras, so the packages
# they share (numpy, safetensors, pytest, ...) have the same version in both and one venv can install
# both. Run after changing a range in pyproject.toml, or to move to newer releases (--upgrade).
#   bash scripts/lock.sh [--upgrade]
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
PY="${PYTHON:-python3}"
PIP_TOOLS="pip-tools==7.7.0"
UPGRADE=()
[ "${1:-}" = "--upgrade" ] && UPGRADE=(--upgrade)

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
"$PY" -m venv "$TMP/venv"
"$TMP/venv/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip "$PIP_TOOLS"

cd "$HERE"
compile() {
    # --strip-extras: plain `name==version` lines (jax, not jax[cpu]); --allow-unsafe: pip/setuptools too.
    "$TMP/venv/bin/pip-compile" -q --no-emit-index-url --no-emit-find-links --strip-extras --allow-unsafe \
        --newline LF "${UPGRADE[@]}" "$@"
}
compile --all-extras --output-file "$TMP/all.txt" pyproject.toml
export CUSTOM_COMPILE_COMMAND="bash scripts/lock.sh"
compile --generate-hashes --extra report --extra test -c "$TMP/all.txt" \
    --output-file requirements-report.lock pyproject.toml
compile --generate-hashes --extra train --extra test -c "$TMP/all.txt" \
    --output-file requirements-train.lock pyproject.toml
printf 'pip\nsetuptools>=68\n' > "$TMP/build.in"
compile --generate-hashes --output-file requirements-build.lock "$TMP/build.in"
# The annotations name the temporary inputs: say where they come from instead.
"$PY" - "$TMP" requirements-*.lock <<'PYEOF'
import sys
tmp, paths = sys.argv[1], sys.argv[2:]
for path in paths:
    lines = [line.replace(f"-r {tmp}/build.in", "scripts/lock.sh") for line in open(path)]
    lines = [line for line in lines if line.strip() != f"#   -c {tmp}/all.txt"]
    out = []
    for i, line in enumerate(lines):  # a "# via" block left with one entry becomes "# via X"
        if line is None:
            continue
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        after = lines[i + 2] if i + 2 < len(lines) else ""
        if line.strip() == "# via" and nxt.strip().startswith("#   ") and not after.strip().startswith("#   "):
            out.append(line.rstrip("\n") + " " + nxt.strip()[4:] + "\n")
            lines[i + 1] = None
        else:
            out.append(line)
    open(path, "w").write("".join(out))
PYEOF
echo "lock: wrote $(cd "$HERE" && ls requirements-*.lock | tr '\n' ' ')" >&2
