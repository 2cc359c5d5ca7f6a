"""Read FITS images, with their units, noise keywords, WCS and companion planes.

One image HDU (by name or number), every image HDU of a multi-extension file,
data cubes (one Image per plane), tile-compressed ``.fz`` and gzipped ``.gz``
files. Companion planes are attached when present:

* in the same file: ``ERR`` (1-sigma), ``VAR``/``VARIANCE``, ``WHT``/``IVM``/``WEIGHT``
  (inverse variance) and ``DQ``/``MASK``/``BPM`` extensions with the same EXTVER as
  the science HDU (HST's SCI/ERR/DQ triplets); a ``coverage`` plane (Herschel
  level-2 maps: pixels without coverage are masked) when there is no DQ plane;
  the maps' ``stDev`` and ``HPFmask`` planes are companions, not science images;
* in sibling files: the DECam Community Pipeline's ``_ood_`` (DQ codes) and
  ``_oow_`` (inverse variance) beside an ``_ooi_`` image.

Example
-------
>>> from astroclean.io import read_image                       # doctest: +SKIP
>>> image = read_image("c4d_170316_062107_ooi_z_ls9.N2.fits")   # doctest: +SKIP
>>> image.variance is not None, image.dq is not None            # doctest: +SKIP
(True, True)
"""

from __future__ import annotations

import gzip
import os
import stat
import warnings
import zlib
from pathlib import Path

import numpy as np
from astropy.io import fits
from astropy.utils.exceptions import AstropyUserWarning

from astroclean.errors import AstrocleanFileError, AstrocleanKeyError, AstrocleanValueError
from astroclean.image import Image, as_image, check_memory, native_float
from astroclean.io.dq import dq_to_mask

_KEYS = {
    "gain": ("GAIN", "CCDGAIN", "EGAIN"),
    "read_noise": ("RDNOISE", "READNOIS", "RON", "READNOISE"),
    "exptime": ("EXPTIME", "EXPOSURE"),
    "saturation": ("SATURATE", "SATURATN", "SATLEVEL"),
    "unit": ("BUNIT",),
}
_ERR = ("ERR", "ERROR", "SIGMA", "RMS")
_VAR = ("VAR", "VARIANCE")
_IVAR = ("WHT", "IVM", "WEIGHT", "IVAR", "INVVAR")
_DQ = ("DQ", "MASK", "BPM", "FLAGS")
_COVERAGE = ("COVERAGE",)
_AUXILIARY = ("STDEV", "HPFMASK")  # Herschel/PACS level-2 map planes that are not science images
_COMPANIONS = set(_ERR + _VAR + _IVAR + _DQ + _COVERAGE + _AUXILIARY)


def _open(path, *, load="all") -> fits.HDUList:
    """Open ``path``; ``load`` says whose data are read now: "all", "headers" (none) or one HDU index
    (that HDU and the companion planes), so that a batch task reading one CCD does not decompress all 62."""
    path = Path(path)
    if not path.exists():
        raise AstrocleanFileError(f"{path} does not exist; check the path (globs must be quoted for the CLI)")
    if path.is_dir():
        raise AstrocleanFileError(f"{path} is a directory; pass a FITS file, or a directory to the CLI")
    check_regular(path)
    verify_gzip(path)
    hdul = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", fits.verify.VerifyWarning)
            warnings.filterwarnings("error", message=".*truncated.*")
            hdul = fits.open(path, memmap=False, lazy_load_hdus=False)
            for i, hdu in enumerate(hdul):  # force reading so truncation shows here, not later
                if load == "all" or (load != "headers" and (i == load or hdu.name.upper() in _COMPANIONS)):
                    _ = hdu.data
    except (OSError, ValueError, TypeError, IndexError, fits.verify.VerifyWarning, EOFError,
            AstropyUserWarning) as exc:
        if hdul is not None:
            hdul.close()
        raise AstrocleanFileError(f"cannot read {path}: {exc}; the file is truncated, corrupt or not FITS "
                                  "(try `fitsverify` or re-download it)") from exc
    return hdul


def check_regular(path) -> None:
    """Refuse what is not a regular file (a FIFO, a device such as /dev/zero, a socket): reading it would hang
    or never end."""
    mode = os.stat(path).st_mode
    if not stat.S_ISREG(mode):
        kind = ("a named pipe (FIFO)" if stat.S_ISFIFO(mode) else "a device" if stat.S_ISCHR(mode) or
                stat.S_ISBLK(mode) else "a socket" if stat.S_ISSOCK(mode) else "not a regular file")
        raise AstrocleanFileError(f"{path} is {kind}, not a regular file; pass a FITS file on disk")


_VERIFIED: dict = {}  # (path, size, mtime_ns) of gzip files whose whole stream was checked in this process


def verify_gzip(path, *, chunk: int = 1 << 22) -> None:
    """Decompress a gzip file to its end, in chunks, so that its CRC-32 and length are checked.

    astropy reads a ``.gz`` only as far as the HDUs it needs, so a flipped byte (CRC error) gives wrong
    pixels silently and a cut stream gives a misleading error; this makes both a clear
    "corrupt or truncated" error. Memory stays at one chunk; a file is checked once per process.
    Files that do not start with the gzip magic bytes are left alone.
    """
    path = Path(path)
    with open(path, "rb") as fh:
        if fh.read(2) != b"\x1f\x8b":
            return
    st = os.stat(path)
    key = (str(path), st.st_size, st.st_mtime_ns)
    if key in _VERIFIED:
        return
    try:
        with gzip.open(path, "rb") as stream:
            while stream.read(chunk):
                pass
    except (OSError, EOFError, zlib.error) as exc:
        raise AstrocleanFileError(f"{path} is a corrupt or truncated gzip file ({exc}); its pixels cannot be "
                                  "trusted: re-download or re-create it (`gzip -t` checks a file)") from None
    if len(_VERIFIED) > 10000:
        _VERIFIED.clear()
    _VERIFIED[key] = True


def _lookup(headers, keys):
    for header in headers:
        for key in keys:
            value = header.get(key)
            if value not in (None, ""):
                return value
    return None


def _header_meta(hdu, primary) -> dict:
    headers = [hdu.header] + ([primary.header] if primary is not hdu else [])
    meta = {}
    for field, keys in _KEYS.items():
        value = _lookup(headers, keys)
        if value is None:
            continue
        if field == "unit":
            meta[field] = str(value).strip()
        else:
            try:
                meta[field] = float(value)
            except (TypeError, ValueError):
                continue
    return meta


def _wcs(header):
    if "CTYPE1" not in header:
        return None
    from astropy.wcs import WCS, FITSFixedWarning

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FITSFixedWarning)
            return WCS(header, naxis=2)
    except Exception as exc:  # noqa: BLE001 - a broken WCS must not stop pixel work
        warnings.warn(f"ignoring unreadable WCS: {exc}", stacklevel=3)
        return None


def _is_image(hdu) -> bool:
    return hdu.is_image and hdu.data is not None and hdu.data.ndim >= 2


def _label(hdu, index) -> str:
    name = hdu.name or ""
    if name and name != "PRIMARY":
        ver = hdu.header.get("EXTVER")
        return f"{name},{ver}" if ver and ver > 1 else name
    return str(index)


def _select(hdul, hdu, path, *, is_image=_is_image):
    images = [(i, h) for i, h in enumerate(hdul) if is_image(h)]
    names = ", ".join(f"{i} ({_label(h, i)})" for i, h in images) or "none"
    if hdu is None:
        science = [(i, h) for i, h in images if h.name.upper() not in _COMPANIONS]
        if not science:
            raise AstrocleanValueError(f"{path} holds no image HDU with data (HDUs with images: {names}); "
                                       "pass a file with an image")
        return science[0]
    if isinstance(hdu, str) and hdu.strip().lstrip("-").isdigit():
        hdu = int(hdu)
    if isinstance(hdu, int) and not isinstance(hdu, bool) and hdu < 0:
        raise AstrocleanValueError(f"HDU number must be 0 or more (0 is the primary HDU), got {hdu}; "
                                   f"image HDUs of {path} are: {names}")
    try:
        if isinstance(hdu, str) and "," in hdu:
            extname, ver = hdu.split(",", 1)
            hdu = (extname.strip(), int(ver))
        index = hdul.index_of(hdu)
        selected = hdul[index]
    except (KeyError, IndexError, ValueError):
        raise AstrocleanKeyError(f"{path} has no HDU {hdu!r}; image HDUs are: {names}") from None
    if not is_image(selected):
        raise AstrocleanValueError(f"HDU {hdu!r} of {path} holds no image data; image HDUs are: {names}")
    return index, selected


def _companion(hdul, science, names):
    ver = science.header.get("EXTVER", 1) or 1
    for h in hdul:
        if h is not science and h.name.upper() in names and (h.header.get("EXTVER", 1) or 1) == ver:
            if _is_image(h) and h.data.shape == science.data.shape:
                return h
    return None


def _sibling(path: Path, kind: str, hdu_name, index, shape):
    name = path.name
    if "_ooi_" not in name:
        return None
    sibling = path.with_name(name.replace("_ooi_", f"_{kind}_"))
    if not sibling.exists():
        return None
    with fits.open(sibling, memmap=False) as hdul:
        try:
            h = hdul[hdu_name] if hdu_name and hdu_name != "PRIMARY" else hdul[index]
        except (KeyError, IndexError):
            return None
        if h.data is None or h.data.shape != shape:
            return None
        return np.array(h.data)


def _planes(hdul, hdu, index, path):
    """(variance, dq, dq_convention) for the science HDU, or Nones."""
    shape = hdu.data.shape
    variance = dq = None
    convention = "nonzero"
    err = _companion(hdul, hdu, _ERR)
    var = _companion(hdul, hdu, _VAR)
    ivar = _companion(hdul, hdu, _IVAR)
    dqh = _companion(hdul, hdu, _DQ)
    if err is not None:
        variance = native_float(err.data) ** 2
    elif var is not None:
        variance = native_float(var.data)
    elif ivar is not None:
        w = native_float(ivar.data)
        with np.errstate(divide="ignore"):
            variance = np.where(w > 0, 1.0 / w, np.inf)
    if dqh is not None:
        dq = np.array(dqh.data)
        convention = "hst" if hdu.name.upper() == "SCI" else "nonzero"
    if variance is None:
        w = _sibling(path, "oow", hdu.name, index, shape)
        if w is not None:
            w = native_float(w)
            with np.errstate(divide="ignore"):
                variance = np.where(w > 0, 1.0 / w, np.inf)
    if dq is None:
        dq = _sibling(path, "ood", hdu.name, index, shape)
        if dq is not None:
            convention = "decam"
    if dq is None:
        cov = _companion(hdul, hdu, _COVERAGE)
        if cov is not None:
            with np.errstate(invalid="ignore"):
                dq = (~(native_float(cov.data) > 0)).astype(np.uint8)
    if variance is not None and dq is not None:
        variance = _unflag_variance(variance, dq_to_mask(dq, convention=convention))
    return variance, dq, convention


def _unflag_variance(variance, bad):
    """Pipelines zero the weight of pixels they flagged as cosmic rays; those are data for us.

    Where the DQ plane says "not bad" but the weight is zero, the background
    variance (the median of the valid variance) is used instead.
    """
    with np.errstate(invalid="ignore"):
        invalid = ~np.isfinite(variance) | (variance <= 0)
    fix = invalid & ~bad
    if fix.any() and (~invalid).any():
        variance = variance.copy()
        variance[fix] = np.median(variance[~invalid])
    return variance


def _build(data, hdu, primary, index, path, variance, dq, convention, *, saturation, plane=None):
    meta = _header_meta(hdu, primary)
    label = f"{Path(path).name}[{_label(hdu, index)}]" + (f"[{plane}]" if plane is not None else "")
    mask = dq_to_mask(dq, convention=convention) if dq is not None else None
    sat = saturation if saturation is not None else meta.pop("saturation", None)
    meta.pop("saturation", None)
    return as_image(data, mask=mask, variance=variance, saturation=sat, name=label, header=hdu.header.copy(),
                    wcs=_wcs(hdu.header), dq=None if dq is None else np.array(dq),
                    meta={"path": str(path), "hdu": _label(hdu, index), "hdu_index": index, "plane": plane,
                          "primary_header": primary.header.copy(), "dq_convention": convention},
                    **meta)


def read_image(path, *, hdu=None, saturation: float | None = None) -> Image:
    """Read one 2-D image HDU as an :class:`~astroclean.image.Image`.

    Parameters
    ----------
    path : str or Path
        FITS file (``.fits``, ``.fz``, ``.gz``).
    hdu : int or str, optional
        HDU number or EXTNAME (``"SCI"``, ``"SCI,2"``, ``"N2"``); default: the
        first image HDU that is not a companion plane.
    saturation : float, optional
        Saturation level overriding the SATURATE keyword.

    Raises
    ------
    AstrocleanFileError
        Missing, unreadable or truncated file.
    AstrocleanKeyError
        No such HDU (the message lists the image HDUs).
    AstrocleanValueError
        The HDU is a cube (use :func:`read_images`) or holds no usable data.
    """
    path = Path(path)
    _check_memory_first(path, hdu)
    with _open(path) as hdul:
        index, selected = _select(hdul, hdu, path)
        if selected.data.ndim != 2:
            raise AstrocleanValueError(f"HDU {_label(selected, index)} of {path} is a {selected.data.ndim}-D cube "
                                       f"of shape {selected.data.shape}; use read_images() to get one image per plane")
        variance, dq, convention = _planes(hdul, selected, index, path)
        return _build(selected.data, selected, hdul[0], index, path, variance, dq, convention,
                      saturation=saturation)


def read_images(path, *, hdu=None, saturation: float | None = None) -> list[Image]:
    """Every science image of a file: each image HDU, each plane of a cube.

    Companion planes (ERR, DQ, WHT...) are attached to their science HDU, not
    returned on their own. ``hdu`` restricts to one HDU (a cube still gives
    one image per plane).
    """
    path = Path(path)
    images = []
    one = isinstance(hdu, int) and not isinstance(hdu, bool) and hdu >= 0
    _check_memory_first(path, hdu)
    with _open(path, load=hdu if one else "all") as hdul:
        if hdu is not None:
            candidates = [_select(hdul, hdu, path)]
        else:
            candidates = [(i, h) for i, h in enumerate(hdul) if _is_image(h) and h.name.upper() not in _COMPANIONS]
            if not candidates:
                _select(hdul, None, path)  # raises the clear error
        for index, h in candidates:
            variance, dq, convention = _planes(hdul, h, index, path)
            data = h.data
            if data.ndim == 2:
                images.append(_build(data, h, hdul[0], index, path, variance, dq, convention, saturation=saturation))
                continue
            planes = data.reshape((-1,) + data.shape[-2:])
            for k, plane in enumerate(planes):
                images.append(_build(plane, h, hdul[0], index, path, None, None, convention,
                                     saturation=saturation, plane=k))
    return images


def _check_header_memory(hdu, label):
    header = hdu.header
    if header.get("ZIMAGE"):
        shape = [header.get("ZNAXIS2", 0), header.get("ZNAXIS1", 0)]
    else:
        shape = [header.get("NAXIS2", 0), header.get("NAXIS1", 0)]
    check_memory([int(n or 0) for n in shape], label=label)


def _check_memory_first(path, hdu):
    """Refuse from the headers alone (no pixel read) an image too large for this machine's memory."""
    with _open(path, load="headers") as hdul:
        if hdu is None:
            for i, h in enumerate(hdul):
                if _header_is_image(h) and h.name.upper() not in _COMPANIONS:
                    _check_header_memory(h, f"{Path(path).name}[{_label(h, i)}]")
        else:
            index, h = _select(hdul, hdu, path, is_image=_header_is_image)
            _check_header_memory(h, f"{Path(path).name}[{_label(h, index)}]")


def _header_is_image(hdu) -> bool:
    return hdu.is_image and int(hdu.header.get("NAXIS", 0) or 0) >= 2


def list_images(path, *, hdu=None) -> list[tuple[int, str, int | None]]:
    """The science images :func:`read_images` would return, from the headers only (no pixel is read).

    Returns ``(hdu_index, hdu_label, plane)`` per image; ``plane`` is None for a 2-D HDU, the plane
    number for each plane of a cube. The batch layer (:mod:`astroclean.batch`) makes one task of each.

    Example
    -------
    >>> import numpy as np, tempfile, pathlib
    >>> from astropy.io import fits
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "cube.fits"
    >>> fits.PrimaryHDU(np.zeros((2, 4, 4), "f4")).writeto(path)
    >>> list_images(path)
    [(0, '0', 0), (0, '0', 1)]
    """
    path = Path(path)
    with _open(path, load="headers") as hdul:
        if hdu is not None:
            candidates = [_select(hdul, hdu, path, is_image=_header_is_image)]
        else:
            candidates = [(i, h) for i, h in enumerate(hdul)
                          if _header_is_image(h) and h.name.upper() not in _COMPANIONS]
            if not candidates:
                _select(hdul, None, path, is_image=_header_is_image)  # raises the clear error
        out = []
        for index, h in candidates:
            _check_header_memory(h, f"{path.name}[{_label(h, index)}]")
            naxis = int(h.header["NAXIS"])
            n_planes = int(np.prod([int(h.header.get(f"NAXIS{k}", 1)) for k in range(3, naxis + 1)]))
            label = _label(h, index)
            out += [(index, label, None)] if naxis == 2 else [(index, label, k) for k in range(n_planes)]
        return out
