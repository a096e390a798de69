"""The build on a Dask cluster (``--scheduler`` / ``--workers``).

Dask is optional: nothing here imports it at module level, and
``dask_support.import_distributed`` says what to install when it is missing.
"""
