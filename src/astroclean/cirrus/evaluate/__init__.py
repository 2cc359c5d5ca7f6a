"""Cirrus benchmark (``astroclean evaluate cirrus``): lazy; see ``benchmark``."""

from __future__ import annotations


def __getattr__(name):
    import importlib

    mod = importlib.import_module(f"{__name__}.benchmark")
    if hasattr(mod, name):
        return getattr(mod, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
