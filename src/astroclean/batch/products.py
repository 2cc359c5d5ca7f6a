"""Which files are our products, checks that a product on disk is intact (for ``--resume``), and removal of
orphaned temporaries.

Products are written by :func:`astroclean.io.write_fits` (temporary name, then
rename, CHECKSUM/DATASUM cards in every HDU), so a file at its final name was complete when written; a
process killed while writing leaves only a hidden ``.<name>.<random>.tmp`` beside it, which
:func:`remove_temporaries` deletes after the run.

A file is *ours* when its primary header carries the ``ACTASK`` card (an ECSV table: the
``astroclean_task`` meta key; a quick-look PNG: an ``ACTASK`` text chunk). A file at a product's name that is not ours is never replaced, with or
without ``--resume``/``--overwrite``, and a file that is ours is never taken as an input.

Example
-------
>>> import numpy as np, tempfile, pathlib
>>> from astroclean.io import write_fits
>>> path = pathlib.Path(tempfile.mkdtemp()) / "p.fits"
>>> _ = write_fits(path, [("MASK", np.zeros((2, 2), "u1"), None)], provenance={"task": "demo"})
>>> check_product(path, provenance={"task": "demo"}, extnames=("MASK",)) is None
True
>>> check_product(path, provenance={"task": "other"}, extnames=("MASK",))
"p.fits: ACTASK is 'demo', expected 'other'"
"""

from __future__ import annotations

import math
import os
import warnings
from pathlib import Path

_SKIP = ("ACVERS", "ACDATE", "HISTORY")


def product_task(path) -> str | None:
    """The astroclean task that wrote ``path`` (its ``ACTASK`` card), or None when the file is not ours.

    Reads the first header block(s) only (an ECSV table: its YAML header). A file that cannot be read at
    all is not ours.
    """
    path = Path(path)
    try:
        if not path.is_file():
            return None
        if path.name.lower().endswith(".ecsv"):
            return _ecsv_meta(path).get("astroclean_task")
        if path.name.lower().endswith(".png"):
            with open(path, "rb") as fh:
                head = fh.read(1 << 16)
            at = head.find(b"tEXtACTASK\x00")
            if at < 0:
                return None
            length = int.from_bytes(head[at - 4:at], "big")
            return head[at + 11:at + 4 + length].decode("latin-1") or None
        with open(path, "rb") as fh:
            for block_number in range(MAX_HEADER_BLOCKS):  # the primary header only, block by block
                block = fh.read(2880)
                if len(block) < 2880 or (block_number == 0 and not block.startswith(b"SIMPLE  =")):
                    return None
                for i in range(0, 2880, 80):
                    card = block[i:i + 80]
                    if card.startswith(b"ACTASK  ="):
                        value = card[10:].split(b"/")[0].strip().strip(b"'").strip()
                        return value.decode("ascii", "replace") or None
                    if card.rstrip() == b"END":
                        return None
    except OSError:
        return None
    return None


MAX_HEADER_BLOCKS = 2000  # 72000 cards: far more than any real primary header


def _ecsv_meta(path) -> dict:
    """The ``astroclean_*`` keys of an ECSV file's YAML header (``# meta:``), read without the table body.

    Read by pattern, not by a YAML parser: astropy writes the meta as an ordered map with its own tags.
    """
    import re

    found = {}
    pattern = re.compile(r"(astroclean_\w+): *('[^']*'|\"[^\"]*\"|[^,}\s]+)")
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            if not line.startswith("#"):
                break
            for key, value in pattern.findall(line):
                found.setdefault(key, value.strip("'\""))
    return found


def foreign_file(path) -> str | None:
    """None when ``path`` does not exist or is our product; else why it must not be replaced."""
    path = Path(path)
    if not os.path.lexists(path):
        return None
    if not path.is_file() or path.is_symlink():
        return f"{path} exists and is not a regular file"
    if product_task(path) is None:
        return (f"{path} exists and was not written by astroclean (no ACTASK provenance card); it is never "
                "replaced: move it away or choose another output folder (-o)")
    return None


def check_product(path, *, provenance: dict, extnames=()) -> str | None:
    """None when ``path`` is a readable FITS product of these parameters, else the reason.

    Checks: the size is a whole number of FITS blocks, every header parses and the
    file is as long as the headers say, every HDU carries CHECKSUM and DATASUM cards
    and both verify (a flipped byte in a header or in the pixels fails),
    every name in ``extnames`` is present, and the primary header carries the
    provenance cards of ``provenance`` (the input checksum among them) with equal
    values. ``ACVERS``/``ACDATE`` and HISTORY lines are not compared.
    """
    from astropy.io import fits

    from astroclean.io import provenance_cards

    path = Path(path)
    if not path.is_file():
        return f"{path.name} missing"
    size = path.stat().st_size
    if size == 0 or size % 2880:
        return f"{path.name} truncated ({size} bytes is not a whole number of 2880-byte FITS blocks)"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            warnings.filterwarnings("error", message=".*truncated.*")
            warnings.filterwarnings("error", message=".*[Cc]hecksum verification failed.*")
            warnings.filterwarnings("error", message=".*[Dd]atasum verification failed.*")
            with fits.open(path, memmap=False, lazy_load_hdus=False, checksum=True) as hdul:
                names = [h.name for h in hdul]
                header = hdul[0].header.copy()
                unsummed = [h.name or str(i) for i, h in enumerate(hdul)
                            if "CHECKSUM" not in h.header or "DATASUM" not in h.header]
    except Exception as exc:  # noqa: BLE001 - any failure to read means "not a valid product"
        return f"{path.name} unreadable or corrupt ({type(exc).__name__}: {exc})"
    if unsummed:
        return f"{path.name} has no CHECKSUM/DATASUM in HDU {', '.join(unsummed)}: it cannot be verified"
    missing = [n for n in extnames if n not in names]
    if missing:
        return f"{path.name} lacks extension(s) {', '.join(missing)}"
    for keyword, value, _ in provenance_cards(provenance):
        if keyword in _SKIP:
            continue
        found = header.get(keyword)
        same = (isinstance(value, float) and isinstance(found, (int, float)) and math.isclose(found, value,
                                                                                            rel_tol=1e-9))
        if not same and found != value:
            return f"{path.name}: {keyword} is {found!r}, expected {value!r}"
    return None


def remove_temporaries(outputs) -> list[Path]:
    """Delete the temporaries ``.<name>.<random>.tmp`` that a killed writer left beside ``outputs``.

    Each folder is listed once. Call it only when no task writing these outputs is
    still running. Returns the paths removed.
    """
    by_dir: dict[Path, set] = {}
    for path in outputs:
        path = Path(path)
        by_dir.setdefault(path.parent, set()).add(path.name)
    removed = []
    for folder, names in by_dir.items():
        try:
            entries = list(os.scandir(folder))
        except FileNotFoundError:
            continue
        for entry in entries:
            name = entry.name
            if name.startswith(".") and name.endswith(".tmp") and name[1:].rsplit(".", 2)[0] in names:
                try:
                    os.unlink(entry.path)
                    removed.append(Path(entry.path))
                except FileNotFoundError:
                    pass
    return removed
