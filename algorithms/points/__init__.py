"""How points and their frame are held, between the sources and the octree.

    columns.py       Columns: xyz int32, GPS time, the rest of the record
    point_layout.py  the output point format and extra dimensions (PointLayout)
    quantize.py      real coordinates onto the output's int32 grid
    crs.py           CRS helpers: WKT as readers accept it (pyproj imported lazily)
    crs_operations.py  CRS units and axes, the operation PROJ chooses, the grids it lacks
    reprojection.py  real coordinates into the output CRS, chunk by chunk (PROJ on a lattice)
    cube.py          the root cube in the integer frame, Morton codes of its cells
"""
