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

sudo=""
[ "$(id -u)" -ne 0 ] && sudo=sudo

# QGIS 3.40 LTR comes from Debian's bookworm-backports suite (bookworm itself
# has 3.22).  The suite is added with the mirror the machine already uses for
# Debian, read from its apt sources, so no host name is written here.
backports_list=/etc/apt/sources.list.d/copc-builder-backports.list
if ! grep -rqs -- '-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    mirror=$(grep -hsE '^(URIs:|deb )' /etc/apt/sources.list /etc/apt/sources.list.d/*.sources \
                 /etc/apt/sources.list.d/*.list 2>/dev/null \
             | grep -v -- '-security' | grep -m1 -oE '(https?|file)://[^ ]*/debian/?' || true)
    if [ -z "$mirror" ]; then
        echo "dev.sh: no Debian mirror found in the apt sources; add bookworm-backports by hand" >&2
        exit 1
    fi
    echo "adding the bookworm-backports suite from the machine's Debian mirror" >&2
    echo "deb ${mirror%/} bookworm-backports main" | $sudo tee "$backports_list" >/dev/null
    $sudo apt-get update -qq
fi

qgis_ok() {  # QGIS 3.40 or later, with its Python bindings
    local v
    v=$(dpkg-query -W -f='${Version}' python3-qgis 2>/dev/null) || return 1
    dpkg --compare-versions "$v" ge 3.40 && dpkg -s qgis >/dev/null 2>&1
}
if ! qgis_ok || ! dpkg -s python3-venv >/dev/null 2>&1; then
    echo "installing Debian packages: qgis python3-qgis (bookworm-backports), python3-venv" >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
        python3-venv >&2
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
        -t bookworm-backports qgis python3-qgis >&2
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
# The package's modules byte-compiled, as pip leaves an installed wheel: an
# editable install has none, and where PYTHONDONTWRITEBYTECODE is set (as on
# CI images) every command would compile the modules it imports (116 for a
# build) again, 0.1 s of each start.  Only changed modules are compiled again.
.venv/bin/python -m compileall -q -j 0 __init__.py __main__.py algorithms plugin >/dev/null

# JavaScript readers the tests check outputs with (tests/js: proj4js...):
# node and npm from Debian when missing, the packages from the lock file.
js_readers() {
    if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
        echo "installing Debian packages: nodejs npm" >&2
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends nodejs npm >&2
    fi
    if [ ! -d tests/js/node_modules ] || [ tests/js/package-lock.json -nt tests/js/node_modules ]; then
        echo "installing the tests' JavaScript packages (tests/js)" >&2
        (cd tests/js && npm ci --silent --no-audit --no-fund >&2)
        touch tests/js/node_modules
    fi
}

# PDAL for the tests: ../shared/pdal, beside the repository on the team's
# machines and CI, carries PDAL 2.8.4 with its Python bindings, the
# filters.python and readers.numpy plugins and untwine, built for Debian 12's
# Python with numpy<2.  Its env.sh puts them on PATH, LD_LIBRARY_PATH,
# PDAL_DRIVER_PATH and PYTHONPATH; it is sourced here because LD_LIBRARY_PATH
# must be set before Python starts.  Without the folder the PDAL tests skip.
shared_pdal() {
    local env_sh=../shared/pdal/env.sh
    [ -f "$env_sh" ] || return 0
    echo "PDAL for the tests: $(cd "$(dirname "$env_sh")" && pwd)" >&2
    # shellcheck source=/dev/null
    . "$env_sh"
}

# PROJ's command line (cs2cs), which the --t-srs tests compare points with:
# Debian's proj-bin (the PROJ of Debian's python3-pyproj, which the venv sees).
proj_tools() {
    if ! command -v cs2cs >/dev/null 2>&1; then
        echo "installing Debian package: proj-bin" >&2
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends proj-bin >&2
    fi
}

export PATH="$PWD/.venv/bin:$PATH"
export PROJ_DATA="${PROJ_DATA:-/usr/share/proj}"
export QT_QPA_PLATFORM="${QT_QPA_PLATFORM:-offscreen}"

task="${1:-}"
[ $# -gt 0 ] && shift
case "$task" in
    sample) exec copc-builder sample "$@" ;;
    test)   js_readers; proj_tools; shared_pdal; exec python -m pytest "$@" ;;
    shell)  exec "${SHELL:-bash}" ;;
    *)      echo "usage: bash scripts/dev.sh sample|test|shell" >&2; exit 2 ;;
esac
