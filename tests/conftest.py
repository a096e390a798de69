"""Shared pytest fixtures."""
import os
from pathlib import Path

import pytest

# The team's real LAS/LAZ/COPC files live beside the repository, never in it.
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Folder of real LAS/LAZ/COPC files (see its PROVENANCE.md); skips if absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared test data not found at {SHARED_DATA}")
    return SHARED_DATA


# -- QGIS ------------------------------------------------------------------------
# pytest-qgis starts QGIS before any conftest is read, with its profile in
# <rootdir>/.qgis-settings.  From here on QGIS's settings (and any
# qgis_process a test starts) use a throwaway folder instead, and the
# folder pytest-qgis made in the repository goes when the session ends.
_QGIS_PROFILE_ROOT = None


def _redirect_qgis_profile() -> None:
    global _QGIS_PROFILE_ROOT
    try:
        from qgis.PyQt.QtCore import QSettings
    except ImportError:     # no QGIS on this machine: nothing to redirect
        return
    import tempfile

    _QGIS_PROFILE_ROOT = tempfile.mkdtemp(prefix="copc_builder-qgis-profile-")
    profile = os.path.join(_QGIS_PROFILE_ROOT, "profiles", "default")
    os.makedirs(profile)
    os.environ["QGIS_CUSTOM_CONFIG_PATH"] = _QGIS_PROFILE_ROOT
    os.environ["QGIS_OPTIONS_PATH"] = _QGIS_PROFILE_ROOT
    QSettings.setPath(QSettings.IniFormat, QSettings.UserScope, profile)


_redirect_qgis_profile()


def pytest_unconfigure(config):
    """After QGIS has exited: no profile left in the repository or in /tmp."""
    import shutil

    shutil.rmtree(Path(config.rootpath) / ".qgis-settings", ignore_errors=True)
    if _QGIS_PROFILE_ROOT:
        shutil.rmtree(_QGIS_PROFILE_ROOT, ignore_errors=True)


_PROVIDERS = []   # Python references: a provider's Python half must outlive its registration
_KERNELS = []     # whether the build's kernels were seen compiled in this session


def _kernels_compiled() -> None:
    """Build COPC compiles the kernels first when numba's cache lacks them (saying so in its
    progress texts, which tests check); compiled once here, the tests see ordinary builds.
    The compile itself is tested with a fresh cache (tests/test_qgis_kernels.py)."""
    if not _KERNELS:
        from copc_builder.algorithms.api import kernels_compiled, warm_kernels

        if kernels_compiled() is False:
            warm_kernels()
        _KERNELS.append(True)


@pytest.fixture
def copc_processing():
    """Processing initialised, with the COPC Builder provider registered.

    The provider is looked up in the registry on every use (a test may have
    removed it, e.g. by unloading the plugin) and added again when missing.
    """
    from qgis.core import QgsApplication
    from processing.core.Processing import Processing

    Processing.initialize()
    registry = QgsApplication.processingRegistry()
    provider = registry.providerById("copcbuilder")
    if provider is None:
        from copc_builder.plugin.qgis_provider import CopcBuilderProvider

        provider = CopcBuilderProvider()
        assert registry.addProvider(provider)
        _PROVIDERS[:] = [provider]
    _kernels_compiled()
    return provider


# -- object storage ------------------------------------------------------------------
@pytest.fixture(scope="session")
def s3_server():
    """moto's S3 on loopback behind a front of ours (tests/storage_servers.py),
    one for the session; skips when moto[server] is not installed."""
    pytest.importorskip("boto3")
    pytest.importorskip("moto.server")
    pytest.importorskip("flask")
    from storage_servers import S3Server

    server = S3Server()
    yield server
    server.close()


@pytest.fixture
def s3(s3_server, monkeypatch):
    """The session's S3 server with its AWS variables set for this test, the
    front's counts, faults and kill switch reset, credentials not checked."""
    from storage_servers import storage_env

    storage_env(monkeypatch, s3_server)
    s3_server.front.reset()
    if s3_server.front.killed.is_set():
        s3_server.front.revive()
    yield s3_server
    s3_server.set_auth(False)
    s3_server.front.reset()
    if s3_server.front.killed.is_set():
        s3_server.front.revive()
