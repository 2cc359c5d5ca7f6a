"""FITS file names: which names are FITS, and the stem products are named after.

Example
-------
>>> from pathlib import Path
>>> from astroclean.io.paths import is_fits_name, product_stem
>>> is_fits_name(Path("c4d_ooi_z.fits.fz")), product_stem(Path("c4d_ooi_z.fits.fz"))
(True, 'c4d_ooi_z')
"""

from __future__ import annotations

from pathlib import Path

FITS_SUFFIXES = (".fits", ".fit", ".fts", ".fits.fz", ".fits.gz", ".fit.gz", ".fz")


def is_fits_name(path: Path) -> bool:
    """Whether the file name ends with a FITS suffix (compressed ones included)."""
    name = Path(path).name.lower()
    return any(name.endswith(s) for s in FITS_SUFFIXES)


def product_stem(path: Path) -> str:
    """``frame.fits.fz`` -> ``frame``: the stem every product of ``path`` is named after."""
    path = Path(path)
    name = path.name
    for suffix in sorted(FITS_SUFFIXES, key=len, reverse=True):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return path.stem
