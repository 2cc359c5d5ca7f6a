"""The ``Image`` and ``ImageStack`` containers and the one dtype rule of the package.

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

from astroclean.errors import AstrocleanKeyError, AstrocleanValueError

__all__ = ["Image", "ImageStack", "as_image", "native_float"]


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


@dataclass(frozen=True)
class ImageStack:
    """Bands of one field on one grid (``(band, y, x)``), each with its unit and zero point.

    Multi-band tasks (cirrus, star clusters) take one; :func:`astroclean.io.read_bands` builds it
    from files, reprojecting to the first band's grid; :meth:`from_images` stacks images already
    on one grid. A zero point is the magnitude of one data unit: ``mag = zp - 2.5 log10(data)``.

    Example
    -------
    >>> g, r = as_image(np.full((4, 5), 2.0)), as_image(np.full((4, 5), 4.0))
    >>> stack = ImageStack.from_images([g, r], bands=("g", "r"), zeropoints=(22.5, 22.5), pixel_scale=0.262)
    >>> stack.shape, stack.index("r"), float(stack.band("r").data[0, 0])
    ((2, 4, 5), 1, 4.0)
    >>> round(float(stack.surface_brightness("r")[0, 0]), 3)      # 22.5 - 2.5 log10(4 / 0.262**2)
    18.086

    Attributes
    ----------
    data : ndarray float32 (band, y, x)
    mask : ndarray of bool (band, y, x)
        True = bad (NaN/inf, user or DQ masks, pixels outside a reprojected band's footprint).
    bands : tuple of str
        Band names (``"g"``, ``"r"``, ``"F336W"``...), unique.
    units : tuple of (str or None)
    zeropoints : tuple of (float or None)
        Magnitude of one data unit per band (AB or Vega, as the header says), or None if unknown.
    variance : ndarray (band, y, x) or None
    wcs : astropy.wcs.WCS or None
        The common grid's WCS.
    headers : tuple
        Each band's header (the reference band's WCS after reprojection).
    pixel_scale : float or None
        Arcsec per pixel of the common grid.
    names : tuple of str
        Where each band came from (file[HDU]).
    """

    data: np.ndarray
    mask: np.ndarray
    bands: tuple
    units: tuple = ()
    zeropoints: tuple = ()
    variance: np.ndarray | None = None
    wcs: object = None
    headers: tuple = ()
    pixel_scale: float | None = None
    names: tuple = ()
    meta: dict = field(default_factory=dict)

    def __post_init__(self):
        n = len(self.bands)
        if self.data.ndim != 3 or self.data.shape[0] != n:
            raise AstrocleanValueError(f"an ImageStack needs data of shape (band, y, x) with {n} bands, "
                                       f"got {self.data.shape}")
        if self.mask.shape != self.data.shape:
            raise AstrocleanValueError(f"mask shape {self.mask.shape} differs from data shape {self.data.shape}")
        if len(set(self.bands)) != n:
            raise AstrocleanValueError(f"band names must be unique, got {self.bands}")
        for name in ("units", "zeropoints", "headers", "names"):
            value = getattr(self, name)
            if value and len(value) != n:
                raise AstrocleanValueError(f"{name} has {len(value)} entries for {n} bands")
            if not value:
                object.__setattr__(self, name, (None,) * n)

    @property
    def shape(self):
        return self.data.shape

    def index(self, band: str) -> int:
        """Position of ``band`` in the stack."""
        try:
            return self.bands.index(band)
        except ValueError:
            raise AstrocleanKeyError(f"band {band!r} is not in this stack (bands: {', '.join(self.bands)}); "
                                     "give the band files in the order the model card declares") from None

    def band(self, band: str) -> Image:
        """One band as an :class:`~astroclean.image.Image` (a view of the stack's pixels)."""
        k = self.index(band)
        return Image(data=self.data[k], mask=self.mask[k], variance=None if self.variance is None else self.variance[k],
                     unit=self.units[k], header=self.headers[k], wcs=self.wcs, name=self.names[k] or band,
                     meta={"zeropoint": self.zeropoints[k], "band": band})

    def surface_brightness(self, band: str) -> np.ndarray:
        """``band`` in mag/arcsec^2 (NaN where the pixel is not positive or masked).

        Raises
        ------
        AstrocleanValueError
            The band's zero point or the pixel scale is unknown (say how to give them).
        """
        k = self.index(band)
        zp = self.zeropoints[k]
        if zp is None:
            raise AstrocleanValueError(f"band {band!r} has no zero point: pass zeropoints=... (or --zeropoint), "
                                       "or a header with MAGZERO/MAGZPT/PHOTZP, NMGY units or PHOTFLAM")
        if not self.pixel_scale:
            raise AstrocleanValueError("the pixel scale is unknown: give a WCS or pixel_scale=... (arcsec/pixel)")
        with np.errstate(invalid="ignore", divide="ignore"):
            sb = zp - 2.5 * np.log10(self.data[k] / self.pixel_scale ** 2)
        sb[self.mask[k] | ~(self.data[k] > 0)] = np.nan
        return sb

    def replace(self, **changes) -> "ImageStack":
        """A copy with some fields changed."""
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_images(cls, images, *, bands, zeropoints=None, pixel_scale=None, wcs=None) -> "ImageStack":
        """Stack :class:`~astroclean.image.Image` objects (or arrays) that are already on one grid.

        Raises
        ------
        AstrocleanValueError
            Different shapes (reproject first: :func:`astroclean.io.read_bands` does), or a count
            of ``bands`` other than the number of images.
        """
        images = [as_image(im, name=str(b)) for im, b in zip(images, bands)]
        if len(images) != len(bands):
            raise AstrocleanValueError(f"{len(images)} images for {len(bands)} band names {tuple(bands)}")
        shapes = {im.shape for im in images}
        if len(shapes) != 1:
            raise AstrocleanValueError(f"bands of different shapes {sorted(shapes)} cannot be stacked as they are; "
                                       "read them with astroclean.io.read_bands, which reprojects through the WCS")
        data = np.stack([im.data.astype(np.float32) for im in images])
        mask = np.stack([im.mask for im in images])
        variance = (np.stack([im.variance for im in images]).astype(np.float32)
                    if all(im.variance is not None for im in images) else None)
        wcs = wcs if wcs is not None else images[0].wcs
        if pixel_scale is None and wcs is not None:
            from astroclean.photometry import pixel_scale_arcsec

            pixel_scale = pixel_scale_arcsec(wcs)
        zps = tuple(zeropoints) if zeropoints is not None else tuple(im.meta.get("zeropoint") for im in images)
        return cls(data=data, mask=mask, bands=tuple(bands), units=tuple(im.unit for im in images), zeropoints=zps,
                   variance=variance, wcs=wcs, headers=tuple(im.header for im in images), pixel_scale=pixel_scale,
                   names=tuple(im.name for im in images))

