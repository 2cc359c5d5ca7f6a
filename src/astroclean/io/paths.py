"""File names and checksums: which names are FITS, the stem products are named after, the package
data folder, a file's sha256.

Example
-------
>>> from pathlib import Path
>>> from astroclean.io.paths import is_fits_name, product_stem
>>> is_fits_name(Path("c4d_ooi_z.fits.fz")), product_stem(Path("c4d_ooi_z.fits.fz"))
(True, 'c4d_ooi_z')
"""

from __future__ import annotations

import hashlib
from pathlib import Path

#: The package's own data folder (shipped backgrounds, cosmic-ray library, PSFs).
PACKAGE_DATA = Path(__file__).resolve().parent.parent / "data"

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


def product_name(unit, suffix: str) -> str:
    """``frame.fits.fz`` -> ``frame<suffix>``, tagged ``.<HDU>[_p<plane>]`` when the file has several images."""
    stem = product_stem(Path(unit.path))
    if unit.n_in_file > 1:
        stem += "." + unit.hdu.replace(",", "_") + ("" if unit.plane is None else f"_p{unit.plane}")
    return stem + suffix


def file_sha256(path, *, chunk: int = 1 << 20) -> str:
    """SHA-256 of a file, streamed in 1 MiB chunks (memory does not grow with the file)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()
