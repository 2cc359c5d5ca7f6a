"""astroclean: find and remove what contaminates astronomical images.

>>> from astroclean import detect_cosmic_rays   # doctest: +SKIP
>>> result = detect_cosmic_rays(image, model="ground", threshold=0.5)  # doctest: +SKIP
>>> from astroclean import remove_compact_sources  # doctest: +SKIP
>>> result = remove_compact_sources(image, positions, wcs=wcs, model="pacs-blue")  # doctest: +SKIP
"""

__version__ = "0.1.0"

from astroclean.image import Image, as_image  # noqa: E402


def __getattr__(name):
    # Lazy: importing astroclean must not import torch (CLI start-up, metrics-only users).
    if name in ("detect_cosmic_rays", "clean_cosmic_rays", "CosmicRayDetector", "CosmicRayResult"):
        from astroclean import cosmicrays

        return getattr(cosmicrays, name)
    if name in ("remove_compact_sources", "SourceRemovalResult"):
        from astroclean.sources import remove

        return getattr(remove, name)
    raise AttributeError(f"module 'astroclean' has no attribute {name!r}")


__all__ = ["Image", "as_image", "detect_cosmic_rays", "clean_cosmic_rays", "CosmicRayDetector",
           "CosmicRayResult", "remove_compact_sources", "SourceRemovalResult", "__version__"]
