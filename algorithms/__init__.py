"""Host-free core: sources, octree builder, node store, kernels, COPC writer, validator."""
