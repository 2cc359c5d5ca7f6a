"""Compact-source removal from far-infrared maps.

A partial-convolution U-Net inpaints the background under each source on
96 x 96 cutouts around given positions; the holes are circles whose radius
follows the source's signal-to-noise; what was removed is measured by
aperture photometry.

Example
-------
>>> import numpy as np
>>> from astroclean.sources import extract_cutouts
>>> cut = extract_cutouts(np.zeros((50, 60), "f4"), [10.2], [40.7], size=16)
>>> cut.data.shape, cut.origin[0].tolist()
((1, 16, 16), [33, 2])
"""

from astroclean.sources.cutouts import Cutouts, extract_cutouts


def __getattr__(name):
    # Lazy: the removal imports torch; cutouts, masks and photometry do not.
    if name in ("remove_compact_sources", "SourceRemovalResult"):
        from astroclean.sources import remove

        return getattr(remove, name)
    raise AttributeError(f"module 'astroclean.sources' has no attribute {name!r}")


__all__ = ["Cutouts", "extract_cutouts", "remove_compact_sources", "SourceRemovalResult"]
