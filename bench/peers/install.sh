#!/usr/bin/env bash
# Install the peer tools of the accuracy benchmark from the package registries (Debian's apt and
# PyPI only).  Idempotent: packages already present are not fetched again.  A peer whose install
# fails is reported here and skipped by bench/accuracy.py with a note in its table; this script
# itself always exits 0 so that the rest of the benchmark still runs.
#
# Usage: bench/peers/install.sh [PYTHON]     (PYTHON defaults to .venv/bin/python)
set -u
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
PY="${1:-$ROOT/.venv/bin/python}"
LOG="$ROOT/bench/.cache/install.log"
mkdir -p "$ROOT/bench/.cache"
: > "$LOG"

note() { echo "bench/peers/install.sh: $*"; }

# --- Debian packages: ImageJ 1.x (+ Xvfb to run it headless), Gwyddion's C library (+ GLib headers
# and a compiler to build bench/peers/gwy_grains.c against it) ---
APT_PKGS=(imagej xvfb xauth libgwyddion20-dev libglib2.0-dev pkg-config gcc)
missing=()
for p in "${APT_PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
    SUDO=""
    [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null && SUDO="sudo"
    note "apt-get install ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # An update is needed on a fresh machine; a failed update (offline) still lets cached lists work.
    $SUDO apt-get update >>"$LOG" 2>&1 || note "apt-get update failed (see $LOG)"
    if ! $SUDO apt-get install -y --no-install-recommends "${missing[@]}" >>"$LOG" 2>&1; then
        note "apt-get install failed as a whole; trying each package alone (see $LOG)"
        for p in "${missing[@]}"; do
            $SUDO apt-get install -y --no-install-recommends "$p" >>"$LOG" 2>&1 || note "could not install $p"
        done
    fi
else
    note "Debian packages present: ${APT_PKGS[*]}"
fi

# --- PyPI: PoreSpy into the project's venv (a benchmark dependency, not one of morpho's) ---
if "$PY" -c "import porespy" >/dev/null 2>&1; then
    note "porespy present in $("$PY" -c 'import sys; print(sys.prefix)')"
else
    note "pip install porespy"
    "$PY" -m pip install --quiet porespy >>"$LOG" 2>&1 || note "pip install porespy failed (see $LOG)"
fi
exit 0
