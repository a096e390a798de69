"""Host-free core: sources, octree builder, node store, kernels, COPC writer, validator.

Importing it makes sure pyproj finds PROJ's data (``common/proj_data.py``), before
anything here imports pyproj.
"""
from .common.proj_data import ensure_proj_data

ensure_proj_data()
