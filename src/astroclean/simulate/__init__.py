from .library import CosmicRayLibrary, CosmicRayStamp, load_cosmic_ray_library
from .extract import extract_cosmic_rays, mask_spectral_orders
