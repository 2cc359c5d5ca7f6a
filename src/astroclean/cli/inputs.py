"""Input expansion and summary tables shared by every task's command.

Example
-------
>>> from astroclean.cli.inputs import format_table
>>> print(format_table([{"file": "a.fits", "n": 3}]))
file    n
------  -
a.fits  3
"""

from __future__ import annotations

import glob
from pathlib import Path

from ..errors import AstrocleanFileError

FITS_SUFFIXES = (".fits", ".fit", ".fts", ".fits.fz", ".fits.gz", ".fit.gz", ".fz")


def is_fits_name(path: Path) -> bool:
    name = path.name.lower()
    return any(name.endswith(s) for s in FITS_SUFFIXES)


def is_companion(path: Path) -> bool:
    """A DECam Community Pipeline DQ (``_ood_``) or weight (``_oow_``) file whose image (``_ooi_``) is beside it.

    Such files are read with their image, not processed on their own.
    """
    for tag in ("_ood_", "_oow_"):
        if tag in path.name and path.with_name(path.name.replace(tag, "_ooi_")).exists():
            return True
    return False


def expand_inputs(inputs) -> list[Path]:
    """Files, quoted globs and directories (their FITS files) to a sorted, de-duplicated list.

    Companion planes (see :func:`is_companion`) are dropped: they travel with their image.

    Raises
    ------
    AstrocleanFileError
        When nothing matches at all (an empty glob, a missing path).
    """
    found, missing = [], []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            found += sorted(p for p in path.iterdir() if p.is_file() and is_fits_name(p))
        elif any(ch in str(item) for ch in "*?["):
            matches = sorted(Path(p) for p in glob.glob(str(item)) if Path(p).is_file())
            if not matches:
                missing.append(f"{item} (glob matched nothing)")
            found += matches
        else:
            found.append(path)  # missing files are reported per file, as failures
    unique = [p for p in dict.fromkeys(found) if not is_companion(p)]
    if not unique:
        raise AstrocleanFileError("no input files: " + "; ".join(missing or [str(i) for i in inputs]) +
                                  "; check the paths or the quoted glob")
    return unique


def product_stem(path: Path) -> str:
    """``frame.fits.fz`` -> ``frame``."""
    name = path.name
    for suffix in sorted(FITS_SUFFIXES, key=len, reverse=True):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


def format_table(rows: list[dict]) -> str:
    """A plain aligned text table of ``rows`` (dicts with the same keys)."""
    if not rows:
        return "(no rows)"
    keys = list(rows[0])
    cells = [[str(r.get(k, "")) for k in keys] for r in rows]
    widths = [max(len(k), *(len(c[i]) for c in cells)) for i, k in enumerate(keys)]
    lines = ["  ".join(k.ljust(w) for k, w in zip(keys, widths)).rstrip(),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells]
    return "\n".join(lines)
