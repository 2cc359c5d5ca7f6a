from .library import CosmicRayLibrary, CosmicRayStamp, load_cosmic_ray_library
from .extract import extract_cosmic_rays, mask_spectral_orders
from .tracks import simulate_cosmic_ray, KINDS
from .backgrounds import load_backgrounds, write_benchmark_backgrounds, FLAVOURS, electrons_per_unit
from .starfield import simulate_star_field, moffat_psf
