"""Mock cirrus with truth (``astroclean simulate cirrus``).

Lazy: ``fields`` (power-law filamentary fields), ``inject`` (into real frames), ``backgrounds``
(the real frames and their train/benchmark regions), ``cases`` (working-scale cases with truth).
"""

from __future__ import annotations


def __getattr__(name):
    import importlib

    for module in ("fields", "inject", "backgrounds", "cases"):
        mod = importlib.import_module(f"{__name__}.{module}")
        if hasattr(mod, name):
            return getattr(mod, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
