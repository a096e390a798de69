#!/usr/bin/env bash
# Set up everything on a fresh Debian 12 machine (Python 3.11), then run a task.
#
#   bash scripts/dev.sh sample        convert the built-in sample scene, validate it
#   bash scripts/dev.sh test [ARGS]   run the whole test suite (ARGS go to pytest)
#   bash scripts/dev.sh shell         a shell with the environment set up
#
# Setup (each step skipped when already done): Debian's QGIS and venv
# packages (apt, needs root or sudo), a virtualenv .venv on Debian's Python
# with its site packages (QGIS's Python bindings live there), and this
# package with its test extras (pip, numpy<2 because Debian's GDAL/SciPy
# are built against numpy 1.x).
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
for pkg in python3-qgis qgis python3-venv; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo=sudo
    echo "installing Debian packages: ${missing[*]}" >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

if [ ! -x .venv/bin/python ]; then
    /usr/bin/python3 -m venv --system-site-packages .venv
fi
stamp=.venv/.copc_builder-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ constraints.txt -nt "$stamp" ]; then
    echo "installing Python packages into .venv" >&2
    .venv/bin/python -m pip install -q --disable-pip-version-check -c constraints.txt -e '.[test]' >&2
    touch "$stamp"
fi

export PATH="$PWD/.venv/bin:$PATH"
export PROJ_DATA="${PROJ_DATA:-/usr/share/proj}"
export QT_QPA_PLATFORM="${QT_QPA_PLATFORM:-offscreen}"

task="${1:-}"
[ $# -gt 0 ] && shift
case "$task" in
    sample) exec copc-builder sample "$@" ;;
    test)   exec python -m pytest "$@" ;;
    shell)  exec "${SHELL:-bash}" ;;
    *)      echo "usage: bash scripts/dev.sh sample|test|shell" >&2; exit 2 ;;
esac
