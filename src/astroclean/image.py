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

__all__ = ["Image", "ImageStack", "as_image", "native_float", "check_memory", "like_input"]


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


SATURATION_WARN_FRACTION = 0.5

# Peak memory of processing one frame, per pixel, measured by benchmarks/memory_peak.py (the cosmic-ray task,
# the heaviest: input copy, mask, sky and noise maps, network input, tiles, probability, cleaned image).
PEAK_BYTES_PER_PIXEL = 64
MEMORY_ENV = "ASTROCLEAN_MAX_MEMORY_GB"


def available_memory() -> int | None:
    """Bytes this process may use: ``ASTROCLEAN_MAX_MEMORY_GB`` when set, else the system's available memory."""
    import os

    limit = os.environ.get(MEMORY_ENV)
    if limit:
        try:
            return int(float(limit) * 1e9)
        except ValueError:
            raise AstrocleanValueError(f"{MEMORY_ENV} must be a number of GB, got {limit!r}") from None
    try:
        import psutil
    except ImportError:  # pragma: no cover - psutil comes with distributed
        return None
    return int(psutil.virtual_memory().available)


def check_memory(shape, *, label: str = "image", bytes_per_pixel: int = PEAK_BYTES_PER_PIXEL) -> None:
    """Refuse, before any pixel is read, a frame whose processing would not fit in memory.

    Processing one frame needs about ``bytes_per_pixel`` bytes per pixel at its peak (measured in
    ``benchmarks/memory_peak.py``); when that exceeds the available memory (or ``ASTROCLEAN_MAX_MEMORY_GB``)
    the error gives both numbers and how to proceed, instead of swapping or being killed hours later.
    """
    n_pixels = int(np.prod([int(n) for n in shape[-2:]]))
    need = n_pixels * bytes_per_pixel
    have = available_memory()
    if have is not None and need > have:
        dims = " x ".join(str(int(n)) for n in shape[-2:])
        raise AstrocleanValueError(
            f"{label}: a {dims} frame needs about {need / 1e9:.1f} GB of memory to process "
            f"({bytes_per_pixel} bytes per pixel at the peak) but {have / 1e9:.1f} GB are available; cut it into "
            f"pieces (e.g. astropy.nddata.Cutout2D, or CCD by CCD with --hdu), use a machine with more memory, or set "
            f"{MEMORY_ENV} to allow more")


def _saturated(data, bad, level, label, *, explicit):
    """Pixels at or above ``level``; refuses a non-positive level and warns when it masks most pixels."""
    try:
        level = float(level)
    except (TypeError, ValueError):
        raise AstrocleanValueError(f"saturation must be a number, got {level!r}") from None
    if not np.isfinite(level):
        raise AstrocleanValueError(f"saturation must be a finite level, got {level}")
    source = "--saturation / saturation=" if explicit else "the header's SATURATE"
    if level <= 0:
        raise AstrocleanValueError(f"{label}: saturation level {level:g} (from {source}) is not positive; it would "
                                   "mask every pixel of the sky; give the level in the image's units at which "
                                   "the detector saturates (e.g. 60000 ADU), or leave it out")
    with np.errstate(invalid="ignore"):
        sat = data >= level
    valid = max(int((~bad).sum()), 1)
    fraction = int((sat & ~bad).sum()) / valid
    if fraction > SATURATION_WARN_FRACTION:
        import warnings

        warnings.warn(f"{label}: saturation level {level:g} (from {source}) masks {fraction:.0%} of the pixels; "
                      "is it in the image's units?", stacklevel=4)
    return sat


def _unwrap(image, mask, variance, meta_fields):
    """Turn a numpy.ma array, an astropy NDData/CCDData or a path into (array or Image, mask, variance, meta)."""
    import os

    if isinstance(image, (str, os.PathLike)):
        from astroclean.io import read_image

        return read_image(image), mask, variance, meta_fields
    if isinstance(image, np.ma.MaskedArray):
        ma_mask = np.ma.getmaskarray(image)
        return np.ma.getdata(image), _combine(mask, ma_mask), variance, meta_fields
    if isinstance(image, Image) or isinstance(image, np.ndarray):
        return image, mask, variance, meta_fields
    try:
        from astropy.nddata import NDData
    except ImportError:  # pragma: no cover - astropy is a dependency
        NDData = ()
    if isinstance(image, NDData):
        data = np.asarray(image.data)
        if image.mask is not None:
            mask = _combine(mask, np.broadcast_to(np.asarray(image.mask, dtype=bool), data.shape))
        if variance is None and image.uncertainty is not None:
            variance = _variance_of(image.uncertainty, data.shape)
        meta = dict(meta_fields)
        if image.unit is not None:
            meta.setdefault("unit", image.unit.to_string())
        if image.wcs is not None:
            meta.setdefault("wcs", getattr(image.wcs, "low_level_wcs", image.wcs))
        header = image.meta.get("header") if hasattr(image.meta, "get") else None
        if header is None and image.meta and all(isinstance(k, str) for k in image.meta):
            from astropy.io import fits

            try:
                header = fits.Header(dict(image.meta))
            except Exception:  # noqa: BLE001 - meta that is not a header is kept out of the products
                header = None
        if header is not None:
            meta.setdefault("header", header)
        meta["meta"] = {"input_type": type(image).__name__, **dict(meta.get("meta") or {})}
        return data, mask, variance, meta
    if hasattr(image, "__array__") or isinstance(image, (list, tuple)):
        return image, mask, variance, meta_fields
    raise AstrocleanValueError(f"image must be an array, numpy.ma array, astropy NDData/CCDData, Image or a FITS "
                               f"path, got {type(image).__name__}")


def _combine(mask, extra):
    if mask is None:
        return np.array(extra, dtype=bool)
    m = np.asarray(mask)
    if m.shape != np.shape(extra):
        return mask  # the shape error is raised by _as_mask with the usual message
    return (m != 0) | extra


def _variance_of(uncertainty, shape):
    """Variance from an astropy uncertainty (std-dev, variance or inverse variance)."""
    kind = getattr(uncertainty, "uncertainty_type", "std")
    values = np.broadcast_to(np.asarray(uncertainty.array, dtype=float), shape)
    if kind == "std":
        return values ** 2
    if kind == "var":
        return np.array(values)
    if kind == "ivar":
        with np.errstate(divide="ignore"):
            return np.where(values > 0, 1.0 / values, np.inf)
    raise AstrocleanValueError(f"unknown uncertainty type {kind!r}; pass StdDevUncertainty, VarianceUncertainty "
                               "or InverseVariance (or variance= directly)")


def like_input(array, given):
    """``array`` (a result image of ``given``'s shape) in the caller's container: an NDData/CCDData in gives the
    same type out (its unit, WCS, mask, uncertainty and meta kept), a ``numpy.ma`` array gives a masked array
    (its mask kept), anything else the plain array."""
    if isinstance(given, np.ma.MaskedArray):
        return np.ma.MaskedArray(array, mask=np.ma.getmaskarray(given).copy())
    try:
        from astropy.nddata import NDData
    except ImportError:  # pragma: no cover - astropy is a dependency
        return array
    if isinstance(given, NDData):
        kwargs = dict(unit=given.unit, wcs=given.wcs, mask=None if given.mask is None else np.array(given.mask),
                      uncertainty=given.uncertainty, meta=dict(given.meta))
        try:
            return type(given)(array, **kwargs)
        except (TypeError, ValueError):
            return NDData(array, **kwargs)
    return array


def as_image(image, *, mask=None, variance=None, saturation=None, name=None, **meta_fields) -> Image:
    """Validate ``image`` and return an :class:`Image`.

    Parameters
    ----------
    image : array_like (y, x), Image, numpy.ma.MaskedArray, NDData/CCDData, or a path
        Pixels. An existing Image is re-validated and combined with ``mask``. The mask of a
        ``numpy.ma`` array is honoured (True = bad, as numpy.ma means it); an astropy ``NDData`` or
        ``CCDData`` gives its mask, uncertainty (as variance), unit, WCS and header (``meta``); a
        ``str`` or ``pathlib.Path`` is read with :func:`astroclean.io.read_image`.
    mask : array_like of bool, optional
        True = bad. Combined (OR) with the Image's own mask, NaN/inf pixels
        and pixels at or above ``saturation``.
    variance : array_like, optional
        Per-pixel variance; non-positive or non-finite values are masked.
    saturation : float, optional
        Pixels at or above this level are masked (overrides SATURATE). Must be positive; a level
        that masks more than half of the valid pixels gives a warning.

    Raises
    ------
    AstrocleanValueError
        Not 2-D, empty, all-NaN, every pixel masked, non-numeric, a non-positive saturation, a
        mask/variance of another shape, or an object of an unknown type. The message says what
        was given and how to fix it.
    """
    image, mask, variance, meta_fields = _unwrap(image, mask, variance, meta_fields)
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
    if base is None:
        check_memory(arr.shape, label=label)
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
        full_mask |= _saturated(data, bad, sat, label, explicit=saturation is not None)
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
    if full_mask.all():
        raise AstrocleanValueError(f"{label}: every pixel is masked (mask, DQ plane, NaN/inf, saturation "
                                   f"{sat}, bad variance); nothing can be measured: check the mask, --saturation "
                                   "and the DQ plane")
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
        data = np.empty((len(images),) + images[0].shape, np.float32)   # one copy, not a float32 copy then a stack
        mask = np.empty(data.shape, bool)
        for k, im in enumerate(images):
            data[k], mask[k] = im.data, im.mask
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

