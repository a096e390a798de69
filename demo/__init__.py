"""A synthetic airborne lidar survey, written as LAZ, so there is always
something to convert: the README's first command needs no data at hand.

The scene is a 600 m x 600 m patch of hilly country in ETRS89 / UTM 32N: a
valley with a small lake, a road with a village along it, a farm, forest
stands, garden and roadside trees, meadows with shrubs.  It is "flown" the way
a real survey is: parallel, alternating flight lines with side lap, an
oscillating mirror sweeping the beam across each strip, one GPS time per
pulse and up to five returns per pulse through tree crowns.  Points are
written in acquisition order (GPS time), LAS 1.4 point format 7, coloured
from a synthetic orthophoto of the same scene.

Everything is numpy-vectorised and streamed flight line by flight line, in
blocks of pulses, so memory does not grow with the point count; the same
seed gives the same bytes.

    constants.py   the scene's, the aircraft's and the header's numbers
    scene.py       what the scene holds (buildings, trees, rasters), look-ups
    rasters.py     grid cells, bilinear sampling, fractal noise
    terrain.py     the scene built from a seed: hills, valley, lake, road
    buildings.py   the village and the farm
    trees.py       forest stands, garden trees, the avenue
    orthophoto.py  the colours the points take, the ground's reflectance
    flight.py      flight lines and the scan pattern
    returns.py     what a pulse hits and the points it brings back
    survey.py      the survey flown block by block; the pulse density
    writer.py      write_sample_scene: the header and the point records
"""

from __future__ import annotations

from .constants import (
    ALTITUDE,
    BASE_HEIGHT,
    BLOCK_PULSES,
    CREATION_DATE,
    EPSG,
    GENERATING_SOFTWARE,
    GPS_START,
    HALF_FOV,
    HEADING,
    MARGIN,
    MAX_RETURNS,
    MIN_POINTS,
    ORIGIN,
    SCALE,
    SCAN_ANGLE_UNIT,
    SIDELAP,
    SIZE,
    SPEED,
    SYSTEM_IDENTIFIER,
    TURN_TIME,
)
from .writer import write_sample_scene

__all__ = [
    "ALTITUDE", "BASE_HEIGHT", "BLOCK_PULSES", "CREATION_DATE", "EPSG", "GENERATING_SOFTWARE", "GPS_START",
    "HALF_FOV", "HEADING", "MARGIN", "MAX_RETURNS", "MIN_POINTS", "ORIGIN", "SCALE", "SCAN_ANGLE_UNIT",
    "SIDELAP", "SIZE", "SPEED", "SYSTEM_IDENTIFIER", "TURN_TIME", "write_sample_scene",
]
