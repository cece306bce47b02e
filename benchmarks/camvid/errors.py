"""The one error of the CamVid benchmark: the command line prints its
message, without a traceback."""


class BenchmarkError(Exception):
    """A precondition of a run is not met (message says what to do)."""
