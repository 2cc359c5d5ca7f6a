"""Checks that a product on disk is complete (for ``--resume``) and removal of orphaned temporaries.

Products are written by :func:`astroclean.io.write_fits` (temporary name, then
rename), so a file at its final name was complete when written; a process killed
while writing leaves only a hidden ``.<name>.<random>.tmp`` beside it, which
:func:`remove_temporaries` deletes after the run.

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


def check_product(path, *, provenance: dict, extnames=()) -> str | None:
    """None when ``path`` is a readable FITS product of these parameters, else the reason.

    Checks: the size is a whole number of FITS blocks, every header parses and the
    file is as long as the headers say (a truncated file fails; no pixel is read,
    so validating a night of products is cheap),
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
            with fits.open(path, memmap=False, lazy_load_hdus=False) as hdul:  # headers only: no pixel is read
                names = [h.name for h in hdul]
                header = hdul[0].header.copy()
    except Exception as exc:  # noqa: BLE001 - any failure to read means "not a valid product"
        return f"{path.name} unreadable ({type(exc).__name__}: {exc})"
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
