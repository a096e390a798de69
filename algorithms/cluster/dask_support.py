"""The optional ``distributed`` package: a guarded import with one message
saying what to install.  Nothing here imports Dask at module level."""
from __future__ import annotations

import sys
from typing import Optional

from ..common.errors import DependencyError

DASK_INSTALL = "pip install 'dask[distributed]' (or 'pip install copc-builder[dask]')"


def dask_missing_message(reason: Optional[str] = None) -> str:
    """The one message for every host when Dask cannot be imported."""
    why = f" ({reason})" if reason and "No module named" not in reason else ""
    return (f"--scheduler and --workers run the build on a Dask cluster, which needs the "
            f"dask[distributed] package; this Python ({sys.executable}) cannot import it{why}: "
            f"{DASK_INSTALL}")


def import_distributed():
    """The ``distributed`` module, or DependencyError saying what to install."""
    try:
        import distributed
    except (ImportError, OSError) as exc:
        raise DependencyError(dask_missing_message(str(exc))) from None
    return distributed
