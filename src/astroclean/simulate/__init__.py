"""The shared simulation core: random generators, the data folder, star fields and PSFs.

Each task keeps its own simulations in its slice (``astroclean.cosmicrays.simulate``,
``astroclean.sources.simulate``, ...); what several need lives here. Everything random takes
``rng`` (a ``numpy.random.Generator`` or a seed).

>>> from astroclean.simulate import as_rng, simulate_star_field
>>> image, truth = simulate_star_field((64, 64), rng=as_rng(0), n_stars=5, n_galaxies=1)   # doctest: +SKIP
"""

from astroclean.simulate.common import as_rng, dilate, read_fits_plane, require_file, resolve_data_dir
from astroclean.simulate.starfield import moffat_psf, simulate_star_field

__all__ = ["as_rng", "dilate", "read_fits_plane", "require_file", "resolve_data_dir", "moffat_psf",
           "simulate_star_field"]
