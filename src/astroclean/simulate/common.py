"""Small helpers shared by every simulation: ``as_rng``, the real-data folder, one-plane reads, dilation."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from scipy import ndimage as ndi

from astroclean.errors import AstrocleanFileError, AstrocleanValueError

DATA_DIR_ENV = "ASTROCLEAN_DATA_DIR"

from astroclean.io.paths import PACKAGE_DATA  # noqa: E402,F401  (re-exported for the simulations)


def as_rng(rng) -> np.random.Generator:
    """Return a Generator from a Generator, an int seed, a SeedSequence or None."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or isinstance(rng, (int, np.integer, np.random.SeedSequence)):
        return np.random.default_rng(rng)
    raise AstrocleanValueError(
        f"rng must be a numpy.random.Generator, an int seed or None, got {type(rng).__name__}; "
        "pass e.g. rng=numpy.random.default_rng(0)"
    )


def resolve_data_dir(data_dir=None, *, need: str = "") -> Path:
    """Find the real-data folder: the argument, else $ASTROCLEAN_DATA_DIR (library code names no checkout path).

    Raises
    ------
    AstrocleanFileError
        When none of the candidates exists; the message says how to point at it.
    """
    candidates = []
    if data_dir is not None:
        candidates.append(Path(data_dir))
    elif os.environ.get(DATA_DIR_ENV):
        candidates.append(Path(os.environ[DATA_DIR_ENV]))
    for cand in candidates:
        if cand.is_dir():
            return cand
    what = f" ({need})" if need else ""
    looked = f"looked in {', '.join(str(c) for c in candidates)}" if candidates else "none was given"
    raise AstrocleanFileError(
        f"real-data folder not found{what}: {looked}; "
        f"pass data_dir=... or set the environment variable {DATA_DIR_ENV} to the folder that "
        "holds cosmic_rays/, hst/, optical/ and far_infrared/"
    )


def require_file(path: Path) -> Path:
    if not Path(path).is_file():
        raise AstrocleanFileError(
            f"missing input file {path}; check data_dir / ${DATA_DIR_ENV} "
        )
    return Path(path)


def _inherit(header, primary):
    """Copy primary-header keywords missing from an extension header (INHERIT = T)."""
    skip = {"SIMPLE", "EXTEND", "NAXIS", "BITPIX", "COMMENT", "HISTORY", ""}
    for key, value in primary.items():
        if key not in header and key not in skip and len(key) <= 8:
            header[key] = value


def read_fits_plane(path, *, hdu=None):
    """Read one image plane and its header: ``(data float array, header)``.

    The pixels come from :func:`astroclean.io.read_image` (the package's one
    reader); primary-header keywords missing from an extension header are
    inherited, as DECam CP files intend. Weight and DQ planes are read
    explicitly by callers.
    """
    from astroclean.io import read_image

    img = read_image(require_file(Path(path)), hdu=hdu)
    header = img.header.copy()
    primary = img.meta.get("primary_header")
    if primary is not None and primary is not img.header:
        _inherit(header, primary)
    return np.array(img.data, dtype=np.float64), header


def dilate(mask, *, iterations: int = 1) -> np.ndarray:
    """Binary dilation with the 3x3 square (8-connected) structuring element."""
    return ndi.binary_dilation(mask, structure=np.ones((3, 3), bool), iterations=iterations)
