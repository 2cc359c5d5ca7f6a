"""Package exceptions.

Each error also inherits from the matching builtin, so ``except ValueError``
keeps working for callers who do not know about astroclean (GalSim's habit).
"""


class AstrocleanError(Exception):
    """Base class of every error raised by astroclean."""


class AstrocleanValueError(AstrocleanError, ValueError):
    """A value given by the caller is unusable; the message says how to fix it."""


class AstrocleanFileError(AstrocleanError, OSError):
    """A file cannot be read or written; the message names the file and the fix."""


class AstrocleanKeyError(AstrocleanError, KeyError):
    """A name (model, HDU, column) is unknown; the message lists the known ones."""

    def __str__(self):  # KeyError quotes its message; keep it readable
        return str(self.args[0]) if self.args else ""
