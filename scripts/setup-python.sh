#!/usr/bin/env bash
# Create / update the Python venv for the training pipeline and the report rendering at <repo>/.venv.
#
# Needs (Debian 12, run as root or with the packages present):
#   apt packages: python3 (3.11), python3-venv, libsndfile1
# They are installed with apt-get only if missing. Idempotent: when the venv exists and
# scripts/train/requirements.txt is unchanged (sha256 stored in the venv), it does nothing.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VENV="$ROOT/.venv"
REQ="$ROOT/scripts/train/requirements.txt"
STAMP="$VENV/.requirements.sha256"
PY="${PYTHON:-python3}"

want="$(sha256sum "$REQ" | cut -d' ' -f1)"
if [ -x "$VENV/bin/python" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ]; then
    exit 0
fi

missing=()
command -v "$PY" >/dev/null 2>&1 || missing+=(python3)
if ! "$PY" -c 'import venv, ensurepip' >/dev/null 2>&1; then missing+=(python3-venv); fi
if command -v dpkg-query >/dev/null 2>&1; then
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
"$VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip
"$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$REQ"
echo "$want" > "$STAMP"
echo "setup-python: venv ready at $VENV" >&2
