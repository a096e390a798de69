"""One exception root with narrow subclasses.

Every message is meant for a person: it names the file (or option) and the
problem, with the numbers that show it ("header says 1065 points, file holds
0").  Hosts (command line, QGIS, PDAL stage) print ``str(error)`` as is.
"""


class CopcBuilderError(Exception):
    """Root of every error this package raises on purpose."""


class InputError(CopcBuilderError):
    """An input (file, array, pipeline) cannot be converted."""

    def __init__(self, source: str, problem: str):
        self.source = str(source)
        self.problem = problem
        super().__init__(f"{self.source}: {problem}")

    def __reduce__(self):
        """Pickled as (source, problem): the cluster build sends errors from its workers."""
        return type(self), (self.source, self.problem)


class MalformedCopcError(InputError):
    """A file's bytes do not hold what the LAS/LAZ/COPC specs say they must."""


class OutputError(CopcBuilderError):
    """The output file (or the temp folder) cannot be written."""

    def __init__(self, path: str, problem: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")

    def __reduce__(self):
        return type(self), (self.path, self.problem)


class OptionError(CopcBuilderError):
    """A user option is invalid (scale <= 0, unknown CRS, bad size...)."""


class DependencyError(CopcBuilderError):
    """An optional dependency (pdal...) is missing; says what to install."""


class ClusterError(CopcBuilderError):
    """The Dask cluster cannot run the build: no scheduler at the address, a
    worker that cannot see the work folder or an input, a task that failed."""


class BuildCancelled(CopcBuilderError):
    """The build was cancelled by the caller; nothing was left behind."""

    def __init__(self, message: str = "build cancelled"):
        super().__init__(message)
