"""Source positions from a catalogue (world or pixel coordinates), validated one by one.

Every input row gets an outcome: usable, or skipped with a reason that ends
up in the photometry table. Nothing is dropped silently.

Example
-------
>>> import numpy as np
>>> from astropy.table import Table
>>> from astroclean.sources.catalog import positions_from_table
>>> cat = Table({"x": [10.0, np.nan, 10.0, 500.0], "y": [12.0, 3.0, 12.0, 5.0]})
>>> pos = positions_from_table(cat, shape=(100, 100))
>>> pos.x.tolist(), pos.status.tolist()
([10.0, nan, 10.0, 500.0], ['ok', 'skipped: NaN coordinates', 'skipped: duplicate of source 0', 'skipped: outside the map (100 x 100 pixels)'])
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from astroclean.errors import AstrocleanFileError, AstrocleanValueError

RA_NAMES = ("ra", "raj2000", "ra_deg", "radeg", "alpha", "ra_icrs")
DEC_NAMES = ("dec", "dej2000", "decj2000", "dec_deg", "decdeg", "delta", "de_icrs", "dec_icrs")
X_NAMES = ("x", "xcentroid", "x_centroid", "xpix", "x_pix", "x_image", "xcenter")
Y_NAMES = ("y", "ycentroid", "y_centroid", "ypix", "y_pix", "y_image", "ycenter")


@dataclass(frozen=True)
class SourcePositions:
    """Pixel positions (0-based) of catalogue rows with a status per row.

    Attributes
    ----------
    x, y : ndarray (N,)
        Pixel coordinates (NaN where they could not be computed).
    ra, dec : ndarray (N,) or None
        World coordinates in degrees when given or computable.
    status : ndarray (N,) of str
        ``"ok"`` or ``"skipped: <reason>"``.
    """

    x: np.ndarray
    y: np.ndarray
    ra: np.ndarray | None
    dec: np.ndarray | None
    status: np.ndarray

    @property
    def usable(self) -> np.ndarray:
        return self.status == "ok"

    def __len__(self) -> int:
        return len(self.x)


def _find(columns, names):
    lower = {c.lower(): c for c in columns}
    for name in names:
        if name in lower:
            return lower[name]
    return None


def _blank(column) -> np.ndarray:
    """True where a cell is empty (a masked value, an empty or blank string)."""
    blank = np.array(np.ma.getmaskarray(column), dtype=bool).reshape(-1)
    raw = np.ma.getdata(column)
    if raw.dtype.kind in "US":
        blank |= np.char.strip(raw.astype(str)) == ""
    elif raw.dtype.kind == "O":
        blank |= np.array([v is None or str(v).strip() == "" for v in raw], dtype=bool)
    return blank


def _as_float(column, name) -> np.ndarray:
    """Numbers of a pixel column; blank cells NaN (never 0). Text that is not a number is a clear error."""
    blank = _blank(column)
    raw = np.ma.getdata(column)
    try:
        values = np.array([np.nan if b else float(v) for v, b in zip(raw, blank)], dtype=float) \
            if raw.dtype.kind in "USO" else np.asarray(raw, dtype=float).copy()
    except ValueError:
        bad = next(v for v, b in zip(raw, blank) if not b and not _is_number(v))
        raise AstrocleanValueError(f"catalogue column {name!r} holds {bad!r}, not a pixel coordinate; give numbers "
                                   "(0-based pixels, or 1-based with --one-based)") from None
    values[blank] = np.nan
    return values


def _is_number(value) -> bool:
    try:
        float(value)
        return True
    except (TypeError, ValueError):
        return False


def _as_degrees(column, *, hours: bool = False) -> np.ndarray:
    """Degrees of an RA or Dec column: numbers (degrees unless the column has a unit), or sexagesimal text
    (``10:21:33.5``, ``10h21m33.5s``; RA in hours, Dec in degrees) parsed by astropy. Blank cells are NaN."""
    import astropy.units as u
    from astropy.coordinates import Angle

    blank = _blank(column)
    unit = getattr(column, "unit", None)
    raw = np.ma.getdata(column)
    if raw.dtype.kind in "USO":
        values = np.full(len(raw), np.nan)
        for i, (text, empty) in enumerate(zip(raw, blank)):
            if empty:
                continue
            text = str(text).strip()
            if _is_number(text):
                values[i] = float(text)
                continue
            sexagesimal = hours and not any(c in text.lower() for c in "d°")
            try:
                values[i] = Angle(text, unit=u.hourangle if sexagesimal else u.deg).to_value(u.deg)
            except (ValueError, u.UnitsError):
                raise AstrocleanValueError(
                    f"catalogue {'RA' if hours else 'Dec'} value {text!r} is neither degrees nor sexagesimal "
                    f"({'10:21:33.5 or 10h21m33.5s' if hours else '+41:16:08 or 41d16m08s'}); fix the cell or "
                    "give degrees") from None
        return values
    values = np.asarray(raw, dtype=float).copy()
    if unit is not None and str(unit) not in ("", "deg"):
        values = (values * unit).to_value(u.deg)
    values[blank] = np.nan
    return values


def read_catalog(path):
    """Read a catalogue file (CSV, ECSV, FITS table, VOTable, whitespace text) as an astropy Table."""
    from astropy.table import Table

    path = Path(path)
    if not path.is_file():
        raise AstrocleanFileError(f"catalogue {path} does not exist; pass a CSV/ECSV/FITS table with ra,dec or x,y")
    attempts = [dict(format="ascii.ecsv"), dict(format="csv"), dict(format="fits"), dict(format="votable"),
                dict(format="ascii")]
    if path.suffix.lower() in (".fits", ".fit", ".gz"):
        attempts.insert(0, attempts.pop(2))
    with open(path, "rb") as fh:
        head = fh.read(4096).lstrip()
    if head.startswith(b"<") and b"VOTABLE" in head.upper() or path.suffix.lower() in (".vot", ".votable", ".xml"):
        attempts = [dict(format="votable")]  # XML: never read it as CSV text
    for kwargs in attempts:
        try:
            table = Table.read(path, **kwargs)
        except Exception:  # noqa: BLE001 - each reader raises its own exception types
            continue
        if len(table.colnames):
            return table
    raise AstrocleanFileError(f"cannot read catalogue {path} as CSV, ECSV, FITS or VOTable; "
                              "write it as CSV with a header line such as 'ra,dec' or 'x,y'")


def positions_from_table(table, *, shape, wcs=None, one_based: bool = False) -> SourcePositions:
    """Pixel positions of a catalogue's rows, each validated.

    World columns (``ra``/``dec``, degrees unless the column has a unit, or
    sexagesimal text: RA in hours ``10:21:33.5``, Dec in degrees) are preferred when present; otherwise pixel columns ``x``/``y`` (0-based, or
    1-based FITS/ds9 convention with ``one_based=True``).

    Parameters
    ----------
    table : astropy.table.Table
    shape : (ny, nx)
        The map's shape, to reject positions outside it.
    wcs : astropy.wcs.WCS, optional
        Required for world coordinates.
    one_based : bool
        Pixel columns count from 1 (FITS, ds9, SExtractor) instead of 0.

    Returns
    -------
    SourcePositions
        Rows with blank or NaN coordinates, duplicates (same pixel position to 0.01 px)
        or positions outside the map are marked skipped with the reason.

    Raises
    ------
    AstrocleanValueError
        No usable columns; world coordinates without a WCS.
    """
    columns = list(table.colnames)
    ra_col, dec_col = _find(columns, RA_NAMES), _find(columns, DEC_NAMES)
    x_col, y_col = _find(columns, X_NAMES), _find(columns, Y_NAMES)
    ra = dec = None
    if ra_col and dec_col:
        ra, dec = _as_degrees(table[ra_col], hours=True), _as_degrees(table[dec_col])
        blank = _blank(table[ra_col]) | _blank(table[dec_col])
        if wcs is None:
            raise AstrocleanValueError(f"the catalogue gives world coordinates ({ra_col}, {dec_col}) but the map "
                                       "has no WCS; give pixel columns x,y instead or a map with a celestial WCS")
        finite = np.isfinite(ra) & np.isfinite(dec)
        x = np.full(len(ra), np.nan)
        y = np.full(len(ra), np.nan)
        if finite.any():
            x[finite], y[finite] = wcs.celestial.all_world2pix(ra[finite], dec[finite], 0, quiet=True)
        unprojectable = finite & ~(np.isfinite(x) & np.isfinite(y))
        positions = validate_positions(x, y, shape=shape, ra=ra, dec=dec)
        positions = _mark(positions, unprojectable, "skipped: outside the map (not on its projection)")
        return _mark(positions, blank, f"skipped: blank {ra_col}/{dec_col} cell")
    elif x_col and y_col:
        x = _as_float(table[x_col], x_col) - (1.0 if one_based else 0.0)
        y = _as_float(table[y_col], y_col) - (1.0 if one_based else 0.0)
        blank = _blank(table[x_col]) | _blank(table[y_col])
        if wcs is not None:
            ra, dec = (np.asarray(v) for v in wcs.celestial.all_pix2world(x, y, 0))
    else:
        raise AstrocleanValueError(f"catalogue columns {columns} hold no positions; name them ra,dec (degrees, "
                                   "or sexagesimal text) or x,y (0-based pixels)")
    positions = validate_positions(x, y, shape=shape, ra=ra, dec=dec)
    return _mark(positions, blank, f"skipped: blank {x_col}/{y_col} cell")


def _mark(positions, where, reason) -> "SourcePositions":
    """``positions`` with rows ``where`` skipped for ``reason`` (a new status array: no truncated text)."""
    import dataclasses

    if not np.any(where):
        return positions
    status = positions.status.astype(object)
    status[where] = reason
    return dataclasses.replace(positions, status=status.astype(str))


def validate_positions(x, y, *, shape, ra=None, dec=None) -> SourcePositions:
    """Mark NaN, duplicate and outside-the-map positions as skipped (see :func:`positions_from_table`)."""
    x = np.atleast_1d(np.asarray(x, dtype=float))
    y = np.atleast_1d(np.asarray(y, dtype=float))
    if x.shape != y.shape or x.ndim != 1:
        raise AstrocleanValueError(f"x and y must be 1-d of equal length, got shapes {x.shape} and {y.shape}")
    status = np.full(len(x), "ok", dtype=object)
    finite = np.isfinite(x) & np.isfinite(y)
    status[~finite] = "skipped: NaN coordinates"
    inside = finite & (x >= -0.5) & (x < shape[1] - 0.5) & (y >= -0.5) & (y < shape[0] - 0.5)
    status[finite & ~inside] = f"skipped: outside the map ({shape[0]} x {shape[1]} pixels)"
    keys = np.round(np.stack([np.where(inside, x, 0), np.where(inside, y, 0)], axis=1) * 100).astype(np.int64)
    seen: dict = {}
    for i in np.flatnonzero(inside):
        key = (keys[i, 0], keys[i, 1])
        if key in seen:
            status[i] = f"skipped: duplicate of source {seen[key]}"
        else:
            seen[key] = i
    return SourcePositions(x=x, y=y, ra=None if ra is None else np.asarray(ra, float),
                           dec=None if dec is None else np.asarray(dec, float), status=status.astype(str))
