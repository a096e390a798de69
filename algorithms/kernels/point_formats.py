"""LAS point data record formats 0 to 10: the one table of sizes and offsets.

Everything that reads or writes point bytes (the kernels, the node store,
the sources, the writer, the validator) takes its numbers from here.  They
are plain module-level constants, so numba compiles the scalar ones into the
kernels as constants.

The node store keeps a point as three columns (see ``point_layout``):
``xyz`` (3 x int32), ``gps`` (float64) and ``rest``: the bytes of a format-6
record from intensity to point source id, then RGB, NIR, extra bytes.
"""

# Size of a record without extra bytes, per point data record format.
RECORD_SIZE = {0: 20, 1: 28, 2: 26, 3: 34, 4: 57, 5: 63,
               6: 30, 7: 36, 8: 38, 9: 59, 10: 67}
COPC_FORMATS = (6, 7, 8)
LEGACY_FORMATS = (0, 1, 2, 3, 4, 5)
WAVEFORM_FORMATS = (4, 5, 9, 10)

# Where each format keeps GPS time, RGB and NIR.
GPS_OFFSET = {1: 20, 3: 20, 4: 20, 5: 20, 6: 22, 7: 22, 8: 22, 9: 22, 10: 22}
RGB_OFFSET = {2: 20, 3: 28, 5: 28, 7: 30, 8: 30, 10: 30}
NIR_OFFSET = {8: 36, 10: 36}

# Formats 6-10, byte offsets in the record.
XYZ_AT = 0
XYZ_SIZE = 12            # X, Y, Z: three int32
INTENSITY_AT = 12
RETURN_AT = 14           # return number (bits 0-3), number of returns (4-7)
FLAGS_AT = 15            # class flags (0-3), scanner channel (4-5), scan direction (6), edge (7)
CLASS_AT = 16
USER_DATA_AT = 17
SCAN_ANGLE_AT = 18       # int16, 0.006-degree units
SOURCE_ID_AT = 20
GPS_AT = 22
GPS_SIZE = 8             # float64
COLOR_AT = 30            # RGB (formats 7, 8), then NIR (format 8)
CORE_AT = INTENSITY_AT   # intensity .. point source id, one block
CORE_SIZE = GPS_AT - CORE_AT
COLOR_SIZE = {6: 0, 7: 6, 8: 8}

# Formats 0-5, byte offsets in the record.
LEGACY_BITS_AT = 14      # return number (0-2), number of returns (3-5), scan direction (6), edge (7)
LEGACY_CLASS_AT = 15     # class (0-4), synthetic, key-point, withheld (5-7)
LEGACY_SCAN_ANGLE_AT = 16    # int8, whole degrees
LEGACY_USER_DATA_AT = 17
LEGACY_SOURCE_ID_AT = 18
SCAN_ANGLE_UNIT = 0.006  # degrees per unit of the format 6-10 scan angle

# Byte offsets inside the node store's ``rest`` column.
REST_INTENSITY = INTENSITY_AT - CORE_AT
REST_RETURN = RETURN_AT - CORE_AT
REST_FLAGS = FLAGS_AT - CORE_AT
REST_CLASS = CLASS_AT - CORE_AT
REST_USER = USER_DATA_AT - CORE_AT
REST_SCAN_ANGLE = SCAN_ANGLE_AT - CORE_AT
REST_SOURCE_ID = SOURCE_ID_AT - CORE_AT
REST_RGB = CORE_SIZE     # formats 7, 8
STORE_FIXED_SIZE = XYZ_SIZE + GPS_SIZE   # the xyz and gps columns, per point
