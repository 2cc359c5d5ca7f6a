"""Cosmic-ray detection and cleaning in single exposures.

>>> from astroclean.cosmicrays import detect_cosmic_rays, CosmicRayDetector   # doctest: +SKIP
"""

from astroclean.cosmicrays.detect import CosmicRayDetector, CosmicRayResult, clean_cosmic_rays, detect_cosmic_rays
from astroclean.cosmicrays.inpaint import fill_masked

__all__ = ["detect_cosmic_rays", "clean_cosmic_rays", "CosmicRayDetector", "CosmicRayResult", "fill_masked"]
