"""Where each LAS point format keeps its fields (byte offsets, sizes)."""

WAVEFORM_FORMATS = (4, 5, 9, 10)
LEGACY_FORMATS = (0, 1, 2, 3, 4, 5)
GPS_OFFSET = {1: 20, 3: 20, 4: 20, 5: 20, 6: 22, 7: 22, 8: 22, 9: 22, 10: 22}
RGB_OFFSET = {2: 20, 3: 28, 5: 28, 7: 30, 8: 30, 10: 30}
NIR_OFFSET = {8: 36, 10: 36}
