"""FITS input and output.

>>> from astroclean.io import read_image, read_images, write_fits   # doctest: +SKIP
"""

from astroclean.io.dq import dq_to_mask
from astroclean.io.npz import load_npz, save_npz
from astroclean.io.read import list_images, read_image, read_images
from astroclean.io.bands import read_bands
from astroclean.io.write import atomic_write, check_writable, provenance_cards, write_fits

__all__ = ["read_image", "read_images", "read_bands", "list_images", "write_fits", "atomic_write", "check_writable", "provenance_cards",
           "dq_to_mask", "save_npz", "load_npz"]
