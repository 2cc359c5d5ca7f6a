"""Measuring sources: aperture sums with exact sub-pixel weights, encircled energy, the pixel scale of a
WCS, and the source finders: ``find_point_sources`` (isophotal: isolated, round stars on a clean
image) and ``detect_sources`` (matched filter against the noise, for point sources on structured
backgrounds).

>>> from astroclean.photometry import aperture_flux, find_point_sources, pixel_scale_arcsec   # doctest: +SKIP
"""

from astroclean.photometry.apertures import aperture_flux, encircled_energy, pixel_scale_arcsec
from astroclean.photometry.isophotal import SOURCE_DTYPE, find_point_sources
from astroclean.photometry.matched import detect_sources

__all__ = ["aperture_flux", "encircled_energy", "pixel_scale_arcsec", "SOURCE_DTYPE", "find_point_sources", "detect_sources"]
