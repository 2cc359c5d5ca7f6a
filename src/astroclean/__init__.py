"""astroclean: find and remove what contaminates astronomical images.

>>> from astroclean import detect_cosmic_rays   # doctest: +SKIP
>>> result = detect_cosmic_rays(image, model="ground", threshold=0.5)  # doctest: +SKIP
"""

__version__ = "0.1.0"

from .image import Image, as_image  # noqa: E402

__all__ = ["Image", "as_image", "__version__"]
