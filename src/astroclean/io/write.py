"""Write products atomically, keeping the input header and WCS, adding provenance.

A product is written to a temporary file in the destination folder and
renamed into place only when complete, so a crash never leaves a truncated
file that looks done. Existing files are never replaced unless
``overwrite=True``.

Example
-------
>>> import numpy as np, tempfile, pathlib
>>> from astroclean.io import write_fits
>>> path = pathlib.Path(tempfile.mkdtemp()) / "x.fits"
>>> _ = write_fits(path, [("MASK", np.zeros((2, 2), "u1"), None)], provenance={"task": "demo"})
>>> from astropy.io import fits; fits.getheader(path)["ACTASK"]
'demo'
"""

from __future__ import annotations

import os
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from astropy.io import fits

from astroclean import __version__
from astroclean.errors import AstrocleanFileError

_UMASK = os.umask(0)
os.umask(_UMASK)
_STRUCTURAL = ("SIMPLE", "XTENSION", "BITPIX", "NAXIS", "NAXIS1", "NAXIS2", "NAXIS3", "EXTEND", "PCOUNT",
               "GCOUNT", "BZERO", "BSCALE", "BLANK", "CHECKSUM", "DATASUM", "ZIMAGE", "ZBITPIX", "ZCMPTYPE",
               "EXTNAME", "EXTVER", "TFIELDS")


def provenance_cards(provenance: dict) -> list[tuple]:
    """FITS cards recording how a product was made.

    ``provenance`` keys: ``task``, ``model``, ``model_sha256``, and any
    parameters; each becomes an ``AC*`` keyword (HIERARCH when long) plus a
    HISTORY line. ``input_sha256`` (the input file's checksum) becomes ``ACISHA``.
    ``ACDATE`` is the time of processing, or ``SOURCE_DATE_EPOCH`` (seconds) when
    that environment variable is set, for byte-identical reruns.
    """
    epoch = os.environ.get("SOURCE_DATE_EPOCH")  # reproducible products (reproducible-builds.org convention)
    when = datetime.fromtimestamp(int(epoch), timezone.utc) if epoch and epoch.isdigit() else datetime.now(timezone.utc)
    cards = [("ACVERS", __version__, "astroclean version"),
             ("ACDATE", when.strftime("%Y-%m-%dT%H:%M:%S"), "UTC time of processing")]
    short = {"task": "ACTASK", "model": "ACMODEL", "model_sha256": "ACMSHA", "input_sha256": "ACISHA"}
    for key, value in provenance.items():
        if value is None:
            continue
        value = value if isinstance(value, (int, float, bool, str)) else str(value)
        keyword = short.get(key) or ("AC" + key.upper().replace("_", ""))[:8]
        if isinstance(value, str) and len(value) > 60 and not key.endswith("sha256"):
            cards.append(("HISTORY", f"astroclean {key}={value}", None))
        else:
            comment = f"astroclean {key}" if not isinstance(value, str) or len(value) < 40 else None
            cards.append((keyword, value, comment))
    return cards


def clean_header(header) -> fits.Header:
    """A copy of ``header`` without structural keywords, ready for a new HDU."""
    out = fits.Header()
    if header is None:
        return out
    for card in header.cards:
        if card.keyword in _STRUCTURAL or card.keyword.startswith(("NAXIS", "ZNAXIS", "ZTILE", "ZNAME", "ZVAL")):
            continue
        out.append(card, end=True)
    return out


def check_writable(path, *, overwrite: bool) -> Path:
    """Raise unless ``path`` can be (over)written; returns it as a Path."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise AstrocleanFileError(f"{path} exists; pass overwrite=True (CLI: --overwrite) to replace it, "
                                  "or choose another output directory")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.exists():
        raise AstrocleanFileError(f"output directory {parent} does not exist; create it first")
    if not os.access(parent, os.W_OK):
        raise AstrocleanFileError(f"output directory {parent} is not writable; choose another with -o")
    return path


def atomic_write(path, write_fn, *, overwrite: bool = False) -> Path:
    """Call ``write_fn(tmp_path)`` then rename the temporary file to ``path``."""
    path = check_writable(path, overwrite=overwrite)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write_fn(tmp)
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; products get the usual permissions
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        if not overwrite and path.exists():
            raise AstrocleanFileError(f"{path} appeared while writing; not replacing it")
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def write_fits(path, extensions, *, primary_header=None, provenance: dict | None = None,
               overwrite: bool = False) -> Path:
    """Write image extensions to ``path`` atomically.

    Parameters
    ----------
    path : str or Path
    extensions : list of (extname, data, header)
        ``header`` (may be None) is the input HDU's header, whose WCS and
        keywords are kept.
    primary_header : astropy.io.fits.Header, optional
        The input file's primary header.
    provenance : dict, optional
        Recorded in every HDU (see :func:`provenance_cards`).
    overwrite : bool
        Replace an existing file.
    """
    cards = provenance_cards(provenance or {})
    primary = fits.PrimaryHDU(header=clean_header(primary_header))
    hdus = [primary]
    for extname, data, header in extensions:
        data = np.asarray(data)
        if data.dtype == bool:
            data = data.astype(np.uint8)
        if not data.dtype.isnative:
            data = data.astype(data.dtype.newbyteorder("="))
        hdus.append(fits.ImageHDU(data=data, header=clean_header(header), name=extname))
    for hdu in hdus:
        for keyword, value, comment in cards:
            if keyword == "HISTORY":
                hdu.header.add_history(value)
            else:
                hdu.header[keyword] = (value, comment)
    hdul = fits.HDUList(hdus)
    return atomic_write(path, lambda tmp: hdul.writeto(tmp, overwrite=True, output_verify="silentfix"),
                        overwrite=overwrite)
