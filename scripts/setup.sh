#!/usr/bin/env bash
# Installs what BMRUKit needs on a Debian/Ubuntu machine with Swift, skipping what is present:
#   apt: libngspice0-dev (the shared simulator library and its header), ngspice (the batch
#        simulator, for comparisons and benchmarks), libsndfile1-dev, libfftw3-dev and
#        libsamplerate0-dev (audio front end), espeak-ng (the demo's synthesized clips and optional
#        synthetic training speech), chromium (the headless check of report.html; about 1 minute to
#        install), python3-venv; then the Python venv (.venv) of the training pipeline and the report
#        rendering through scripts/setup-python.sh.
# Idempotent; needs root (or sudo) only when a package is missing.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"

need=()
for package in libngspice0-dev ngspice libsndfile1-dev libfftw3-dev libsamplerate0-dev espeak-ng chromium; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || need+=("$package")
done
if [ "${#need[@]}" -gt 0 ]; then
    echo "setup: installing ${need[*]}" >&2
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null 2>&1 || { echo "setup: need root to apt-get install ${need[*]}" >&2; exit 1; }
        SUDO=sudo
    fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
command -v swift >/dev/null 2>&1 || { echo "setup: swift is not on PATH (Swift 6.1 or newer is required)" >&2; exit 1; }
bash "$ROOT/scripts/setup-python.sh"
