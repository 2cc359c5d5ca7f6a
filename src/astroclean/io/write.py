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
        if isinstance(value, str):
            value = card_text(value)
        keyword = short.get(key) or ("AC" + key.upper().replace("_", ""))[:8]
        if isinstance(value, str) and len(value) > 60 and not key.endswith("sha256"):
            cards.append(("HISTORY", f"astroclean {key}={value}", None))
        else:
            comment = f"astroclean {key}" if not isinstance(value, str) or len(value) < 40 else None
            cards.append((keyword, value, comment))
    return cards


def card_text(value: str) -> str:
    """``value`` as text a FITS card can hold (printable ASCII): other characters become escapes.

    A non-ASCII path (``café.fits``) is written ``caf\\xc3\\xa9.fits`` (its UTF-8 bytes); a file name that is not valid UTF-8
    (lone surrogates) becomes its bytes as ``\\xNN``. The same function is applied when products are
    checked on ``--resume``, so the comparison holds.
    """
    if value.isascii() and value.isprintable():
        return value
    raw = value.encode("utf-8", "surrogateescape")
    text = raw.decode("ascii", "backslashreplace")
    return "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in text)


def clean_header(header) -> fits.Header:
    """A copy of ``header`` without structural keywords, ready for a new HDU.

    Input cards that FITS cannot write (a control character in a comment, an illegal keyword) are
    fixed when astropy can fix them and dropped otherwise, with a warning that names them: the input's
    fault is never reported as an error of the product.
    """
    import warnings

    out = fits.Header()
    if header is None:
        return out
    dropped = []
    for card in header.cards:
        if card.keyword in _STRUCTURAL or card.keyword.startswith(("NAXIS", "ZNAXIS", "ZTILE", "ZNAME", "ZVAL")):
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                card.verify("silentfix+exception")
                str(card)  # the image of the card must be writable too
        except Exception:  # noqa: BLE001 - VerifyError or a value that cannot be formatted
            dropped.append(card.keyword or "(blank)")
            continue
        out.append(card, end=True)
    if dropped:
        warnings.warn(f"input header card(s) {', '.join(dropped)} cannot be written to FITS (unfixable "
                      "errors in the input header); left out of the product", stacklevel=2)
        out.add_history(card_text(f"astroclean: input card(s) left out, not valid FITS: {', '.join(dropped)}"))
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
    """Write image extensions to ``path`` atomically, with CHECKSUM/DATASUM cards in every HDU.

    The checksums let ``--resume`` verify a product's headers and pixels before skipping it
    (:func:`astroclean.batch.check_product`).

    Parameters
    ----------
    path : str or Path
    extensions : list of (extname, data, header) or (extname, data, header, unit)
        ``header`` (may be None) is the input HDU's header, whose WCS and
        keywords are kept. With a fourth item, BUNIT is set to ``unit``, or removed
        when it is None or "" (masks, probabilities): BUNIT only where it is true.
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
    for extension in extensions:
        extname, data, header = extension[:3]
        data = np.asarray(data)
        if data.dtype == bool:
            data = data.astype(np.uint8)
        if not data.dtype.isnative:
            data = data.astype(data.dtype.newbyteorder("="))
        hdu = fits.ImageHDU(data=data, header=clean_header(header), name=extname)
        if len(extension) > 3:  # the unit of THIS plane: a mask or a probability has none, whatever the input's
            unit = extension[3]
            hdu.header.remove("BUNIT", ignore_missing=True, remove_all=True)
            if unit:
                hdu.header["BUNIT"] = (str(unit), "unit of the pixel values")
        hdus.append(hdu)
    for hdu in hdus:
        for keyword, value, comment in cards:
            if keyword == "HISTORY":
                hdu.header.add_history(value)
            else:
                hdu.header[keyword] = (value, comment)
    hdul = fits.HDUList(hdus)
    when = dict((k, v) for k, v, _ in cards)["ACDATE"]

    def write(tmp):
        try:
            hdul.verify("silentfix")
            for hdu in hdul:  # our own checksum time (ACDATE), not astropy's clock: byte-identical reruns
                hdu.add_checksum(when=f"HDU checksum updated {when}")
            hdul.writeto(tmp, overwrite=True, output_verify="silentfix", checksum=False)
        except fits.VerifyError as exc:
            raise AstrocleanFileError(f"cannot write {path}: a header card is not valid FITS ({exc}); "
                                      "this comes from the input header or the provenance") from None

    return atomic_write(path, write, overwrite=overwrite)
