"""Assemble and validate the multi-band input of the cirrus task.

Accepts an ``ImageStack`` (floor), a (band, y, x) array, a list of 2-D arrays
or ``Image`` objects, or FITS paths (one band per file, or one cube). Every
problem raises :class:`~astroclean.errors.AstrocleanValueError` naming the band,
the problem and the fix, before anything is computed or written.

TODO(floor): file reading moves to ``astroclean.io.read_bands`` once it lands.

Example
-------
>>> import numpy as np
>>> from astroclean.cirrus.inputs import as_cirrus_stack
>>> s = as_cirrus_stack(np.random.default_rng(0).normal(size=(3, 16, 16)), zeropoint=22.5, pixel_scale=0.4)
>>> s.bands, s.data.shape
(('g', 'r', 'i'), (3, 16, 16))
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from astroclean.errors import AstrocleanFileError, AstrocleanValueError

__all__ = ["CirrusStack", "as_cirrus_stack", "read_band_files"]

_ZP_KEYS = ("MAGZERO", "MAGZPT", "ZP", "ZEROPT", "MAGZP")


@dataclass(frozen=True)
class CirrusStack:
    """The validated input: float32 (band, y, x) data, NaN where bad."""

    data: np.ndarray
    bands: tuple
    zeropoints: tuple
    pixel_scale: float
    wcs: object = None
    headers: tuple = ()
    names: tuple = ()
    meta: dict = field(default_factory=dict)


def _band_from(name: str, header) -> str | None:
    if header is not None:
        for key in ("BAND", "FILTER"):
            v = header.get(key)
            if isinstance(v, str) and v.strip():
                return v.strip().split()[0]
    m = re.search(r"[_\-.]([ugrizyY])(?:[_\-.]|\.fits)", Path(name).name)
    return m.group(1) if m else None


def _zeropoint_from(header) -> float | None:
    if header is None:
        return None
    for key in _ZP_KEYS:
        if key in header:
            try:
                return float(header[key])
            except (TypeError, ValueError):
                pass
    unit = str(header.get("BUNIT", "")).lower()
    if "nanomag" in unit or "nmgy" in unit or "NMGY" in header:
        return 22.5
    if "PHOTFLAM" in header:
        photflam, photzpt = float(header["PHOTFLAM"]), float(header.get("PHOTZPT", -21.10))
        plam = float(header.get("PHOTPLAM", 0) or 0)
        if plam:  # AB zero point
            return -2.5 * np.log10(photflam) - 21.10 - 5 * np.log10(plam) + 18.6921
        return -2.5 * np.log10(photflam) + photzpt
    return None


def _scale_from(wcs) -> float | None:
    if wcs is None:
        return None
    from astropy.wcs.utils import proj_plane_pixel_scales

    try:
        return float(np.mean(proj_plane_pixel_scales(wcs.celestial)) * 3600)
    except Exception:  # noqa: BLE001 (a WCS without celestial axes)
        return None


def _wcs_of(header):
    if header is None or "CTYPE1" not in header:
        return None
    import warnings

    from astropy.wcs import WCS

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            w = WCS(header, naxis=2)
            return w if w.has_celestial else None
        except Exception:  # noqa: BLE001
            return None


def read_band_files(paths, *, hdu=None):
    """Read FITS files: one 2-D band each, or one cube; returns (arrays, headers, names)."""
    from astropy.io import fits

    arrays, headers, names = [], [], []
    for path in paths:
        path = Path(path)
        if not path.is_file():
            raise AstrocleanFileError(f"input {path} does not exist; check the path (globs must match files)")
        try:
            with fits.open(path) as hdul:
                found = None
                for i, h in enumerate(hdul):
                    if hdu is not None and i != hdu and h.name != str(hdu).upper():
                        continue
                    if h.data is not None and h.data.ndim in (2, 3):
                        found = h
                        break
                if found is None:
                    raise AstrocleanFileError(f"{path} holds no 2-D image or cube; pass the right file or --hdu")
                data = np.array(found.data)
                header = found.header.copy()
        except OSError as exc:
            raise AstrocleanFileError(f"cannot read {path} as FITS ({exc}); pass FITS files") from exc
        if data.ndim == 3:
            for k in range(data.shape[0]):
                arrays.append(data[k])
                headers.append(header)
                names.append(f"{path.name}[{k}]")
        else:
            arrays.append(data)
            headers.append(header)
            names.append(path.name)
    return arrays, headers, names


def _reproject(array, wcs_in, wcs_out, shape):
    from scipy.ndimage import map_coordinates

    yy, xx = np.mgrid[0: shape[0], 0: shape[1]]
    world = wcs_out.pixel_to_world_values(xx.ravel(), yy.ravel())
    px, py = wcs_in.world_to_pixel_values(*world)
    out = map_coordinates(np.nan_to_num(array, nan=0.0), [py, px], order=1, cval=np.nan)
    bad = map_coordinates(np.isnan(array).astype(float), [py, px], order=1, cval=1.0) > 0
    out[bad] = np.nan
    return out.reshape(shape).astype(np.float32)


def as_cirrus_stack(stack, *, bands=None, zeropoint=None, pixel_scale=None, headers=None, names=None,
                    n_bands: int = 3, single_band: bool = False, expected_bands=("g", "r", "i")) -> CirrusStack:
    """Validate ``stack`` and return a :class:`CirrusStack`.

    Raises
    ------
    AstrocleanValueError
        Wrong number of bands, shapes that differ without WCS, an all-NaN or
        constant band, integer data, unknown zero point or pixel scale.
    """
    wcs_list = None
    if hasattr(stack, "data") and hasattr(stack, "bands") and getattr(stack, "data").ndim == 3:   # ImageStack
        arrays = list(np.asarray(stack.data))
        bands = bands or tuple(stack.bands)
        if zeropoint is None and getattr(stack, "zeropoints", None) and all(z is not None for z in stack.zeropoints):
            zeropoint = tuple(stack.zeropoints)
        pixel_scale = pixel_scale or getattr(stack, "pixel_scale", None)
        headers = headers or tuple(getattr(stack, "headers", ()) or ())
        wcs_list = [getattr(stack, "wcs", None)] * len(arrays)
        if getattr(stack, "mask", None) is not None:
            arrays = [np.where(m, np.nan, a) for a, m in zip(arrays, np.asarray(stack.mask))]
    elif isinstance(stack, (list, tuple)) and stack and isinstance(stack[0], (str, Path)):
        arrays, headers, names = read_band_files(stack)
    elif isinstance(stack, (list, tuple)):
        arrays = []
        for item in stack:
            if hasattr(item, "data") and hasattr(item, "mask"):
                arrays.append(np.where(item.mask, np.nan, item.data))
            else:
                arrays.append(item)
    else:
        arr = np.asarray(stack)
        if arr.ndim == 2:
            arrays = [arr]
        elif arr.ndim == 3:
            arrays = list(arr)
        else:
            raise AstrocleanValueError(f"the input must be (band, y, x) or a list of 2-D bands, got shape {arr.shape}")
    headers = tuple(headers) if headers else (None,) * len(arrays)
    names = tuple(names) if names else tuple(f"band {i}" for i in range(len(arrays)))
    if bands is None:
        guessed = [_band_from(n, h) for n, h in zip(names, headers)]
        if len(arrays) == len(expected_bands) and (None in guessed or len(set(guessed)) < len(guessed)):
            guessed = list(expected_bands)
        bands = tuple(b or "?" for b in guessed)
    bands = tuple(bands)
    if len(bands) != len(arrays):
        raise AstrocleanValueError(f"{len(arrays)} bands given but {len(bands)} band names ({bands}); give one name per band")
    if single_band and len(arrays) == 1:
        arrays = arrays * n_bands
        bands = bands * n_bands
        headers = headers * n_bands
        names = names * n_bands
    if len(arrays) != n_bands:
        raise AstrocleanValueError(
            f"the model needs {n_bands} bands ({', '.join(expected_bands)}), got {len(arrays)} ({', '.join(bands)}); "
            "pass one file per band (e.g. field_g.fits field_r.fits field_i.fits), or one cube"
            + ("; for a single band use single_band=True (CLI: --single-band)" if len(arrays) == 1 else ""))
    for arr, name in zip(arrays, names):
        a = np.asarray(arr)
        if a.ndim != 2:
            raise AstrocleanValueError(f"{name} must be 2-D (y, x), got shape {a.shape}")
        if a.dtype.kind in "iub":
            raise AstrocleanValueError(
                f"{name} holds integer data ({a.dtype}): cirrus needs calibrated, sky-subtracted float images "
                "(raw counts cannot be given a surface brightness); calibrate it, or convert with "
                "data.astype('float32') if it is already calibrated")
        if a.dtype.kind != "f":
            raise AstrocleanValueError(f"{name} has dtype {a.dtype}; pass real-valued float data")
    if wcs_list is None:
        wcs_list = [_wcs_of(h) for h in headers]
    shapes = [np.asarray(a).shape for a in arrays]
    out = []
    if len(set(shapes)) > 1:
        if any(w is None for w in wcs_list):
            raise AstrocleanValueError(
                f"the bands have different shapes {shapes} and not every band has a WCS, so they cannot be "
                "put on one grid; reproject them to one grid first, or give files with WCS headers")
        for a, w in zip(arrays, wcs_list):
            out.append(_reproject(np.asarray(a, dtype=np.float64), w, wcs_list[0], shapes[0]))
    else:
        out = [np.asarray(a).astype(np.float32) for a in arrays]
    data = np.stack(out).astype(np.float32, copy=False)
    np.putmask(data, np.isinf(data), np.nan)
    import warnings

    for b, name in enumerate(names):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            lo, hi = np.nanmin(data[b]), np.nanmax(data[b])
        if not np.isfinite(lo):
            raise AstrocleanValueError(f"{name} ({bands[b]}) has no finite pixel (all NaN/inf); check the file and its HDU")
        if lo == hi:
            raise AstrocleanValueError(f"{name} ({bands[b]}) is constant ({lo}); it holds no image: check the file")
    # zero points
    if zeropoint is None:
        zps = [_zeropoint_from(h) for h in headers]
        if any(z is None for z in zps):
            missing = [n for n, z in zip(names, zps) if z is None]
            raise AstrocleanValueError(
                f"unknown zero point for {', '.join(missing)}: no MAGZERO/MAGZPT/ZP keyword, nanomaggy BUNIT or "
                "PHOTFLAM in the header; pass zeropoint=... (CLI: --zeropoint, AB mag of one data unit)")
        zeropoint = tuple(zps)
    elif np.ndim(zeropoint) == 0:
        zeropoint = (float(zeropoint),) * len(arrays)
    zeropoint = tuple(float(z) for z in zeropoint)
    if len(zeropoint) != len(arrays) or not all(np.isfinite(zeropoint)):
        raise AstrocleanValueError(f"zeropoint must be one finite number or one per band, got {zeropoint}")
    wcs = wcs_list[0]
    if pixel_scale is None:
        pixel_scale = _scale_from(wcs)
    if pixel_scale is None or not np.isfinite(pixel_scale) or pixel_scale <= 0:
        raise AstrocleanValueError("unknown pixel scale: no celestial WCS in the header; pass pixel_scale=... "
                                   "(arcsec per pixel; CLI: --pixel-scale)")
    return CirrusStack(data=data, bands=bands, zeropoints=zeropoint, pixel_scale=float(pixel_scale), wcs=wcs,
                       headers=tuple(headers), names=tuple(names))
