"""The numbers of the sample scene: the square and its place on Earth, the
aircraft and scanner, the fixed header fields, the targets a pulse can hit,
their LAS classes, and the sun that lights the orthophoto.
"""

from __future__ import annotations

import datetime
import math
import uuid

import numpy as np


# --- the scene ---------------------------------------------------------------
SIZE = 600.0  # side of the square scene, metres
MARGIN = 30.0  # rasters reach past the square (edge trees, displaced returns)
ORIGIN = (467_000.0, 5_552_000.0)  # local (0, 0), metres in EPSG:25832
EPSG = 25832  # ETRS89 / UTM zone 32N
SCALE = 0.01
BASE_HEIGHT = 165.0  # metres above sea level, roughly the Rhine-Main hills

# --- the acquisition ---------------------------------------------------------
SPEED = 60.0  # aircraft ground speed, m/s
ALTITUDE = 350.0  # flying height above the mean terrain, m
HALF_FOV = math.radians(20.0)  # mirror swings +-20 degrees
HEADING = math.radians(12.0)  # flight lines run 12 degrees east of north
SIDELAP = 0.30  # neighbouring strips overlap by 30 % of a swath
TURN_TIME = 95.0  # seconds between the end of a line and the next start
GPS_START = 305_112_000.0  # adjusted standard GPS time (GPS seconds - 1e9)
MAX_RETURNS = 5
MIN_POINTS = 100  # below this the scan pattern is too coarse to hold a scene
BLOCK_PULSES = 1 << 16  # pulses simulated (and written) at a time
SCAN_ANGLE_UNIT = 0.006  # LAS 1.4 scan angle increment, degrees

# --- fixed header fields, so a seed always gives the same bytes --------------
SYSTEM_IDENTIFIER = "copc_builder synthetic survey"
GENERATING_SOFTWARE = "copc_builder sample_scene"
CREATION_DATE = datetime.date(2024, 6, 3)
_GUID_NAMESPACE = uuid.UUID("6f1c2b9e-3d0a-4c5e-9b7a-2f8e1d4c6a35")

# Pulse targets (what the beam hits first).
_GROUND, _ROOF, _TREE, _WATER, _SHRUB, _HIGH_NOISE, _LOW_NOISE = range(7)

# LAS 1.4 classes.
_C_LOW_VEG, _C_MED_VEG, _C_HIGH_VEG = 3, 4, 5
_C_GROUND, _C_BUILDING, _C_LOW_NOISE, _C_WATER, _C_HIGH_NOISE = 2, 6, 7, 9, 18

# Chance of 1..5 returns for a pulse that enters a crown.
_TREE_RETURNS_CDF = np.cumsum([0.12, 0.28, 0.30, 0.20, 0.10])
_MIN_RETURN_SEPARATION = 1.5  # metres: closer echoes merge in the detector

_SUN_AZIMUTH = math.radians(160.0)
_SUN_ELEVATION = math.radians(50.0)
