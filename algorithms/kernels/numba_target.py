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
from contextlib import contextmanager
from typing import Iterator, Sequence

# What numba may load without: it then runs as where they are not installed
# (no np.dot or np.linalg in kernels, no cffi functions).
OPTIONAL_FOR_NUMBA = ("scipy.linalg.cython_blas", "cffi")


@contextmanager
def hidden_modules(names: Sequence[str]) -> Iterator[None]:
    """Inside the block, the modules ``names`` not yet imported are
    unimportable (``None`` in ``sys.modules``, which makes an import raise
    ModuleNotFoundError, an ImportError); after it they import as usual.
    For a process that is all ours only: another thread importing one of
    them meanwhile would fail.  (Here, at the bottom layer, so that
    ``sources.laspy_module`` uses it too.)"""
    hidden = [name for name in names if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None
    try:
        yield
    finally:
        for name in hidden:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]


def load_numba_target(alone: bool = False) -> None:
    """Load numba's CPU target now.  ``alone``: the process runs no numba
    code but ours (the command line; not a host such as QGIS, where other
    plugins may), so numba loads without OPTIONAL_FOR_NUMBA (hidden_modules)."""
    with hidden_modules(OPTIONAL_FOR_NUMBA if alone else ()):
        from numba.core.registry import cpu_target

        cpu_target.target_context.refresh()
