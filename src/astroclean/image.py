"""The ``Image`` container and the one dtype rule of the package.

Every task takes an :class:`Image` (or a plain array, turned into one by
:func:`as_image`). Validation happens here, once: dimensionality, empty or
all-NaN data, dtype and byte order. NaN and inf pixels are masked
automatically and stay NaN in every output.

Example
-------
>>> import numpy as np
>>> from astroclean.image import as_image
>>> img = as_image(np.ones((4, 5), dtype=">f4"))
>>> img.data.dtype.byteorder in "=|<", img.shape
(True, (4, 5))
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from astroclean.errors import AstrocleanValueError

__all__ = ["Image", "as_image", "native_float"]


def native_float(array, *, name: str = "image") -> np.ndarray:
    """Return ``array`` as native-byte-order float, never a view the caller owns.

    float32 and float64 keep their precision, integers and booleans become
    float32 (float64 for 32/64-bit integers, which float32 cannot hold
    exactly), big-endian data are made native. The result is always a new
    array, so callers may modify it freely.

    Raises
    ------
    AstrocleanValueError
        If the dtype is not numeric (complex, strings, objects).
    """
    arr = np.asarray(array)
    if arr.dtype.kind == "f":
        target = np.float64 if arr.dtype.itemsize > 4 else np.float32
        if arr.dtype.itemsize < 4:
            target = np.float32
    elif arr.dtype.kind in "iub":
        target = np.float64 if arr.dtype.itemsize >= 4 and arr.dtype.kind != "b" else np.float32
    else:
        raise AstrocleanValueError(
            f"{name} must hold real numbers, got dtype {arr.dtype}; "
            "convert it with numpy.asarray(..., dtype=float)"
        )
    return np.array(arr, dtype=np.dtype(target).newbyteorder("="), copy=True)


def _as_mask(mask, shape, name):
    if mask is None:
        return np.zeros(shape, dtype=bool)
    m = np.asarray(mask)
    if m.shape != shape:
        raise AstrocleanValueError(
            f"{name} has shape {m.shape} but the image has shape {shape}; "
            "pass a boolean array of the image's shape (True = bad)"
        )
    if m.dtype != bool:
        m = m != 0
    return np.array(m, dtype=bool, copy=True)


@dataclass(frozen=True)
class Image:
    """A 2-D image with everything a task needs to interpret its pixels.

    Attributes
    ----------
    data : ndarray (y, x)
        Native-endian float pixels (never the caller's array).
    mask : ndarray of bool
        True = bad: user mask, DQ flags, NaN/inf, saturated pixels.
    variance : ndarray or None
        Per-pixel variance in ``unit**2`` when known (e.g. from an inverse
        variance weight plane); None otherwise.
    unit : str or None
        BUNIT, e.g. ``"electron"``, ``"adu"``, ``"electron/s"``.
    gain, read_noise, exptime, saturation : float or None
        GAIN (e-/ADU), RDNOISE (e-), EXPTIME (s), SATURATE (image units).
    header : astropy.io.fits.Header or None
        The input header, kept for output products.
    wcs : astropy.wcs.WCS or None
    name : str
        Where the image came from (``file[HDU]``), for messages and tables.
    dq : ndarray of int or None
        The raw data-quality plane, kept for products and DQ-code handling.
    """

    data: np.ndarray
    mask: np.ndarray
    variance: np.ndarray | None = None
    unit: str | None = None
    gain: float | None = None
    read_noise: float | None = None
    exptime: float | None = None
    saturation: float | None = None
    header: object = None
    wcs: object = None
    name: str = "image"
    dq: np.ndarray | None = None
    meta: dict = field(default_factory=dict)

    @property
    def shape(self):
        return self.data.shape

    @property
    def dtype(self):
        return self.data.dtype

    def replace(self, **changes) -> "Image":
        """Return a copy with some fields changed (``dataclasses.replace``)."""
        return dataclasses.replace(self, **changes)


def as_image(image, *, mask=None, variance=None, saturation=None, name=None, **meta_fields) -> Image:
    """Validate ``image`` and return an :class:`Image`.

    Parameters
    ----------
    image : array_like (y, x) or Image
        Pixels. An existing Image is re-validated and combined with ``mask``.
    mask : array_like of bool, optional
        True = bad. Combined (OR) with the Image's own mask, NaN/inf pixels
        and pixels at or above ``saturation``.
    variance : array_like, optional
        Per-pixel variance; non-positive or non-finite values are masked.
    saturation : float, optional
        Pixels at or above this level are masked (overrides SATURATE).

    Raises
    ------
    AstrocleanValueError
        Not 2-D, empty, all-NaN, non-numeric, or a mask/variance of another
        shape. The message says what was given and how to fix it.
    """
    base = image if isinstance(image, Image) else None
    raw = base.data if base is not None else image
    arr = np.asarray(raw)
    label = name or (base.name if base is not None else "image")
    if arr.ndim != 2:
        hint = (
            "select one plane, e.g. image[0], or read a cube with astroclean.io.read_images"
            if arr.ndim == 3
            else "pass a 2-D (y, x) array"
        )
        raise AstrocleanValueError(f"{label} must be 2-D (y, x), got {arr.ndim}-D with shape {arr.shape}; {hint}")
    if arr.size == 0:
        raise AstrocleanValueError(f"{label} is empty (shape {arr.shape}); pass an image with pixels")
    data = native_float(arr, name=label)
    bad = ~np.isfinite(data)
    if bad.all():
        raise AstrocleanValueError(
            f"{label} has no finite pixel (all NaN/inf); check the HDU (use --hdu) or the file"
        )
    full_mask = _as_mask(mask, data.shape, "mask") | bad
    if base is not None:
        full_mask |= base.mask
    sat = saturation if saturation is not None else (base.saturation if base is not None else meta_fields.get("saturation"))
    if sat is not None:
        if not np.isfinite(sat):
            raise AstrocleanValueError(f"saturation must be a finite level, got {sat}")
        with np.errstate(invalid="ignore"):
            full_mask |= data >= sat
    var = variance if variance is not None else (base.variance if base is not None else None)
    if var is not None:
        var = native_float(var, name="variance")
        if var.shape != data.shape:
            raise AstrocleanValueError(
                f"variance has shape {var.shape} but the image has shape {data.shape}; "
                "pass a variance plane of the image's shape"
            )
        with np.errstate(invalid="ignore"):
            badvar = ~np.isfinite(var) | (var <= 0)
        full_mask |= badvar
    fields = {} if base is None else {f.name: getattr(base, f.name) for f in dataclasses.fields(Image)}
    fields.update(meta_fields)
    fields["meta"] = {"input_dtype": str(arr.dtype.newbyteorder("=")), **dict(fields.get("meta") or {})}
    fields.update(data=data, mask=full_mask, variance=var, saturation=sat, name=label)
    return Image(**fields)
