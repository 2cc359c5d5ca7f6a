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
    if name in ("segment_cirrus", "CirrusResult"):
        from astroclean import cirrus

        return getattr(cirrus, name)
    if name == "infer_cluster_parameters":
        from astroclean.clusters import api

        return api.infer_cluster_parameters
    raise AttributeError(f"module 'astroclean' has no attribute {name!r}")


__all__ = ["Image", "as_image", "detect_cosmic_rays", "clean_cosmic_rays", "CosmicRayDetector",
           "CosmicRayResult", "remove_compact_sources", "SourceRemovalResult", "segment_cirrus", "CirrusResult",
           "infer_cluster_parameters", "__version__"]
