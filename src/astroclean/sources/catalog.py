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


def _as_degrees(column) -> np.ndarray:
    unit = getattr(column, "unit", None)
    values = np.asarray(getattr(column, "value", column), dtype=float)
    if unit is not None and str(unit) not in ("", "deg"):
        import astropy.units as u

        values = (values * unit).to_value(u.deg)
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

    World columns (``ra``/``dec``, degrees unless the column has a unit) are
    preferred when present; otherwise pixel columns ``x``/``y`` (0-based, or
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
        Rows with NaN coordinates, duplicates (same pixel position to 0.01 px)
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
        ra, dec = _as_degrees(table[ra_col]), _as_degrees(table[dec_col])
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
        positions.status[unprojectable] = "skipped: outside the map (not on its projection)"
        return positions
    elif x_col and y_col:
        x = np.asarray(table[x_col], dtype=float) - (1.0 if one_based else 0.0)
        y = np.asarray(table[y_col], dtype=float) - (1.0 if one_based else 0.0)
        if wcs is not None:
            ra, dec = (np.asarray(v) for v in wcs.celestial.all_pix2world(x, y, 0))
    else:
        raise AstrocleanValueError(f"catalogue columns {columns} hold no positions; name them ra,dec (degrees) "
                                   "or x,y (0-based pixels)")
    return validate_positions(x, y, shape=shape, ra=ra, dec=dec)


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
