"""Where points come from: LAS/LAZ files, numpy arrays, PDAL pipelines."""
