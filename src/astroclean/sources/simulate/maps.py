"""Compact far-infrared sources injected into real and synthetic backgrounds, with their truth.

Real PACS PSFs (:mod:`.far_infrared_psf`, cut from gamma Dra maps) are
rotated by a random angle, shifted by a sub-pixel offset, scaled to a flux
(log-uniform in 10 mJy - 40 Jy, or given levels) and added to backgrounds
from :mod:`.far_infrared_fields` (real PACS maps, rescaled Galactic maps,
synthetic filamentary fields). Everything returns its truth: the
background, the sources plane (``image - background``, exactly) and a
source table.

Splits are disjoint by construction: train and benchmark use different
PACS observations, disjoint column ranges of the Galactic maps and
different seed branches for the synthetic fields (see
:func:`~astroclean.sources.simulate.fields.far_ir_backgrounds`). The
real PACS maps carry real sources (PPM 181320 at the centre); injections
keep ``avoid_radius`` pixels away from every real source listed in
``Background.real_sources``.

Example
-------
>>> import numpy as np
>>> from astroclean.sources.simulate.maps import make_cutout_set
>>> cs = make_cutout_set(4, split="benchmark", rng=0)
>>> cs["image"].shape, cs["hole"].dtype, cs["radius"].min() >= 5
((4, 96, 96), dtype('bool'), np.True_)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from astroclean.errors import AstrocleanValueError
from astroclean.simulate.common import as_rng
from astroclean.sources.simulate.fields import Background, far_ir_backgrounds
from astroclean.sources.simulate.place import _candidates, _paste, _place, _source_stamp
from astroclean.instruments.pacs import Psf, load_pacs_psf

__all__ = ["SourceTruth", "inject_point_sources", "make_cutout_set", "make_source_maps", "FLUX_LEVELS"]

#: Discrete benchmark flux levels (Jy).
FLUX_LEVELS = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 40.0)
_KIND_WEIGHTS = {"pacs": 0.4, "galactic": 0.3, "synthetic": 0.3}


@dataclass(frozen=True)
class SourceTruth:
    """Truth of an injection.

    Attributes
    ----------
    table : astropy.table.Table
        One row per injected source: ``id, x, y`` (0-based pixels), ``ra,
        dec`` (ICRS deg, NaN without a celestial WCS), ``flux`` (Jy, total: the PSF of a 1 Jy
        source holds ``psf.flux_fraction`` of it within its stamp, as real
        level-2 maps do), ``flux_in_map`` (what the map received: ``flux x
        flux_fraction``, less for a source within a PSF radius of the border), ``angle`` (deg, PSF rotation).
    background : ndarray (y, x) float32
        The input background (NaN where there are no data).
    sources : ndarray (y, x) float64
        ``image - background`` (exact; NaN where the background is NaN).
    mask : ndarray bool
        True = no data.
    wcs : astropy.wcs.WCS or None
    meta : dict
    """

    table: object
    background: np.ndarray
    sources: np.ndarray
    mask: np.ndarray
    wcs: object = None
    meta: dict = field(default_factory=dict)


def inject_point_sources(background, psf: Psf, *, n: int | None = None, fluxes=None, flux_range=(0.01, 40.0),
                         rng=None, min_separation: float = 0.0, avoid_radius: float = 24.0, margin: int = 0):
    """Add ``n`` rotated, sub-pixel-shifted PSFs at random positions of ``background``.

    Parameters
    ----------
    background : Background or array_like (y, x)
        A :class:`~astroclean.sources.simulate.fields.Background`, or a
        plain map (NaN = no data). Not modified.
    psf : Psf
        Must be on the background's pixel grid.
    n : int, optional
        Number of sources (default ``len(fluxes)``).
    fluxes : array_like, optional
        Fluxes in Jy (else log-uniform in ``flux_range``).
    flux_range : (float, float)
    rng : Generator or int
    min_separation : float
        Minimum distance (pixels) between injected sources. When the map is
        too small, fewer sources are placed (the table says how many).
    avoid_radius : float
        Minimum distance to the background's real sources.
    margin : int
        Minimum distance to the map border.

    Returns
    -------
    image : ndarray float32 (y, x)
    truth : SourceTruth

    Raises
    ------
    AstrocleanValueError
        Bad counts or flux range.

    Example
    -------
    >>> import numpy as np
    >>> from astroclean.instruments.pacs import load_pacs_psf
    >>> image, truth = inject_point_sources(np.zeros((128, 128), "f4"), load_pacs_psf("blue"), n=3, rng=1, margin=30)
    >>> bool(np.allclose(truth.sources.sum(), truth.table["flux_in_map"].sum()))
    True
    """
    from astropy.table import Table

    rng = as_rng(rng)
    if isinstance(background, Background):
        bg, mask, wcs, real, name = background.image, background.mask, background.wcs, background.real_sources, \
            background.name
    else:
        bg = np.asarray(background, dtype=np.float32)
        mask, wcs, real, name = ~np.isfinite(bg), None, np.zeros((0, 3)), "array"
    if fluxes is not None:
        fluxes = np.atleast_1d(np.asarray(fluxes, dtype=np.float64))
        n = len(fluxes) if n is None else n
        if n != len(fluxes):
            raise AstrocleanValueError(f"n={n} disagrees with {len(fluxes)} fluxes; give one of them")
    if n is None or n < 0:
        raise AstrocleanValueError(f"give n >= 0 or fluxes, got n={n}")
    lo, hi = flux_range
    if not 0 < lo <= hi:
        raise AstrocleanValueError(f"flux_range must be (low, high) with 0 < low <= high, got {flux_range}")
    ys, xs = _candidates(mask, real, margin=margin, avoid_radius=avoid_radius)
    ys, xs = _place(ys, xs, n, rng, min_separation)
    m = len(ys)
    if fluxes is None:
        fluxes = np.exp(rng.uniform(np.log(lo), np.log(hi), m))
    fluxes = fluxes[:m]
    frac = rng.uniform(-0.5, 0.5, (m, 2))
    angles = rng.uniform(0.0, 360.0, m)
    plane = np.zeros(bg.shape, np.float64)
    in_map = np.array([_paste(plane, _source_stamp(psf.array, fluxes[k], frac[k, 0], frac[k, 1], angles[k]),
                              ys[k], xs[k]) for k in range(m)])
    image = (bg.astype(np.float64) + plane).astype(np.float32)
    sources = image.astype(np.float64) - bg.astype(np.float64)
    x = xs + frac[:, 1]
    y = ys + frac[:, 0]
    ra = dec = np.full(m, np.nan)
    if wcs is not None and m:
        try:                                  # ICRS whatever the map's frame (the Galactic maps are GLON/GLAT)
            sky = wcs.pixel_to_world(x, y).icrs
            ra, dec = sky.ra.deg, sky.dec.deg
        except Exception:  # noqa: BLE001 - a WCS without a celestial frame gives no coordinates
            ra = dec = np.full(m, np.nan)
    table = Table({"id": np.arange(m), "x": x, "y": y, "ra": np.asarray(ra, float), "dec": np.asarray(dec, float),
                   "flux": fluxes, "flux_in_map": in_map.reshape(-1), "angle": angles})
    table["flux"].unit = "Jy"
    table.meta.update({"background": name, "psf_band": psf.band, "n_requested": int(n)})
    truth = SourceTruth(table=table, background=bg, sources=sources, mask=np.asarray(mask, bool), wcs=wcs,
                        meta={"background": name, "real_sources": np.asarray(real).tolist()})
    return image, truth


def _pick_backgrounds(bgs, n, rng):
    kinds = sorted({b.kind for b in bgs})
    w_kind = np.array([_KIND_WEIGHTS[k] for k in kinds])
    w = np.array([w_kind[kinds.index(b.kind)] / sum(b2.kind == b.kind for b2 in bgs) for b in bgs])
    return rng.choice(len(bgs), size=n, p=w / w.sum())


def make_cutout_set(n: int, *, split: str, band: str = "blue", mode: str = "scan", size: int = 96, rng=None,
                    flux_range=(0.01, 40.0), neighbour_fraction: float = 0.3, jitter: float = 2.0,
                    mask_table=None, data_dir=None) -> dict:
    """A training (or benchmark) set of cutouts, each centred on an injected source.

    Each cutout is cut from a background (PACS 40 %, Galactic 30 %,
    synthetic 30 % by kind) around a random covered position away from real
    sources; one PSF (random flux, angle and sub-pixel offset) is injected
    there and, with probability ``neighbour_fraction``, 1-3 neighbours
    anywhere in the cutout at least 8 px from it. The cutout (and the hole)
    is centred on a "catalogue" position offset from the true one by up to
    ``jitter`` pixels per axis (uniform): the +-2 px shifts are done HERE,
    the trainer only needs flips/rotations. Holes: the central source's SNR
    (measured on the image cutout) sets its radius by ``mask_table``
    (default :data:`~astroclean.sources.masks.DEFAULT_MASK_TABLES` of the
    band and mode); neighbours are masked with their own radii.

    Parameters
    ----------
    n : int
    split : {"train", "benchmark"}
    band : {"blue", "green", "red"}
    mode : {"scan", "chopnod"}
    size : int
    rng : Generator or int
    flux_range : (float, float)
        Jy; log-uniform for the central source and the neighbours.
    neighbour_fraction : float
    jitter : float
        Maximum catalogue-position error (pixels, per axis).
    mask_table : MaskTable, optional
    data_dir : str or Path, optional
        Real-data folder for ``split="train"``.

    Returns
    -------
    dict of arrays
        ``image, background, source`` (N, size, size) float32 (NaN where no
        data; ``image = background + source + neighbours``), ``hole`` (N,
        size, size) bool (True = masked), ``nodata`` bool (True = NaN),
        ``flux`` (N,) Jy, ``snr``, ``radius`` (N,) int, ``centre`` (N, 2)
        catalogue position (y, x) in the cutout, ``centre_true`` (N, 2),
        ``n_neighbours`` (N,), ``kind`` (N,) str.

    Example
    -------
    >>> cs = make_cutout_set(3, split="benchmark", band="red", rng=1, neighbour_fraction=1.0)
    >>> bool((cs["n_neighbours"] >= 1).all()), cs["source"].dtype
    (True, dtype('float32'))
    """
    from astroclean.sources.cutouts import extract_cutouts
    from astroclean.sources.masks import DEFAULT_MASK_TABLES, hole_masks, measure_snr

    rng = as_rng(rng)
    if n < 1 or size < 16:
        raise AstrocleanValueError(f"need n >= 1 and size >= 16, got n={n}, size={size}")
    table = mask_table or DEFAULT_MASK_TABLES[(band, mode)]
    bgs = far_ir_backgrounds(split=split, band=band, mode=mode, data_dir=data_dir, rng=rng)
    psf = load_pacs_psf(band)
    from astroclean.sources.masks import PIXEL_SCALE_ARCSEC

    if not np.isclose(psf.pixel_scale_arcsec, PIXEL_SCALE_ARCSEC[(band, mode)]):
        psf = load_pacs_psf(band, pixel_scale_arcsec=PIXEL_SCALE_ARCSEC[(band, mode)])
    which = _pick_backgrounds(bgs, n, rng)
    lo, hi = np.log(flux_range[0]), np.log(flux_range[1])
    out = {k: np.empty((n, size, size), np.float32) for k in ("image", "background", "source")}
    centre = np.empty((n, 2))
    centre_true = np.empty((n, 2))
    flux = np.exp(rng.uniform(lo, hi, n))
    kinds = np.empty(n, dtype="<U9")
    neighbours = [np.zeros((0, 3))] * n
    nb_index, nb_pos = [], []
    avoid = 2.0 * table.max_radius
    for b in np.unique(which):
        idx = np.nonzero(which == b)[0]
        bg = bgs[b]
        ys, xs = _candidates(bg.mask, bg.real_sources, margin=0, avoid_radius=avoid)
        if len(ys) == 0:
            raise AstrocleanValueError(f"background {bg.name} has no usable source position")
        pick = rng.integers(0, len(ys), len(idx))
        true_y = ys[pick] + rng.uniform(-0.5, 0.5, len(idx))
        true_x = xs[pick] + rng.uniform(-0.5, 0.5, len(idx))
        cat_y = true_y + rng.uniform(-jitter, jitter, len(idx))
        cat_x = true_x + rng.uniform(-jitter, jitter, len(idx))
        cut = extract_cutouts(bg.image, cat_x, cat_y, size=size)
        out["background"][idx] = cut.data
        centre[idx] = cut.centre
        centre_true[idx] = np.column_stack([true_y - cut.origin[:, 0], true_x - cut.origin[:, 1]])
        kinds[idx] = bg.kind
    angles = rng.uniform(0, 360, n)
    has_nb = rng.random(n) < neighbour_fraction
    for i in range(n):
        ty, tx = centre_true[i]
        iy, ix = int(np.floor(ty + 0.5)), int(np.floor(tx + 0.5))
        plane = np.zeros((size, size))
        _paste(plane, _source_stamp(psf.array, flux[i], ty - iy, tx - ix, angles[i]), iy, ix)
        out["source"][i] = plane
        extra = np.zeros((size, size))
        if has_nb[i]:
            for _ in range(rng.integers(1, 4)):
                while True:
                    ny_, nx_ = rng.uniform(0, size - 1, 2)
                    if (ny_ - ty) ** 2 + (nx_ - tx) ** 2 >= 64:
                        break
                jy, jx = int(np.floor(ny_ + 0.5)), int(np.floor(nx_ + 0.5))
                _paste(extra, _source_stamp(psf.array, np.exp(rng.uniform(lo, hi)), ny_ - jy, nx_ - jx,
                                            rng.uniform(0, 360)), jy, jx)
                nb_index.append(i)
                nb_pos.append((ny_, nx_))
        out["image"][i] = out["background"][i] + plane + extra
    nodata = ~np.isfinite(out["background"])
    snr = measure_snr(out["image"], centre[:, 1], centre[:, 0], peak_radius=table.peak_radius,
                      annulus=table.annulus).snr
    radius = table.radius(snr)
    n_nb = np.zeros(n, np.int64)
    if nb_index:
        nb_index = np.asarray(nb_index)
        nb_pos = np.asarray(nb_pos)
        nb_snr = measure_snr(out["image"][nb_index], nb_pos[:, 1], nb_pos[:, 0], peak_radius=table.peak_radius,
                             annulus=table.annulus).snr
        nb_r = table.radius(nb_snr)
        for i in np.unique(nb_index):
            sel = nb_index == i
            neighbours[i] = np.column_stack([nb_pos[sel], nb_r[sel]])
            n_nb[i] = sel.sum()
    hole = hole_masks((size, size), centre, radius, neighbours=neighbours)
    return {**out, "hole": hole, "nodata": nodata, "flux": flux, "snr": snr, "radius": radius,
            "centre": centre, "centre_true": centre_true, "n_neighbours": n_nb, "kind": kinds}


def make_source_maps(n_maps: int, *, split: str = "benchmark", band: str = "blue", mode: str = "scan", rng=None,
                     flux_levels=FLUX_LEVELS, per_level: int = 6, min_separation: float | None = None,
                     first: int = 0, data_dir=None) -> list:
    """Held-out maps with sources at discrete flux levels, for per-level statistics.

    Map ``i`` uses background ``(first + i) mod len(backgrounds)`` of the split (so
    ``n_maps`` = a multiple of the number of backgrounds covers them all
    equally; repeated backgrounds get new positions). Each map receives up
    to ``per_level`` sources per level (fewer where the covered area runs
    out at ``min_separation``; the levels are then cycled so every level
    loses equally). With the default 6 backgrounds per split, ``n_maps=12``
    gives >= 40 sources per level (``scripts`` and tests check the counts).

    Parameters
    ----------
    n_maps : int
    split : {"benchmark", "train"}
    band, mode : str
    rng : Generator or int
    flux_levels : sequence of float
        Jy.
    per_level : int
    min_separation : float, optional
        Pixels; default 2.5 x the largest mask radius of the band's table.
    first : int
        Index of the first background used.
    data_dir : str or Path, optional

    Returns
    -------
    list of (image float32 ndarray, SourceTruth)
        The table has a ``level`` column (index into ``flux_levels``) and
        ``snr`` / ``radius`` measured with the default mask table.

    Example
    -------
    >>> maps = make_source_maps(1, rng=0, per_level=1)
    >>> image, truth = maps[0]
    >>> sorted(set(truth.table["flux"])) == sorted(FLUX_LEVELS)
    True
    """
    from astroclean.sources.masks import DEFAULT_MASK_TABLES, PIXEL_SCALE_ARCSEC, measure_snr

    rng = as_rng(rng)
    table = DEFAULT_MASK_TABLES[(band, mode)]
    sep = 2.5 * table.max_radius if min_separation is None else min_separation
    bgs = far_ir_backgrounds(split=split, band=band, mode=mode, data_dir=data_dir, rng=rng)
    psf = load_pacs_psf(band, pixel_scale_arcsec=PIXEL_SCALE_ARCSEC[(band, mode)])
    levels = np.asarray(flux_levels, dtype=np.float64)
    out = []
    for i in range(n_maps):
        bg = bgs[(first + i) % len(bgs)]
        order = np.concatenate([rng.permutation(len(levels)) for _ in range(per_level)])
        image, truth = inject_point_sources(bg, psf, fluxes=levels[order], rng=rng, min_separation=sep,
                                            avoid_radius=2.0 * table.max_radius, margin=int(table.max_radius))
        t = truth.table
        t["level"] = order[:len(t)]
        m = measure_snr(image, np.asarray(t["x"]), np.asarray(t["y"]), peak_radius=table.peak_radius,
                        annulus=table.annulus)
        t["snr"] = m.snr
        t["radius"] = table.radius(m.snr)
        t.meta.update({"split": split, "band": band, "mode": mode, "flux_levels": levels.tolist()})
        out.append((image, truth))
    return out
