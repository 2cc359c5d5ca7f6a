"""Far-infrared simulations with their truth: backgrounds, point-source injection, training cutouts.

>>> from astroclean.sources.simulate import make_source_maps   # doctest: +SKIP
"""

from astroclean.sources.simulate.fields import Background, far_ir_backgrounds, synthetic_field
from astroclean.sources.simulate.maps import (FLUX_LEVELS, SourceTruth, inject_point_sources, make_cutout_set,
                                              make_source_maps)

__all__ = ["Background", "FLUX_LEVELS", "SourceTruth", "far_ir_backgrounds", "inject_point_sources",
           "make_cutout_set", "make_source_maps", "synthetic_field"]
