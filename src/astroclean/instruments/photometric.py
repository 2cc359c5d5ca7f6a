"""Zero points and band names from FITS headers (SDSS/Legacy Survey nanomaggies, DES/DECam MAGZERO, HST PHOT*).

A zero point here is the magnitude of one data unit: ``mag = zp - 2.5 log10(data)``.

Example
-------
>>> from astropy.io import fits
>>> zeropoint_from_header(fits.Header({"BUNIT": "nanomaggy"}))
22.5
>>> round(zeropoint_from_header(fits.Header({"PHOTFLAM": 1.0e-19, "PHOTPLAM": 5000.0, "BUNIT": "ELECTRONS/S"})), 3)
26.597
>>> band_from_header(fits.Header({"FILTER": "F438W"})), band_from_name("field_r.fits")
('F438W', 'r')
"""

from __future__ import annotations

import math
import re

__all__ = ["zeropoint_from_header", "band_from_header", "band_from_name", "SDSS_GAINS"]

#: SDSS camera gains (e-/ADU) of g, r, i (the column-averaged values used by the reference cirrus work).
SDSS_GAINS = {"g": 3.85, "r": 4.735, "i": 5.15}
_ZP_KEYS = ("MAGZERO", "MAGZPT", "MAGZP", "PHOTZP", "ZP", "ZEROPT", "ZPT")
_NMGY = ("nanomaggy", "nanomaggies", "nmgy")


def zeropoint_from_header(header) -> float | None:
    """Magnitude of one data unit from the header, or None when it does not say.

    In order: an explicit zero-point keyword (MAGZERO, MAGZPT, PHOTZP, ZP...); nanomaggy units (22.5,
    AB); HST ``PHOTFLAM`` (erg/s/cm2/A per e-/s) with ``PHOTPLAM`` (AB, for data in e-/s; an image in
    electrons also needs EXPTIME).
    """
    if header is None:
        return None
    for key in _ZP_KEYS:
        value = header.get(key)
        if isinstance(value, (int, float)) and math.isfinite(value) and not isinstance(value, bool):
            return float(value)
    unit = str(header.get("BUNIT", "")).strip().lower()
    if any(unit.startswith(n) for n in _NMGY):
        return 22.5
    flam, plam = header.get("PHOTFLAM"), header.get("PHOTPLAM")
    if isinstance(flam, (int, float)) and isinstance(plam, (int, float)) and flam > 0 and plam > 0:
        zp = -2.5 * math.log10(flam) - 5.0 * math.log10(plam) - 2.408  # AB (Sirianni et al. 2005)
        if unit and "/s" not in unit and "electron" in unit:
            exptime = header.get("EXPTIME")
            if not isinstance(exptime, (int, float)) or exptime <= 0:
                return None
            zp += 2.5 * math.log10(exptime)
        return zp
    return None


def band_from_header(header) -> str | None:
    """Filter name from FILTER / FILTER1 / FILTER2 / BAND (HST clear positions skipped), or None."""
    if header is None:
        return None
    for key in ("FILTER", "FILTER1", "FILTER2", "BAND", "FILTNAM1"):
        value = str(header.get(key, "")).strip()
        if value and not value.upper().startswith("CLEAR"):
            return value.split()[0]
    return None


def band_from_name(path) -> str | None:
    """A band letter or HST filter in a file name (``..._g.fits``, ``-image-r.fits.fz``, ``_f814w_``)."""
    name = str(path).rsplit("/", 1)[-1].lower()
    hst = re.search(r"(?<![a-z0-9])(f\d{3,4}[wnmlx])(?![a-z0-9])", name)
    if hst:
        return hst.group(1).upper()
    letter = re.search(r"(?:^|[_\-.])([ugrizy])(?=[_\-.])", name)
    return letter.group(1) if letter else None
