"""Galactic cirrus (issues 11 and 12): mask sources and bright-star light, segment faint dust filaments,
and (issue 12) catalogue the filaments and measure their colours.

>>> from astroclean.cirrus import segment_cirrus   # doctest: +SKIP
>>> result = segment_cirrus(stack, zeropoint=22.5, model="cirrus-gri")   # doctest: +SKIP

Imports are lazy (no torch at ``import astroclean.cirrus``) so the modules of
part 2 (catalogue, colours) slot in beside these.
"""

from __future__ import annotations

__all__ = ["segment_cirrus", "CirrusSegmenter", "CirrusResult"]


def __getattr__(name):
    if name in ("segment_cirrus", "CirrusSegmenter"):
        from astroclean.cirrus import api

        return getattr(api, name)
    if name == "CirrusResult":
        from astroclean.cirrus.result import CirrusResult

        return CirrusResult
    raise AttributeError(f"module 'astroclean.cirrus' has no attribute {name!r}")
