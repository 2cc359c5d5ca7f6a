"""Assemble and validate the multi-band input of the cirrus task, as the floor's ``ImageStack``.

Accepts an ``ImageStack``, a (band, y, x) array, a list of 2-D arrays or ``Image`` objects, or
FITS paths (one band per file, or one cube). Files are read by the floor
(:func:`astroclean.io.read_bands`: band names, zero points, reprojection through the WCS); what is
cirrus-specific stays here: the g, r, i default names, the checks the task needs (integer data,
constant bands, a zero point and a pixel scale for every band) and their messages. Every problem
raises :class:`~astroclean.errors.AstrocleanValueError` naming the band, the problem and the fix,
before anything is computed or written.

Example
-------
>>> import numpy as np
>>> from astroclean.cirrus.inputs import as_cirrus_stack
>>> s = as_cirrus_stack(np.random.default_rng(0).normal(size=(3, 16, 16)), zeropoint=22.5, pixel_scale=0.4)
>>> s.bands, s.data.shape
(('g', 'r', 'i'), (3, 16, 16))
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from astroclean.errors import AstrocleanFileError, AstrocleanValueError
from astroclean.image import ImageStack

__all__ = ["as_cirrus_stack", "model_planes"]

_INT_BITPIX = {8: "uint8", 16: "int16", 32: "int32", 64: "int64"}


def _integer_dtype(header):
    """The integer dtype a FITS HDU stores (unscaled), or None for float data."""
    if header is None:
        return None
    bitpix = header.get("BITPIX")
    if bitpix not in _INT_BITPIX or float(header.get("BSCALE", 1.0)) != 1.0:
        return None
    bzero = float(header.get("BZERO", 0.0))
    if bzero and bitpix > 8 and bzero == 2 ** (bitpix - 1):
        return "u" + _INT_BITPIX[bitpix]
    return _INT_BITPIX[bitpix]


def _integer_error(name, dtype):
    return AstrocleanValueError(
        f"{name} holds integer data ({dtype}): cirrus needs calibrated, sky-subtracted float images "
        "(raw counts cannot be given a surface brightness); calibrate it, or convert with "
        "data.astype('float32') if it is already calibrated")


def _read_files(paths, *, bands, zeropoint, expected_bands):
    """FITS files (one band each, or one cube) through the floor's readers -> ImageStack."""
    from astroclean.io.bands import read_bands
    from astroclean.io.read import list_images, read_image

    paths = [Path(p) for p in paths]
    for path in paths:
        if not path.is_file():
            raise AstrocleanFileError(f"input {path} does not exist; check the path (globs must match files)")
    zps = None if zeropoint is None else zeropoint
    if len(paths) == 1 and len(list_images(paths[0])) == 1:       # one band (e.g. --single-band)
        from astroclean.instruments.photometric import band_from_header, band_from_name, zeropoint_from_header

        image = read_image(paths[0])
        _check_integer(image.header, image.name)
        name = tuple(bands) if bands else (band_from_header(image.header) or band_from_name(paths[0])
                                           or expected_bands[1],)
        zp = image.meta.get("zeropoint") or zeropoint_from_header(image.header) if zps is None \
            else float(np.ravel(zps)[0])
        return ImageStack.from_images([image], bands=name, zeropoints=(zp,))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)    # colliding header names: the file names are used
        stack = read_bands(paths, bands=bands, zeropoints=zps, default_bands=expected_bands)
    for header, name in zip(stack.headers, stack.names):
        _check_integer(header, name)
    return stack


def _check_integer(header, name):
    dtype = _integer_dtype(header)
    if dtype is not None:
        raise _integer_error(name, dtype)


def _from_arrays(arrays, *, bands, expected_bands):
    """2-D arrays / Images (already on one grid) -> ImageStack."""
    names = [getattr(a, "name", None) or f"band {i}" for i, a in enumerate(arrays)]
    for a, name in zip(arrays, names):
        raw = np.asarray(getattr(a, "data", a))
        if raw.ndim != 2:
            raise AstrocleanValueError(f"{name} must be 2-D (y, x), got shape {raw.shape}")
        if raw.dtype.kind in "iub":
            raise _integer_error(name, raw.dtype)
        if raw.dtype.kind != "f":
            raise AstrocleanValueError(f"{name} has dtype {raw.dtype}; pass real-valued float data")
    shapes = [np.shape(getattr(a, "data", a)) for a in arrays]
    if len(set(shapes)) > 1:
        raise AstrocleanValueError(
            f"the bands have different shapes {shapes} and not every band has a WCS, so they cannot be "
            "put on one grid; reproject them to one grid first, or give files with WCS headers "
            "(astroclean.io.read_bands reprojects them)")
    if bands is None:
        bands = tuple(expected_bands) if len(arrays) == len(expected_bands) else tuple(f"b{i}" for i in range(len(arrays)))
    if len(bands) != len(arrays):
        raise AstrocleanValueError(f"{len(arrays)} bands given but {len(bands)} band names ({tuple(bands)}); "
                                   "give one name per band")
    return ImageStack.from_images(arrays, bands=tuple(bands))    # from_images checks each band (as_image)


def model_planes(stack: ImageStack, n_bands: int = 3):
    """(data, bands, zeropoints, headers) with ``n_bands`` planes: a single-band stack's plane copied."""
    if len(stack.bands) == n_bands:
        return stack.data, stack.bands, stack.zeropoints, stack.headers
    if len(stack.bands) == 1 and stack.meta.get("single_band"):
        return (np.repeat(stack.data, n_bands, axis=0), stack.bands * n_bands, stack.zeropoints * n_bands,
                stack.headers * n_bands)
    raise AstrocleanValueError(f"the model needs {n_bands} bands, got {len(stack.bands)}")


def as_cirrus_stack(stack, *, bands=None, zeropoint=None, pixel_scale=None, n_bands: int = 3,
                    single_band: bool = False, expected_bands=("g", "r", "i")) -> ImageStack:
    """Validate ``stack`` and return an :class:`~astroclean.image.ImageStack` (float32, NaN where masked).

    The stack has ``n_bands`` bands, or one band with ``meta["single_band"]`` when ``single_band``
    (:func:`model_planes` copies it into the model's channels). Zero points and the pixel scale are
    always set.

    Raises
    ------
    AstrocleanValueError
        Wrong number of bands, shapes that differ without WCS, an all-NaN or
        constant band, integer data, unknown zero point or pixel scale.
    """
    if isinstance(stack, ImageStack):
        single_band = single_band or bool(stack.meta.get("single_band"))
        if bands is not None and tuple(bands) != stack.bands:
            stack = stack.replace(bands=tuple(bands))
    elif isinstance(stack, (str, Path)) or (isinstance(stack, (list, tuple)) and stack
                                            and isinstance(stack[0], (str, Path))):
        paths = [stack] if isinstance(stack, (str, Path)) else list(stack)
        stack = _read_files(paths, bands=bands, zeropoint=zeropoint, expected_bands=expected_bands)
    elif isinstance(stack, (list, tuple)):
        stack = _from_arrays(list(stack), bands=bands, expected_bands=expected_bands)
    else:
        arr = np.asarray(stack)
        if arr.ndim not in (2, 3):
            raise AstrocleanValueError(f"the input must be (band, y, x) or a list of 2-D bands, got shape {arr.shape}")
        stack = _from_arrays(list(arr[None] if arr.ndim == 2 else arr), bands=bands, expected_bands=expected_bands)
    n = len(stack.bands)
    if n != n_bands and not (single_band and n == 1):
        raise AstrocleanValueError(
            f"the model needs {n_bands} bands ({', '.join(expected_bands)}), got {n} ({', '.join(stack.bands)}); "
            "pass one file per band (e.g. field_g.fits field_r.fits field_i.fits), or one cube"
            + ("; for a single band use single_band=True (CLI: --single-band)" if n == 1 else ""))
    names = tuple(nm or b for nm, b in zip(stack.names, stack.bands))
    bad = stack.mask | ~np.isfinite(stack.data)     # the floor's mask holds the non-finite pixels already
    data = stack.data.astype(np.float32, copy=False)
    if bad.any() and not np.isnan(data[bad]).all():
        data = np.where(bad, np.float32(np.nan), data)
    for b, name in enumerate(names):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            lo, hi = np.nanmin(data[b]), np.nanmax(data[b])
        if not np.isfinite(lo):
            raise AstrocleanValueError(f"{name} ({stack.bands[b]}) has no finite pixel (all NaN/inf); check the file "
                                       "and its HDU")
        if lo == hi:
            raise AstrocleanValueError(f"{name} ({stack.bands[b]}) is constant ({lo}); it holds no image: check the file")
    # zero points: the option, else the stack's (from the headers)
    if zeropoint is not None:
        zps = tuple(np.broadcast_to(np.asarray(zeropoint, float), (n,)).tolist()) if np.ndim(zeropoint) == 0 \
            or len(zeropoint) == n else tuple(zeropoint)
    else:
        zps = tuple(stack.zeropoints)
        missing = [nm for nm, z in zip(names, zps) if z is None]
        if missing:
            raise AstrocleanValueError(
                f"unknown zero point for {', '.join(missing)}: no MAGZERO/MAGZPT/ZP keyword, nanomaggy BUNIT or "
                "PHOTFLAM in the header; pass zeropoint=... (CLI: --zeropoint, AB mag of one data unit)")
    if len(zps) != n or not all(z is not None and np.isfinite(z) for z in zps):
        raise AstrocleanValueError(f"zeropoint must be one finite number or one per band, got {zps}")
    scale = pixel_scale if pixel_scale is not None else stack.pixel_scale
    if scale is None or not np.isfinite(scale) or scale <= 0:
        raise AstrocleanValueError("unknown pixel scale: no celestial WCS in the header; pass pixel_scale=... "
                                   "(arcsec per pixel; CLI: --pixel-scale)")
    return stack.replace(data=data, mask=bad, zeropoints=tuple(float(z) for z in zps),
                         pixel_scale=float(scale), names=names, meta={**stack.meta, "single_band": n == 1})
