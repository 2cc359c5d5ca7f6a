"""Three-band WFC3/UVIS input: reading, band and unit checks, zero points.

Both functions return the floor's :class:`~astroclean.image.ImageStack`. The reader stays here (not
``astroclean.io.read_bands``) because the model needs Vega zero points and the F336W/F438W/F814W checks.

Zero points are Vega magnitudes of 1 data unit. From HST headers: ``ZP = -2.5 log10(PHOTFLAM) - 21.10
- m_ST(Vega)`` with m_ST(Vega) from the vendored throughputs; data in electrons are divided by EXPTIME.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.wcs import WCS

from astroclean.errors import AstrocleanFileError, AstrocleanValueError
from astroclean.image import ImageStack
from astroclean.clusters.tables import BANDS, tables

PIVOT_TOLERANCE = 0.03


def photflam_zeropoint(photflam: float, band: str) -> float:
    """Vega zero point (mag of 1 e-/s) from PHOTFLAM [erg/s/cm2/A per e-/s]."""
    b = BANDS.index(band)
    return float(-2.5 * np.log10(photflam) - 21.10 - tables().st_mag_of_vega[b])


def model_photflam(band: str) -> float:
    """PHOTFLAM implied by the vendored throughput of ``band`` (for tests and synthetic headers)."""
    t = tables()
    b = BANDS.index(band)
    lam, thr = t.raw["wavelength"].astype(float), t.raw["throughput"][b].astype(float)
    h_c = 6.62607015e-27 * 2.99792458e18
    return float(h_c / (t.raw["hst_area_cm2"] * np.trapezoid(thr * lam, lam)))


def _filter_of(header) -> str | None:
    """The filter named by FILTER / FILTER1 / FILTER2, else by PHOTMODE (HLA mosaics: 'WFC3 UVIS2 F475W CAL')."""
    for key in ("FILTER", "FILTER1", "FILTER2"):
        value = str(header.get(key, "")).strip().upper()
        if value.startswith("F") and not value.startswith("FR") and value[1:4].isdigit():
            return value
    for token in str(header.get("PHOTMODE", "")).upper().split():
        if token.startswith("F") and not token.startswith("FR") and token[1:4].isdigit():
            return token
    return None


def _filter_from_name(source: str) -> str | None:
    import re
    found = re.findall(r"(?<![a-z0-9])(f\d{3}[wmnlx]p?)(?![a-z0-9])", Path(source).name.lower())
    return found[-1].upper() if found else None


def check_band(header, band: str, *, source: str = "") -> None:
    """Raise when FILTER, PHOTPLAM or (without both) the file name contradict ``band``."""
    where = f" ({source})" if source else ""
    filt = _filter_of(header)
    if filt is None and not header.get("PHOTPLAM") and source:
        named = _filter_from_name(source)
        if named is not None and named != band:
            raise AstrocleanValueError(f"expected band {band}, but the file name says {named}{where} (no FILTER or "
                                       f"PHOTPLAM in the header); the model needs {', '.join(BANDS)}")
    if filt is not None and filt != band:
        raise AstrocleanValueError(f"expected band {band}, but the header (FILTER/PHOTMODE) says {filt}{where}; the model needs "
                                   f"{', '.join(BANDS)} (in that order, or files named <field>_f336w.fits, ...)")
    plam = header.get("PHOTPLAM")
    if plam:
        pivot = float(tables().pivot[BANDS.index(band)])
        if abs(float(plam) / pivot - 1) > PIVOT_TOLERANCE:
            raise AstrocleanValueError(f"expected band {band} (pivot {pivot:.0f} A), but PHOTPLAM is {float(plam):.0f} A"
                                       f"{where}; the model needs F336W, F438W, F814W")


def _image_hdu(hdul):
    for hdu in hdul:
        if hdu.data is not None and getattr(hdu.data, "ndim", 0) == 2:
            return hdu
    raise AstrocleanFileError(f"no 2-D image in {hdul.filename()}")


def _zeropoint_from_header(header, band, source):
    if header.get("PHOTFLAM"):
        return photflam_zeropoint(float(header["PHOTFLAM"]), band)
    for key in ("MAGZERO", "MAGZPT", "ZP"):
        if key in header:
            return float(header[key])
    raise AstrocleanValueError(f"no zero point in {source}: no PHOTFLAM, MAGZERO, MAGZPT or ZP keyword; pass "
                               "zeropoints=(zp336, zp438, zp814) as Vega magnitudes of one data unit")


def read_uvis_bands(paths, *, zeropoints=None) -> ImageStack:
    """Read the F336W, F438W, F814W images (one file each, same grid) into an :class:`~astroclean.image.ImageStack`."""
    paths = list(paths)
    if len(paths) != 3:
        raise AstrocleanValueError(f"need three images (F336W, F438W, F814W), got {len(paths)}")
    planes, zps, headers, wcs = [], [], [], None
    for band, path in zip(BANDS, paths):
        try:
            with fits.open(path) as hdul:
                hdu = _image_hdu(hdul)
                header = hdul[0].header.copy()
                header.update({k: v for k, v in hdu.header.items() if k not in ("", "COMMENT", "HISTORY")})
                data = hdu.data.astype(np.float32)
        except OSError as exc:
            raise AstrocleanFileError(f"cannot read {path}: {exc}") from exc
        check_band(header, band, source=str(path))
        unit = str(header.get("BUNIT", "")).strip().upper()
        if unit in ("ELECTRONS", "ELECTRON") and header.get("EXPTIME"):
            data = data / float(header["EXPTIME"])
        elif unit and unit not in ("ELECTRONS/S", "ELECTRON/S", "E-/S", "COUNTS/S") and zeropoints is None:
            raise AstrocleanValueError(f"unknown unit BUNIT={unit!r} in {path}; the model needs e-/s (or "
                                       "electrons with EXPTIME); pass zeropoints=... for other units")
        zps.append(None if zeropoints is not None else _zeropoint_from_header(header, band, str(path)))
        if planes and data.shape != planes[0].shape:
            raise AstrocleanValueError(f"{path} has shape {data.shape}, but the first band has {planes[0].shape}; "
                                       "the bands must be on one grid (drizzle them to a common frame)")
        if wcs is None:
            try:
                w = WCS(header, naxis=2)
                wcs = w if w.has_celestial else None
            except Exception:  # noqa: BLE001 - a broken WCS just means x/y positions only
                wcs = None
        planes.append(data)
        headers.append(header)
    scale = None
    if wcs is not None:
        from astropy.wcs.utils import proj_plane_pixel_scales
        scale = float(np.mean(proj_plane_pixel_scales(wcs)) * 3600)
    data = np.stack(planes)
    return ImageStack(data=data, mask=~np.isfinite(data), bands=BANDS, zeropoints=tuple(zeropoints or zps),
                      units=("electron/s",) * len(BANDS), wcs=wcs, pixel_scale=scale, headers=tuple(headers),
                      names=tuple(str(p) for p in paths))


def as_band_stack(stack, *, bands=None, zeropoints=None, pixel_scale=None) -> ImageStack:
    """Accept an ImageStack (or a look-alike), three paths or a (3, y, x) array; an ImageStack in the model's band order."""
    if isinstance(stack, (list, tuple)) and len(stack) and isinstance(stack[0], (str, bytes)) or \
            (isinstance(stack, (list, tuple)) and len(stack) and hasattr(stack[0], "__fspath__")):
        return read_uvis_bands(stack, zeropoints=zeropoints)
    if hasattr(stack, "data") and hasattr(stack, "bands"):
        data = np.asarray(stack.data, np.float32)
        given = tuple(str(b).upper() for b in stack.bands)
        zps = zeropoints if zeropoints is not None else getattr(stack, "zeropoints", None)
        mask = getattr(stack, "mask", None)
        wcs = getattr(stack, "wcs", None)
        pixel_scale = pixel_scale or getattr(stack, "pixel_scale", None)
    else:
        data = np.asarray(stack, np.float32)
        given = tuple(str(b).upper() for b in (bands or BANDS))
        zps, mask, wcs = zeropoints, None, None
    if data.ndim != 3:
        raise AstrocleanValueError(f"stack data must be (band, y, x), got shape {data.shape}")
    missing = [b for b in BANDS if b not in given]
    if missing:
        raise AstrocleanValueError(f"bands {missing} missing: the model needs {list(BANDS)}, got {list(given)}")
    order = [given.index(b) for b in BANDS]
    if zps is None or any(z is None for z in zps):
        raise AstrocleanValueError("unknown zero points: pass zeropoints=(zp336, zp438, zp814) as Vega magnitudes "
                                   "of one data unit (for e-/s data: the Vega zero points of the instrument)")
    zps = tuple(float(zps[i]) for i in order) if len(zps) == len(given) else tuple(float(z) for z in zps)
    data = data[order]
    mask = ~np.isfinite(data) if mask is None else np.asarray(mask, bool)[order] | ~np.isfinite(data)
    return ImageStack(data=data, mask=mask, bands=BANDS, zeropoints=zps, wcs=wcs, pixel_scale=pixel_scale)


def read_catalog(path, *, one_based=False, wcs=None):
    """(positions (N, 2) pixel x, y or SkyCoord, ids) from a CSV/ECSV catalogue."""
    from astropy.table import Table

    path = Path(path)
    if not path.is_file():
        raise AstrocleanFileError(f"catalogue {path} not found")
    fmt = "ascii.ecsv" if path.suffix == ".ecsv" else "ascii.csv"
    try:
        tab = Table.read(path, format=fmt)
    except Exception as exc:  # noqa: BLE001 - astropy raises many types for a malformed table
        raise AstrocleanValueError(f"cannot read catalogue {path} as {fmt}: {exc}") from exc
    names = {c.lower(): c for c in tab.colnames}
    ids = np.asarray(tab[names["id"]]) if "id" in names else np.arange(len(tab))
    if "x" in names and "y" in names:
        pos = np.stack([np.asarray(tab[names["x"]], float), np.asarray(tab[names["y"]], float)], 1)
        return (pos - 1.0 if one_based else pos), ids
    if "ra" in names and "dec" in names:
        from astropy.coordinates import SkyCoord
        return SkyCoord(np.asarray(tab[names["ra"]], float), np.asarray(tab[names["dec"]], float), unit="deg"), ids
    raise AstrocleanValueError(f"catalogue {path} needs columns x, y or ra, dec; it has {tab.colnames}")
