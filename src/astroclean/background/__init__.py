"""The background and noise of an image: one estimator, one robust scale.

>>> from astroclean.background import background_and_noise, robust_sigma, MAD_TO_SIGMA   # doctest: +SKIP
"""

from astroclean.background.maps import (background_and_noise, block_median, block_statistics, expand_grid,
                                        local_median, noise_map)
from astroclean.background.robust import MAD_TO_SIGMA, robust_sigma

__all__ = ["background_and_noise", "block_median", "block_statistics", "expand_grid", "local_median", "noise_map",
           "robust_sigma", "MAD_TO_SIGMA"]
