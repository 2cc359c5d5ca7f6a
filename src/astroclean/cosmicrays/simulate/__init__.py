"""Cosmic-ray simulations with their truth: the library of real hits, tracks, backgrounds, injection, sets.

Everything random takes ``rng`` (a ``numpy.random.Generator`` or a seed).

Example
-------
>>> from astroclean.cosmicrays.simulate import load_backgrounds, inject_cosmic_rays
>>> background = load_backgrounds("space", "benchmark")[0]
>>> image, truth = inject_cosmic_rays(background, rng=0, library="benchmark", density=0.005)
>>> truth.mask.shape == image.shape, image.variance is not None
(True, True)
"""

from astroclean.cosmicrays.simulate.backgrounds import (FLAVOURS, electrons_per_unit, load_backgrounds,
                                                        write_benchmark_backgrounds)
from astroclean.cosmicrays.simulate.extract import extract_cosmic_rays, mask_spectral_orders
from astroclean.cosmicrays.simulate.inject import CosmicRayTruth, inject_cosmic_rays
from astroclean.cosmicrays.simulate.library import CosmicRayLibrary, CosmicRayStamp, load_cosmic_ray_library
from astroclean.cosmicrays.simulate.sets import (CosmicRaySet, make_cosmic_ray_set, read_cosmic_ray_set,
                                                 write_cosmic_ray_set)
from astroclean.cosmicrays.simulate.tracks import KINDS, simulate_cosmic_ray

__all__ = [
    "CosmicRayLibrary", "CosmicRaySet", "CosmicRayStamp", "CosmicRayTruth", "FLAVOURS", "KINDS",
    "electrons_per_unit", "extract_cosmic_rays", "inject_cosmic_rays", "load_backgrounds",
    "load_cosmic_ray_library", "make_cosmic_ray_set", "mask_spectral_orders", "read_cosmic_ray_set",
    "simulate_cosmic_ray", "write_benchmark_backgrounds", "write_cosmic_ray_set",
]
