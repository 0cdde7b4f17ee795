#!/usr/bin/env bash
# Create / update the Python venv at <repo>/.venv from the lock files, then install the package
# `scripts` (scripts/pyproject.toml, project bmrukit-scripts) into it in editable mode.
#
#   bash scripts/setup-python.sh [train] [report]    # default: both (what scripts/test.sh needs)
#
# Parts: `report` = requirements-report.lock (report.html rendering and its tests: matplotlib, no JAX),
# `train` = requirements-train.lock (the training pipeline and its tests: JAX, librosa, ...); both
# with pytest. Every distribution is checked against the lock's sha256 hashes (pip --require-hashes);
# pip and setuptools come from requirements-build.lock. The locks are for CPython 3.11 on Linux x86_64;
# bash scripts/lock.sh regenerates them from pyproject.toml.
#
# Needs (Debian 12, run as root or with the packages present):
#   apt packages: python3 (3.11), python3-venv, and for `train` libsndfile1
# They are installed with apt-get only if missing. Idempotent: when the venv exists and the lock files
# of the parts asked for are unchanged (sha256 stored in the venv per part), it does nothing.
# VENV=DIR puts the venv elsewhere (default <repo>/.venv).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
HERE="$ROOT/scripts"
VENV="${VENV:-$ROOT/.venv}"
PY="${PYTHON:-python3}"

parts=("$@")
[ "${#parts[@]}" -gt 0 ] || parts=(train report)
for part in "${parts[@]}"; do
    case "$part" in
        train|report) ;;
        *) echo "usage: bash scripts/setup-python.sh [train] [report]" >&2; exit 2 ;;
    esac
done

# A part is current when its stamp holds the hash of its lock, the build lock and pyproject.toml.
stamp_of() { cat "$HERE/requirements-$1.lock" "$HERE/requirements-build.lock" "$HERE/pyproject.toml" | sha256sum | cut -d' ' -f1; }
current=1
for part in "${parts[@]}"; do
    stamp="$VENV/.bmrukit-$part.sha256"
    if [ ! -x "$VENV/bin/python" ] || [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$(stamp_of "$part")" ]; then
        current=0
    fi
done
[ "$current" -eq 1 ] && exit 0

missing=()
command -v "$PY" >/dev/null 2>&1 || missing+=(python3)
if ! "$PY" -c 'import venv, ensurepip' >/dev/null 2>&1; then missing+=(python3-venv); fi
if [[ " ${parts[*]} " == *" train "* ]] && command -v dpkg-query >/dev/null 2>&1; then
    dpkg-query -W -f='${Status}' libsndfile1 2>/dev/null | grep -q "install ok installed" || missing+=(libsndfile1)
fi
if [ "${#missing[@]}" -gt 0 ]; then
    echo "setup-python: installing ${missing[*]} with apt-get" >&2
    if [ "$(id -u)" -ne 0 ]; then
        echo "setup-python: need root to apt-get install ${missing[*]}" >&2
        exit 1
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ ! -x "$VENV/bin/python" ]; then
    "$PY" -m venv "$VENV"
fi
pip=("$VENV/bin/python" -m pip install -q --disable-pip-version-check)
"${pip[@]}" --require-hashes -r "$HERE/requirements-build.lock"
locks=()
for part in "${parts[@]}"; do locks+=(-r "$HERE/requirements-$part.lock"); done
"${pip[@]}" --require-hashes --no-deps "${locks[@]}"
# The package itself: editable (the checkout's files are what runs), its dependencies are the locks'.
# (setuptools warns on every editable install that folders named like the package may shadow it:
# here the folder is the package; its output is shown only if the install fails.)
if ! out="$("${pip[@]}" --no-deps --no-build-isolation -e "$HERE" 2>&1)"; then
    echo "$out" >&2
    exit 1
fi
"$VENV/bin/python" -m pip check >/dev/null || { "$VENV/bin/python" -m pip check >&2; exit 1; }
for part in "${parts[@]}"; do stamp_of "$part" > "$VENV/.bmrukit-$part.sha256"; done
echo "setup-python: venv ready at $VENV (${parts[*]})" >&2
