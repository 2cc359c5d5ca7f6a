"""File names and checksums: which names are FITS, the stem products are named after, which names are
our products, the package data folder, a file's sha256.

Example
-------
>>> from pathlib import Path
>>> from astroclean.io.paths import is_fits_name, is_product_name, product_stem
>>> is_fits_name(Path("c4d_ooi_z.fits.fz")), product_stem(Path("c4d_ooi_z.fits.fz"))
(True, 'c4d_ooi_z')
>>> is_product_name(Path("c4d_ooi_z.cr.fits")), is_product_name(Path("c4d_ooi_z.fits"))
(True, False)
"""

from __future__ import annotations

import hashlib
from pathlib import Path

#: The package's own data folder (shipped backgrounds, cosmic-ray library, PSFs).
PACKAGE_DATA = Path(__file__).resolve().parent.parent / "data"

FITS_SUFFIXES = (".fits", ".fit", ".fts", ".fits.fz", ".fits.gz", ".fit.gz", ".fz")

# The name endings of every product a task writes (each registered task adds its own, ``Task.products``).
# A folder or glob given as input never yields a file with one of these names: products are never inputs.
PRODUCT_SUFFIXES = [".quicklook.png"]


def register_product_suffix(suffix: str) -> None:
    """Declare the name ending of a new product kind, so that input expansion skips such files."""
    if suffix not in PRODUCT_SUFFIXES:
        PRODUCT_SUFFIXES.append(suffix)


def is_fits_name(path: Path) -> bool:
    """Whether the file name ends with a FITS suffix (compressed ones included)."""
    name = Path(path).name.lower()
    return any(name.endswith(s) for s in FITS_SUFFIXES)


def is_product_name(path: Path) -> bool:
    """Whether the file name is one astroclean gives its products (``<stem>.cr.fits``, ``<stem>_nosources.fits``, ...)."""
    name = Path(path).name.lower()
    return any(name.endswith(s) for s in PRODUCT_SUFFIXES)


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


def printable(text) -> str:
    """``text`` (a path or name) as a str any terminal, SQLite or log can hold.

    File names that are not valid UTF-8 reach Python as lone surrogates (``surrogateescape``); they are
    shown as ``\\xNN`` escapes instead of making ``print`` or ``sqlite3`` raise.
    """
    text = str(text)
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
