"""numba's CPU target, loaded before the first kernel call.

The first kernel call of a process, even one loaded from the cache, loads
numba's typing and lowering registries (about a hundred numba modules).
Two of them load optional packages when these are installed, as they are in
Debian's Python and in QGIS's: ``numba.np.arraymath`` probes SciPy's BLAS
(``import scipy.linalg.cython_blas``, which imports scipy.linalg and
scipy.sparse: 0.1 to 0.2 s) so that kernels may call ``np.dot``, and
``numba.core.typing.cffi_utils`` imports cffi (and pycparser) so that kernels
may call cffi functions.  Our kernels do neither.

Importing this module runs the package's __init__, which chooses numba's
cache folder first.
"""
from __future__ import annotations

import sys

# What numba may load without: it then runs as where they are not installed
# (no np.dot or np.linalg in kernels, no cffi functions).
OPTIONAL_FOR_NUMBA = ("scipy.linalg.cython_blas", "cffi")


def load_numba_target(alone: bool = False) -> None:
    """Load numba's CPU target now.  ``alone``: the process runs no numba
    code but ours (the command line; not a host such as QGIS, where other
    plugins may), so numba loads without OPTIONAL_FOR_NUMBA: they are
    unimportable while it loads (``None`` in ``sys.modules``, which makes an
    import raise ImportError) and importable again after it."""
    blocked = [name for name in OPTIONAL_FOR_NUMBA if name not in sys.modules] if alone else []
    for name in blocked:
        sys.modules[name] = None
    try:
        from numba.core.registry import cpu_target

        cpu_target.target_context.refresh()
    finally:
        for name in blocked:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]
