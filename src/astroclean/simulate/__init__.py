"""Simulations with their truth: cosmic-ray library and tracks, backgrounds, injection, training sets.

Everything random takes ``rng`` (a ``numpy.random.Generator`` or a seed).

Example
-------
>>> import numpy as np
>>> from astroclean.simulate import load_backgrounds, inject_cosmic_rays
>>> background = load_backgrounds("space", "benchmark")[0]
>>> image, truth = inject_cosmic_rays(background, rng=0, library="benchmark", density=0.005)
>>> truth.mask.shape == image.shape, image.variance is not None
(True, True)
"""

from .backgrounds import FLAVOURS, electrons_per_unit, load_backgrounds, write_benchmark_backgrounds
from .extract import extract_cosmic_rays, mask_spectral_orders
from .far_infrared import FLUX_LEVELS, SourceTruth, inject_point_sources, make_cutout_set, make_source_maps
from .far_infrared_fields import Background, far_ir_backgrounds, synthetic_field
from .far_infrared_psf import Psf, load_pacs_psf
from .inject import CosmicRayTruth, inject_cosmic_rays
from .library import CosmicRayLibrary, CosmicRayStamp, load_cosmic_ray_library
from .sets import CosmicRaySet, make_cosmic_ray_set, read_cosmic_ray_set, write_cosmic_ray_set
from .starfield import moffat_psf, simulate_star_field
from .tracks import KINDS, simulate_cosmic_ray

__all__ = [
    "CosmicRayLibrary", "CosmicRaySet", "CosmicRayStamp", "CosmicRayTruth", "FLAVOURS", "KINDS",
    "electrons_per_unit", "extract_cosmic_rays", "inject_cosmic_rays", "load_backgrounds",
    "load_cosmic_ray_library", "make_cosmic_ray_set", "mask_spectral_orders", "moffat_psf",
    "read_cosmic_ray_set", "simulate_cosmic_ray", "simulate_star_field", "write_benchmark_backgrounds",
    "write_cosmic_ray_set",
    # far-infrared compact sources
    "Background", "FLUX_LEVELS", "Psf", "SourceTruth", "far_ir_backgrounds", "inject_point_sources",
    "load_pacs_psf", "make_cutout_set", "make_source_maps", "synthetic_field",
]
