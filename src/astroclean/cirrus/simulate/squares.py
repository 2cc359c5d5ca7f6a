"""Mock cirrus squares of known colour, the S1-S4 studies of the reference (issue 12, part 3).

Each mock is a square of 1e2-1e5 arcsec^2 (log-uniform area) with a uniform
mean surface brightness in g (``sb_range``), colours g-r and r-i drawn
uniformly in the scenario's ranges, a per-pixel structure scatter common to
all bands (log-normal, ``structure`` = 0.2 dex-like sigma of ln I), a small
per-pixel colour scatter (``colour_scatter`` mag) and the Poisson noise of its
own light with the band gains; it is added to a background:

==== =================================== ================ ==============================
 set  background                          g-r, r-i          surface brightness (g)
==== =================================== ================ ==============================
 S1   the real SDSS g r i frame           0.1-0.8, 0.1-0.8  25-29 uniform
 S2   Gaussian noise, Stripe 82 depth     0.1-0.8, 0.1-0.8  25-29 uniform
 S3   the real SDSS g r i frame           0.5-0.7, 0.0-0.2  26-30 uniform (or given)
 S4   the real SDSS g r i frame           0.0-1.5, -0.5-1.0 26-30 uniform (or given)
==== =================================== ================ ==============================

Stripe 82 depth (S2): 3 sigma in 10"x10" boxes of 29.2 (g), 28.7 (r) mag/arcsec^2
(the reference) and 28.2 (i; our assumption: 0.5 mag shallower than r, as in
Fliri & Trujillo 2016), white noise on a 0.396"/px grid, zero point 22.5
(nanomaggies).

The real frame is ``optical/sdss_gri/reprojected_sdss_{g,r,i}.fits`` of the
shared data (1.19"/px, 54 s single epoch). Its values are nanomaggies per
*native* 0.396" pixel (interpolated onto a 3x coarser grid; its noise shows
it: per-pixel sigma 0.008/0.012/0.022 nmgy in g/r/i, which would be a
Stripe-82-coadd depth if they were per 1.19" pixel, but is a single-epoch
depth of about 26.8/26.4/25.7 mag/arcsec^2, 3 sigma in 10"x10", per native
pixel). The zero point of one data unit in one 1.19" pixel is therefore
22.5 - 5 log10(1.19 / 0.396) = 20.11 (one unit over a grid pixel = 9 nanomaggies).

The truth of each mock is its square footprint (the segmentation given to
:func:`~astroclean.cirrus.catalog.extract_filaments`), so the study measures
the colour step alone, exactly as it runs on real filaments.

Example
-------
>>> import numpy as np
>>> from astroclean.cirrus.simulate.squares import gaussian_background, inject_squares
>>> bg = gaussian_background((400, 400), rng=0)
>>> mock, cirrus, truth = inject_squares(bg, "S2", n_squares=2, rng=1, area_range=(1e2, 1e4))
>>> mock.data.shape, cirrus.dtype, len(truth) >= 1
((3, 400, 400), dtype('bool'), True)
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from astropy import units as u
from astropy.table import QTable
from scipy import ndimage

from astroclean.errors import AstrocleanFileError, AstrocleanValueError
from astroclean.image import ImageStack

__all__ = ["SCENARIOS", "Scenario", "STRIPE82_DEPTH", "SDSS_GAINS", "inject_squares", "gaussian_background",
           "load_sdss_background", "source_mask", "background_for", "add_parser"]

STRIPE82_DEPTH = {"g": 29.2, "r": 28.7, "i": 28.2}  # 3 sigma, 10"x10" boxes (i: assumed, see module notes)
SDSS_GAINS = {"g": 3.85, "r": 4.735, "i": 5.15}  # e-/DN (issue 11)
SDSS_NATIVE_SCALE = 0.396
SDSS_FILES = {"g": "reprojected_sdss_g.fits", "r": "reprojected_sdss_r.fits", "i": "reprojected_sdss_i.fits"}


@dataclass(frozen=True)
class Scenario:
    """One mock study: colour ranges (g-r, r-i), surface-brightness range in g, background kind."""

    name: str
    g_r: tuple
    r_i: tuple
    sb_range: tuple
    background: str  # "real" or "gaussian"


SCENARIOS = {
    "S1": Scenario("S1", (0.1, 0.8), (0.1, 0.8), (25.0, 29.0), "real"),
    "S2": Scenario("S2", (0.1, 0.8), (0.1, 0.8), (25.0, 29.0), "gaussian"),
    "S3": Scenario("S3", (0.5, 0.7), (0.0, 0.2), (26.0, 30.0), "real"),
    "S4": Scenario("S4", (0.0, 1.5), (-0.5, 1.0), (26.0, 30.0), "real"),
}


def get_scenario(scenario, **overrides) -> Scenario:
    if isinstance(scenario, Scenario):
        base = scenario
    else:
        key = str(scenario).upper()
        if key not in SCENARIOS:
            raise AstrocleanValueError(f"unknown mock study {scenario!r}; choose one of {sorted(SCENARIOS)}")
        base = SCENARIOS[key]
    overrides = {k: tuple(v) if isinstance(v, (list, tuple)) else v for k, v in overrides.items() if v is not None}
    return replace(base, **overrides)


def data_dir(path=None) -> Path:
    """The real-data folder: ``path``, else $ASTROCLEAN_DATA_DIR (:func:`astroclean.simulate.resolve_data_dir`)."""
    from astroclean.simulate import resolve_data_dir

    return resolve_data_dir(path, need="the SDSS g, r, i frame")


def load_sdss_background(path=None) -> ImageStack:
    """The real SDSS g, r, i frame as a :class:`ImageStack` with the corrected zero point (see module notes).

    ``counts_per_unit`` (electrons per data unit in one grid pixel, for the
    Poisson noise of injected light) is kept in ``ImageStack``-free form by
    :func:`counts_per_unit`.
    """
    from astroclean.io.bands import read_bands

    folder = data_dir(path) / "optical" / "sdss_gri"
    files = [folder / name for name in SDSS_FILES.values()]
    for file in files:
        if not file.exists():
            raise AstrocleanFileError(f"{file} not found; pass --data-dir (or set ASTROCLEAN_DATA_DIR) to the folder "
                                      "holding optical/sdss_gri")
    stack = read_bands(files, bands=tuple(SDSS_FILES))
    data, wcs = stack.data, stack.wcs
    scale = float(np.sqrt(abs(np.linalg.det(wcs.pixel_scale_matrix))) * 3600.0)
    zp = 22.5 - 5.0 * np.log10(scale / SDSS_NATIVE_SCALE)
    return ImageStack(data=data, mask=~np.isfinite(data), bands=("g", "r", "i"), zeropoints=(zp, zp, zp),
                   pixel_scale=scale, wcs=wcs)


def counts_per_unit(background: ImageStack) -> np.ndarray:
    """Electrons per data unit per grid pixel, for the Poisson noise of the injected light.

    SDSS gains (e-/DN) and the frame's NMGY (0.0046 nanomaggies per DN); one
    data unit in one pixel is ``10**(-0.4 (zp - 22.5))`` nanomaggies.
    """
    nmgy_per_dn = 0.0046
    return np.array([SDSS_GAINS.get(b, 4.7) / nmgy_per_dn * 10 ** (-0.4 * (zp - 22.5))
                     for b, zp in zip(background.bands, background.zeropoints)])


def gaussian_background(shape=(1600, 1600), *, pixel_scale: float = 0.396, depth=None, rng=None) -> ImageStack:
    """Pure Gaussian noise at a 3-sigma-in-10"x10" depth per band (default: Stripe 82), zero point 22.5."""
    depth = dict(STRIPE82_DEPTH if depth is None else depth)
    rng = np.random.default_rng(rng)
    bands = tuple(depth)
    n_box = 100.0 / pixel_scale**2  # pixels in a 10"x10" box
    sigmas = []
    for band in bands:
        box_mean = 10 ** (-0.4 * (depth[band] - 22.5)) * pixel_scale**2 / 3.0  # 1 sigma of a box mean, per pixel
        sigmas.append(box_mean * np.sqrt(n_box))
    data = np.stack([s * rng.standard_normal(shape, dtype=np.float32) for s in sigmas])
    return ImageStack(data=data, mask=np.zeros(data.shape, bool), bands=bands, zeropoints=(22.5,) * len(bands),
                   pixel_scale=pixel_scale, wcs=None)


def source_mask(background: ImageStack, *, nsigma: float = 2.5, grow: int = 3, smooth: float = 1.0) -> np.ndarray:
    """Pixels of sources in any band: Gaussian-smoothed > nsigma x the smoothed noise, grown by ``grow`` pixels.

    A classical stand-in for issue 11's source mask, computed on the frame
    before injection (the mock squares are too faint to trigger it anyway).
    """
    out = np.zeros(background.data.shape[1:], bool)
    for b in range(background.data.shape[0]):
        plane = np.where(background.mask[b], 0, background.data[b]).astype(np.float32)
        sm = ndimage.gaussian_filter(plane, smooth)
        med = np.median(sm)
        sig = 1.4826 * np.median(np.abs(sm - med))
        out |= sm > med + nsigma * sig
    if grow:
        out = ndimage.binary_dilation(out, iterations=grow)
    return out


def background_for(scenario, *, data_dir=None, rng=None) -> ImageStack:
    """The background of a scenario: the SDSS frame (real) or a fresh Gaussian-noise frame."""
    scenario = get_scenario(scenario)
    if scenario.background == "gaussian":
        return gaussian_background(rng=rng)
    return load_sdss_background(data_dir)


def _place(shape, sides, rng, gap, taken):
    """Random non-overlapping positions (y0, x0) for squares of the given sides (None when it does not fit)."""
    out = []
    for side in sides:
        pos = None
        for _ in range(60):
            if side + 2 >= min(shape):
                break
            y0 = int(rng.integers(1, shape[0] - side - 1))
            x0 = int(rng.integers(1, shape[1] - side - 1))
            if not taken[max(y0 - gap, 0): y0 + side + gap, max(x0 - gap, 0): x0 + side + gap].any():
                pos = (y0, x0)
                taken[y0: y0 + side, x0: x0 + side] = True
                break
        out.append(pos)
    return out


def inject_squares(background: ImageStack, scenario="S1", *, n_squares: int = 4, rng=None, area_range=(1e2, 1e5),
                   sb_range=None, g_r=None, r_i=None, structure: float = 0.2, structure_scale: float = 0.0,
                   colour_scatter: float = 0.02, gap_arcsec: float = 12.0, sb_values=None):
    """Add mock cirrus squares to a g, r, i background; returns ``(mock, cirrus, truth)``.

    Parameters
    ----------
    background : ImageStack
        g, r, i (in this order) with zero points and a pixel scale; not modified.
    scenario : str or Scenario
        S1-S4 (colour and surface-brightness ranges; keywords override).
    n_squares : int
        Squares tried per frame; fewer when they do not fit without overlap.
    area_range : (float, float)
        Area range in arcsec^2 (log-uniform).
    structure, structure_scale : float
        Intensity scatter common to the bands: sigma of ln I (0.2), white per
        pixel (``structure_scale`` = 0) or smoothed by a Gaussian of that many
        arcsec (renormalised), so that 6" bins keep a dynamic range as real
        cirrus does (white scatter averages out in the bins).
    sb_values : array_like, optional
        Draw the g surface brightness from these values (e.g. the filaments
        measured on real data) instead of uniformly in ``sb_range``.

    Returns
    -------
    mock : ImageStack
        The background plus the squares (its mask = the background's).
    cirrus : ndarray of bool (y, x)
        The squares' footprint (the segmentation to measure with).
    truth : QTable
        ``square`` (index), ``x0``, ``y0``, ``side`` (pixels), ``area``
        (arcsec2), ``sb_g`` (mag / arcsec2), ``g_r``, ``r_i`` (mag).
    """
    if tuple(background.bands[:3]) != ("g", "r", "i"):
        raise AstrocleanValueError(f"the background must hold g, r, i in this order, got {background.bands}")
    sc = get_scenario(scenario, sb_range=sb_range, g_r=g_r, r_i=r_i)
    rng = np.random.default_rng(rng)
    ps = background.pixel_scale
    areas = 10 ** rng.uniform(np.log10(area_range[0]), np.log10(area_range[1]), n_squares)
    areas = np.sort(areas)[::-1]  # big ones first, so they find room
    sides = np.maximum(np.round(np.sqrt(areas) / ps).astype(int), 1)
    taken = np.zeros(background.data.shape[1:], bool)
    gap = int(np.ceil(gap_arcsec / ps))
    pos = _place(background.data.shape[1:], sides, rng, gap, taken)
    data = background.data.astype(np.float32, copy=True)
    cirrus = np.zeros(background.data.shape[1:], bool)
    cpu = counts_per_unit(background)
    rows = []
    for k, (side, p) in enumerate(zip(sides, pos)):
        if p is None:
            continue
        y0, x0 = p
        if sb_values is not None:
            sb = float(rng.choice(np.asarray(sb_values, float)))
        else:
            sb = float(rng.uniform(*sc.sb_range))
        gr = float(rng.uniform(*sc.g_r))
        ri = float(rng.uniform(*sc.r_i))
        mags = np.array([sb, sb - gr, sb - gr - ri])  # g, r, i surface brightness
        level = 10 ** (-0.4 * (mags - np.array(background.zeropoints[:3]))) * ps**2  # data units per pixel
        shape = (side, side)
        field = rng.standard_normal(shape)
        if structure_scale > 0:
            field = ndimage.gaussian_filter(field, structure_scale / ps, mode="wrap")
            field = (field - field.mean()) / max(field.std(), 1e-12)
        struct = np.exp(structure * field - 0.5 * structure**2)
        dcol = colour_scatter * rng.standard_normal((2,) + shape)
        offsets = np.stack([np.zeros(shape), -dcol[0], -dcol[0] - dcol[1]])  # magnitude offsets g, r, i
        for b in range(3):
            signal = level[b] * struct * 10 ** (-0.4 * offsets[b])
            noisy = rng.poisson(np.maximum(signal * cpu[b], 0)) / cpu[b]
            data[b, y0: y0 + side, x0: x0 + side] += noisy.astype(np.float32)
        cirrus[y0: y0 + side, x0: x0 + side] = True
        rows.append((k, x0, y0, side, (side * ps) ** 2, sb, gr, ri))
    truth = QTable(rows=rows, names=("square", "x0", "y0", "side", "area", "sb_g", "g_r", "r_i")) if rows else \
        QTable(names=("square", "x0", "y0", "side", "area", "sb_g", "g_r", "r_i"))
    if rows:
        truth["area"] = truth["area"] * u.arcsec**2
        truth["sb_g"] = truth["sb_g"] * u.mag / u.arcsec**2
        truth["g_r"] = truth["g_r"] * u.mag
        truth["r_i"] = truth["r_i"] * u.mag
    truth.meta.update({"scenario": sc.name, "g_r_range": list(sc.g_r), "r_i_range": list(sc.r_i),
                       "sb_range": list(sc.sb_range), "background": sc.background, "structure": structure,
                       "structure_scale_arcsec": structure_scale,
                       "colour_scatter": colour_scatter})
    mock = replace(background, data=data)
    return mock, cirrus, truth


def add_parser(subparsers):
    """``astroclean simulate cirrus-squares``: write one mock frame (FITS cube + truth ECSV)."""
    p = subparsers.add_parser("cirrus-squares", help="mock cirrus squares of known colour (S1-S4) in real or "
                              "Stripe-82-depth backgrounds")
    p.add_argument("--simulation", default="S1", choices=sorted(SCENARIOS))
    p.add_argument("--n-squares", type=int, default=6, help="squares tried in the frame (default 6)")
    p.add_argument("--sb-range", type=float, nargs=2, default=None, metavar=("BRIGHT", "FAINT"),
                   help="g surface-brightness range in mag/arcsec^2 (default: the study's)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data-dir", default=None, help="real data folder ($ASTROCLEAN_DATA_DIR)")
    p.add_argument("-o", "--output", required=True, help="output FITS (IMAGE cube g,r,i + CIRRUS); truth beside it")
    p.add_argument("--overwrite", action="store_true")
    p.set_defaults(func=run_simulate)
    return p


def run_simulate(args) -> int:
    from astroclean.io import atomic_write, check_writable, write_fits

    out = Path(args.output)
    truth_path = out.with_suffix(".ecsv")
    check_writable(out, overwrite=args.overwrite)
    check_writable(truth_path, overwrite=args.overwrite)
    rng = np.random.default_rng(args.seed)
    bg = background_for(args.simulation, data_dir=args.data_dir, rng=rng)
    mock, cirrus, truth = inject_squares(bg, args.simulation, n_squares=args.n_squares, rng=rng,
                                         sb_range=args.sb_range)
    header = bg.wcs.to_header() if bg.wcs is not None else None
    prov = {"task": "simulate cirrus-squares", "simulation": args.simulation, "seed": args.seed,
            "bands": "g,r,i", "zeropoint": round(bg.zeropoints[0], 4), "pixel_scale": round(bg.pixel_scale, 4)}
    write_fits(out, [("IMAGE", mock.data, header), ("CIRRUS", cirrus, header)], provenance=prov,
               overwrite=args.overwrite)
    atomic_write(truth_path, lambda tmp: truth.write(tmp, format="ascii.ecsv", overwrite=True),
                 overwrite=args.overwrite)
    print(f"wrote {out} and {truth_path}: {len(truth)} squares ({args.simulation}, zero point "
          f"{bg.zeropoints[0]:.3f}, {bg.pixel_scale:.3f}\"/px)")
    return 0
