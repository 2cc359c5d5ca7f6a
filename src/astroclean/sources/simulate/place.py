"""Placement helpers for far-infrared source injection (positions, pasting stamps); not public API."""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from astroclean.instruments.pacs import transform_psf


def _paste(plane, stamp, iy, ix) -> float:
    """Add ``stamp`` centred on integer pixel (iy, ix) into ``plane`` (clipped); returns the sum added."""
    h = stamp.shape[0] // 2
    ny, nx = plane.shape
    y0, x0 = iy - h, ix - h
    sy0, sx0 = max(0, -y0), max(0, -x0)
    sy1 = stamp.shape[0] - max(0, y0 + stamp.shape[0] - ny)
    sx1 = stamp.shape[1] - max(0, x0 + stamp.shape[1] - nx)
    if sy1 <= sy0 or sx1 <= sx0:
        return 0.0
    part = stamp[sy0:sy1, sx0:sx1]
    plane[y0 + sy0:y0 + sy1, x0 + sx0:x0 + sx1] += part
    return float(part.sum())


def _source_stamp(psf_array, flux, frac_y, frac_x, angle):
    return flux * transform_psf(psf_array, angle=angle, shift=(frac_y, frac_x), normalise=True)


def _candidates(mask, real, *, margin, avoid_radius, box=31, min_valid=0.9):
    """Integer pixels usable as source centres: covered surroundings, away from edges and real sources."""
    valid = ~np.asarray(mask, bool)
    frac = ndi.uniform_filter(valid.astype(np.float32), size=box, mode="constant")
    ok = valid & (frac >= min_valid)
    if margin > 0:
        ok[:margin] = ok[-margin:] = False
        ok[:, :margin] = ok[:, -margin:] = False
    ys, xs = np.nonzero(ok)
    if len(real) and avoid_radius > 0:
        from scipy.spatial import cKDTree

        d, _ = cKDTree(np.asarray(real)[:, :2]).query(np.column_stack([ys, xs]))
        keep = d >= avoid_radius
        ys, xs = ys[keep], xs[keep]
    return ys, xs


def _place(ys, xs, n, rng, min_separation):
    """Up to ``n`` distinct candidates at least ``min_separation`` apart (greedy over a shuffle).

    Accepting a point blocks every candidate within ``min_separation`` (a
    k-d tree query), so a full map costs one boolean test per candidate.
    """
    order = rng.permutation(len(ys))
    if not min_separation:
        order = order[:n]
        return ys[order], xs[order]
    from scipy.spatial import cKDTree

    tree = cKDTree(np.column_stack([ys, xs]))
    blocked = np.zeros(len(ys), bool)
    picked = []
    for k in order:
        if blocked[k]:
            continue
        picked.append(k)
        if len(picked) == n:
            break
        blocked[tree.query_ball_point((ys[k], xs[k]), r=min_separation - 1e-9)] = True
    picked = np.asarray(picked, dtype=np.int64)
    return ys[picked], xs[picked]
