"""Galactic cirrus (issues 11 and 12): mask sources and bright-star light, segment faint dust filaments,
and (issue 12) catalogue the filaments and measure their colours.

>>> from astroclean.cirrus import segment_cirrus   # doctest: +SKIP
>>> result = segment_cirrus(stack, zeropoint=22.5, model="cirrus-gri")   # doctest: +SKIP

Imports are lazy (no torch at ``import astroclean.cirrus``) so the modules of
part 2 (catalogue, colours) slot in beside these.
"""

from __future__ import annotations

__all__ = ["segment_cirrus", "CirrusSegmenter", "CirrusResult", "extract_filaments", "measure_colours",
           "fit_colour_range"]

_LAZY = {"segment_cirrus": "api", "CirrusSegmenter": "api", "CirrusResult": "result",
         "extract_filaments": "catalog", "measure_colours": "colours", "fit_colour_range": "inversion"}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"astroclean.cirrus.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'astroclean.cirrus' has no attribute {name!r}")
