"""Square cutouts around sources, and pasting predictions back into the map.

Both cost O(sources x cutout): a cutout is gathered by fancy indexing with
clipped indices, never by padding or copying the whole map per source.

Example
-------
>>> import numpy as np
>>> from astroclean.sources.cutouts import extract_cutouts
>>> image = np.arange(100, dtype="f4").reshape(10, 10)
>>> cut = extract_cutouts(image, x=[0.0], y=[0.0], size=4)
>>> cut.data[0]                          # rows/columns outside the map are NaN
array([[nan, nan, nan, nan],
       [nan, nan, nan, nan],
       [nan, nan,  0.,  1.],
       [nan, nan, 10., 11.]], dtype=float32)
>>> cut.centre[0]                        # the source inside the cutout (y, x)
array([2., 2.])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from astroclean.errors import AstrocleanValueError


@dataclass(frozen=True)
class Cutouts:
    """A stack of cutouts.

    Attributes
    ----------
    data : ndarray (N, size, size) float32
        Map values; NaN where the cutout extends beyond the map.
    origin : ndarray (N, 2) int
        Map pixel (y0, x0) of each cutout's corner ``[0, 0]``.
    centre : ndarray (N, 2) float
        The source position (y, x) in cutout pixels: ``size // 2`` plus the
        sub-pixel offset, so in [size//2 - 0.5, size//2 + 0.5).
    """

    data: np.ndarray
    origin: np.ndarray
    centre: np.ndarray

    @property
    def size(self) -> int:
        return self.data.shape[-1]

    def __len__(self) -> int:
        return len(self.data)


def _positions(x, y):
    x = np.atleast_1d(np.asarray(x, dtype=float))
    y = np.atleast_1d(np.asarray(y, dtype=float))
    if x.shape != y.shape or x.ndim != 1:
        raise AstrocleanValueError(f"x and y must be 1-d with the same length, got shapes {x.shape} and {y.shape}")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise AstrocleanValueError("x and y must be finite; drop NaN positions first "
                                   "(remove_compact_sources reports them as skipped)")
    return x, y


def cutout_origin(x, y, *, size: int) -> np.ndarray:
    """Corner (y0, x0) of the ``size`` cutouts centred on the pixels nearest to (x, y)."""
    x, y = _positions(x, y)
    return np.stack([np.floor(y + 0.5).astype(np.int64) - size // 2,
                     np.floor(x + 0.5).astype(np.int64) - size // 2], axis=1)


def cutout_indices(origin: np.ndarray, shape, size: int):
    """Row and column indices (N, size) of each cutout, and whether each lies inside the map."""
    offsets = np.arange(size)
    rows = origin[:, :1] + offsets
    cols = origin[:, 1:] + offsets
    inside_r = (rows >= 0) & (rows < shape[0])
    inside_c = (cols >= 0) & (cols < shape[1])
    return rows, cols, inside_r, inside_c


def extract_cutouts(image, x, y, *, size: int = 96) -> Cutouts:
    """Cut ``size x size`` stamps centred on (x, y), NaN-padded beyond the map edges.

    Parameters
    ----------
    image : array_like (ny, nx)
    x, y : array_like (N,)
        Source positions in 0-based pixel coordinates (numpy / photutils
        convention: the centre of the first pixel is 0).
    size : int
        Side of the square cutouts (even or odd).

    Returns
    -------
    Cutouts

    Raises
    ------
    AstrocleanValueError
        Non-finite positions, mismatched shapes, size < 1, image not 2-d.
    """
    image = np.asarray(image)
    if image.ndim != 2:
        raise AstrocleanValueError(f"image must be 2-d, got shape {image.shape}")
    if int(size) < 1:
        raise AstrocleanValueError(f"cutout size must be >= 1, got {size}")
    size = int(size)
    x, y = _positions(x, y)
    origin = cutout_origin(x, y, size=size)
    rows, cols, inside_r, inside_c = cutout_indices(origin, image.shape, size)
    r = np.clip(rows, 0, image.shape[0] - 1)
    c = np.clip(cols, 0, image.shape[1] - 1)
    data = image[r[:, :, None], c[:, None, :]].astype(np.float32)
    data[~(inside_r[:, :, None] & inside_c[:, None, :])] = np.nan
    centre = np.stack([y - origin[:, 0], x - origin[:, 1]], axis=1)
    return Cutouts(data=data, origin=origin, centre=centre)


def centre_weights(size: int) -> np.ndarray:
    """Blending weight of each cutout pixel: 1 at the centre falling smoothly to ~0 at the border.

    Where cutouts overlap, a pixel's background is taken mostly from the
    cutout in which it lies nearest the centre, i.e. where the network saw
    most of its surroundings.
    """
    t = (np.arange(size) + 0.5) / size
    w = np.sin(np.pi * t) ** 2
    return np.outer(w, w) + 1e-6


class PasteAccumulator:
    """Weighted average of overlapping cutout predictions on the map grid.

    Memory: two map-size arrays, whatever the number of sources; each
    :meth:`add` costs O(batch x cutout).

    Example
    -------
    >>> import numpy as np
    >>> acc = PasteAccumulator((8, 8))
    >>> acc.add(np.ones((1, 4, 4)), np.ones((1, 4, 4), bool), np.array([[2, 2]]))
    >>> filled, covered = acc.result()
    >>> int(covered.sum()), float(filled[3, 3])
    (16, 1.0)
    """

    def __init__(self, shape):
        self.shape = tuple(shape)
        self._sum = np.zeros(self.shape, np.float64)
        self._weight = np.zeros(self.shape, np.float64)

    def add(self, values, where, origin) -> None:
        """Add ``values`` (N, s, s) at pixels ``where`` (N, s, s) bool of cutouts with corners ``origin``."""
        values = np.asarray(values, dtype=np.float64)
        size = values.shape[-1]
        rows, cols, inside_r, inside_c = cutout_indices(np.asarray(origin), self.shape, size)
        keep = np.asarray(where, bool) & inside_r[:, :, None] & inside_c[:, None, :] & np.isfinite(values)
        weights = np.broadcast_to(centre_weights(size), values.shape)
        n, iy, ix = np.nonzero(keep)
        flat = rows[n, iy] * self.shape[1] + cols[n, ix]
        np.add.at(self._sum.reshape(-1), flat, (weights * values)[keep])
        np.add.at(self._weight.reshape(-1), flat, weights[keep])

    def result(self):
        """(average, covered): the blended values (NaN where nothing was pasted) and the covered pixels."""
        covered = self._weight > 0
        average = np.full(self.shape, np.nan)
        average[covered] = self._sum[covered] / self._weight[covered]
        return average, covered
