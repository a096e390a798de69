"""Where each LAS point format keeps its fields: the one table, as the sources use it."""
from ..kernels.point_formats import GPS_OFFSET, LEGACY_FORMATS, NIR_OFFSET, RGB_OFFSET, WAVEFORM_FORMATS

__all__ = ["GPS_OFFSET", "LEGACY_FORMATS", "NIR_OFFSET", "RGB_OFFSET", "WAVEFORM_FORMATS"]
