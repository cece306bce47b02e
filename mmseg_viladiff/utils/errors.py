"""Exceptions the tools turn into one clear message instead of a traceback."""


class DataError(Exception):
    """Input data is missing or malformed (paths, split files, datasets).

    ``tools/train.py`` and ``tools/test.py`` print its message and exit with
    status 1, since a stack trace adds nothing to "this file is missing".
    """


class ConfigError(ValueError):
    """A config value is out of range or inconsistent; the message names the
    key. Like :class:`DataError`, the tools print it without a traceback."""
