"""Far-infrared backgrounds for compact-source injection: real PACS, rescaled Galactic, synthetic.

Three kinds, each split into disjoint ``"train"`` and ``"benchmark"`` sets:

``pacs``
    Real PACS level-2 maps of the field of PPM 181320 (Jy/pixel). Scan maps
    (1.6"/3.2" px, blue/red): obsids 1342220557 and 1342220892 train,
    1342245174 benchmark. Chop-nod point-source maps (1.0" px): 1342220935
    and 1342221178 train, 1342244874 benchmark. Pixels with coverage below
    20 % of the 95th percentile of the coverage are masked (NaN). These maps
    carry REAL sources, the 70 um ~2 Jy calibration star PPM 181320 at the
    centre above all: they cannot be removed without residuals, so they
    stay in the background (and in its truth) and are listed in
    ``Background.real_sources``; injection avoids them. No green (100 um)
    map of a blank field exists here: green uses only the next two kinds.
``galactic``
    Structured extended emission: the Bolocam 1.1 mm Galactic-plane map
    (columns < 400 train, >= 416 benchmark), the Spitzer IRAC field
    (columns < 760 train, >= 770 benchmark) and the MSX 21 um map (train
    only). Rescaling: ``(data - median) * noise_pacs / noise_native``, with
    ``noise_native`` the robust pixel noise of the map
    (:func:`astroclean.background.noise_map`) and ``noise_pacs`` the
    PACS noise of the band and mode; so their noise is PACS-like and their
    structure keeps its native contrast against the noise (Bolocam: peaks
    of ~100-1000 sigma). Native pixels are used as PACS pixels (a texture,
    not an astrometric match). Their compact real sources (above 10 sigma
    on a high-passed copy) are listed in ``real_sources`` as well.
``synthetic``
    A power-law Gaussian random field (P(k) ~ k^-beta, beta in [2.5, 3])
    with an rms of 1-20 sigma, plus 2-8 filaments (smooth random curves,
    Gaussian cross-section of 1.5-5 px, peaks of 2-60 sigma), plus noise
    at the PACS level: white plus correlated (white smoothed by a Gaussian
    of 1 px) with the correlated share of the variance chosen to match the
    lag-1 autocorrelation measured on the PACS maps. Train fields come from
    the caller's ``rng``; benchmark fields from fixed seeds in another
    branch of the seed tree.

PACS noise levels (per band and mode, Jy/pixel) are measured by
``scripts/build_far_ir_data.py`` on the training PACS maps (green: the
gamma Dra 100 um map with the star masked) and ship in
``astroclean/data/far_infrared/pacs_noise.json``, together with the
benchmark backgrounds (``bench_*.npz``), so the benchmark needs no data
folder. Training backgrounds read ``data_dir`` (``$ASTROCLEAN_DATA_DIR``).

Example
-------
>>> from astroclean.sources.simulate.fields import far_ir_backgrounds
>>> bench = far_ir_backgrounds(split="benchmark", band="blue")
>>> sorted({b.kind for b in bench})
['galactic', 'pacs', 'synthetic']
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from scipy import ndimage as ndi

from astroclean.errors import AstrocleanFileError, AstrocleanKeyError, AstrocleanValueError
from astroclean.background import noise_map, robust_sigma
from astroclean.simulate.common import PACKAGE_DATA, as_rng, read_fits_plane, require_file, resolve_data_dir

__all__ = ["Background", "far_ir_backgrounds", "pacs_noise_levels", "synthetic_field", "MODES", "FIR_DIR"]

MODES = ("scan", "chopnod")
FIR_DIR = PACKAGE_DATA / "far_infrared"
_PPM = "far_infrared/pacs_ppm181320/"
_GAL = "far_infrared/galactic/"
PACS_MAPS = {   # (mode, split) -> obsids
    ("scan", "train"): ("1342220557", "1342220892"), ("scan", "benchmark"): ("1342245174",),
    ("chopnod", "train"): ("1342220935", "1342221178"), ("chopnod", "benchmark"): ("1342244874",),
}
GALACTIC = {    # name -> (file, train columns stop, benchmark columns start)
    "bolocam_gps": ("gc_bolocam_gps.fits", 400, 416),
    "spitzer_irac": ("spitzer_example_image.fits", 760, 770),
    "msx_e": ("gc_msx_e.fits", None, None),
}
_BENCH_SEED = 20261122
_N_SYNTH_BENCH = 3


@dataclass(frozen=True)
class Background:
    """One background map (read-only arrays).

    Attributes
    ----------
    name : str
    kind : {"pacs", "galactic", "synthetic"}
    image : ndarray float32 (y, x), Jy/pixel-like; NaN where there are no data
    mask : ndarray bool, True = no coverage / NaN
    noise : float
        1-sigma pixel noise (Jy/pixel).
    wcs : astropy.wcs.WCS or None
    real_sources : ndarray (k, 3)
        ``(y, x, peak / noise)`` of bright real compact sources in the map.
    meta : dict
    """

    name: str
    kind: str
    image: np.ndarray
    mask: np.ndarray
    noise: float
    wcs: object = None
    real_sources: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))
    meta: dict = field(default_factory=dict)


def _check(band, mode, split=None):
    from astroclean.instruments.pacs import BANDS

    if band not in BANDS:
        raise AstrocleanKeyError(f"unknown band {band!r}; choose one of {', '.join(BANDS)}")
    if mode not in MODES:
        raise AstrocleanKeyError(f"unknown mode {mode!r}; choose one of {', '.join(MODES)}")
    if split is not None and split not in ("train", "benchmark"):
        raise AstrocleanKeyError(f"unknown split {split!r}; choose 'train' or 'benchmark'")


def pacs_noise_levels() -> dict:
    """``{"blue_scan": {"noise": ..., "lag1": ...}, ...}`` as measured by the build script."""
    path = FIR_DIR / "pacs_noise.json"
    if not path.is_file():
        raise AstrocleanFileError(f"{path} is missing; rebuild it with "
                                  "`python scripts/build_far_ir_data.py --data-dir DATA_DIR`")
    return json.loads(path.read_text())


def real_source_list(image, mask, noise, *, fwhm_pixels: float, nsigma: float = 10.0, max_sources: int = 2000):
    """Bright compact real sources: local maxima of a high-passed, smoothed map above ``nsigma`` x its noise.

    The map minus its local median level (a ``6 x FWHM`` box) is smoothed
    by a Gaussian of the PSF width; peaks above ``nsigma`` times the robust
    noise of that smoothed map are returned as ``(y, x, peak/noise)``,
    brightest first. ``noise`` is used only when nothing is unmasked.
    """
    work = np.where(mask, np.nanmedian(image[~mask]) if (~mask).any() else 0.0, image).astype(np.float64)
    size = max(3, int(round(6 * fwhm_pixels)) | 1)
    k = max(1, size // 7)                  # the smooth local level: median filter on a k x k binned copy
    ny, nx = work.shape
    pad = np.pad(work, ((0, -ny % k), (0, -nx % k)), mode="edge")
    binned = pad.reshape(pad.shape[0] // k, k, pad.shape[1] // k, k).mean(axis=(1, 3))
    level = ndi.median_filter(binned, size=max(3, (size // k) | 1))
    level = ndi.zoom(level, k, order=1)[:ny, :nx] if k > 1 else level
    hp = ndi.gaussian_filter(work - level, fwhm_pixels / 2.355)
    hp[mask] = 0.0
    noise = robust_sigma(hp[~mask]) if (~mask).any() else noise      # the noise of the smoothed map
    peaks = (hp == ndi.maximum_filter(hp, size=max(3, int(round(2 * fwhm_pixels)) | 1))) & (hp > nsigma * noise)
    ys, xs = np.nonzero(peaks)
    snr = hp[ys, xs] / noise
    order = np.argsort(snr)[::-1][:max_sources]
    return np.column_stack([ys[order], xs[order], snr[order]]).astype(np.float64)


def _freeze(*arrays):
    for a in arrays:
        a.flags.writeable = False


def _make(name, kind, image, mask, noise, wcs, fwhm, meta):
    image = np.where(mask, np.nan, image).astype(np.float32)
    mask = np.asarray(mask, bool)
    # synthetic fields hold no compact sources by construction (their filament peaks are not avoided)
    real = np.zeros((0, 3)) if kind == "synthetic" else real_source_list(image, mask, noise, fwhm_pixels=fwhm)
    _freeze(image, mask, real)
    return Background(name, kind, image, mask, float(noise), wcs, real, meta)


def _lag1(data, mask):
    resid = data - ndi.median_filter(np.where(mask, 0.0, data), size=9)
    ok = ~mask[:, 1:] & ~mask[:, :-1]
    a, b = resid[:, 1:][ok], resid[:, :-1][ok]
    return float(np.corrcoef(a, b)[0, 1])


def read_pacs_map(path):
    """``(image, mask, noise, lag1, wcs, header)`` of a PACS level-2 map (coverage-masked)."""
    from astropy.io import fits
    from astropy.wcs import WCS

    with fits.open(require_file(path)) as hdul:
        data = np.array(hdul["image"].data, dtype=np.float64)
        cov = np.array(hdul["coverage"].data, dtype=np.float64)
        header = hdul["image"].header.copy()
    covered = cov[cov > 0]
    mask = ~np.isfinite(data) | (cov < 0.2 * np.percentile(covered, 95)) if covered.size else np.ones(data.shape, bool)
    nm = noise_map(data, mask=mask)
    noise = float(np.median(nm[~mask]))
    return data, mask, noise, _lag1(data, mask), WCS(header, naxis=2), header


def _pacs_path(root, obsid, band):
    letter = "r" if band == "red" else "b"
    hits = sorted(root.joinpath(_PPM).glob(f"hpacs{obsid}_20hpppmap{letter}_*.fits*"))
    if not hits:
        raise AstrocleanFileError(f"no PACS map for obsid {obsid} band {band} under {root / _PPM}")
    return hits[0]


def _scale_arcsec(band, mode):
    from astroclean.sources.masks import PIXEL_SCALE_ARCSEC

    return PIXEL_SCALE_ARCSEC[(band, mode)]


def _fwhm_pixels(band, mode):
    from astroclean.sources.masks import NOMINAL_FWHM_ARCSEC

    return NOMINAL_FWHM_ARCSEC[band] / _scale_arcsec(band, mode)


def read_galactic(root, name, split):
    """``(sigma-unit image, mask, wcs)`` of a Galactic map's split (data / native noise, median removed)."""
    from astropy.wcs import WCS

    fname, stop, start = GALACTIC[name]
    data, header = read_fits_plane(root / _GAL / fname)
    if split == "benchmark" and start is None:
        return None
    sl = slice(0, stop) if split == "train" else slice(start, None)
    data = data[:, sl]
    header = header.copy()
    if sl.start:
        header["CRPIX1"] = header.get("CRPIX1", 0.0) - sl.start
    mask = ~np.isfinite(data)
    native = float(np.median(noise_map(data, mask=mask)[~mask]))
    out = (data - np.median(data[~mask])) / native
    try:
        wcs = WCS(header, naxis=2)
    except Exception:  # noqa: BLE001 - an unusable WCS is simply dropped
        wcs = None
    return out, mask, wcs, native


def synthetic_field(shape, *, noise: float, lag1: float = 0.0, rng=None) -> tuple:
    """A filamentary field with PACS-like noise: ``(image, structure)`` in Jy/pixel (see module notes).

    Example
    -------
    >>> img, structure = synthetic_field((128, 128), noise=1e-3, rng=0)
    >>> img.shape, bool(abs(np.std(img - structure) / 1e-3 - 1) < 0.1)
    ((128, 128), True)
    """
    rng = as_rng(rng)
    ny, nx = shape
    if noise <= 0:
        raise AstrocleanValueError(f"noise must be > 0, got {noise}")
    ky = np.fft.fftfreq(ny)[:, None]
    kx = np.fft.rfftfreq(nx)[None, :]
    k = np.hypot(ky, kx)
    k[0, 0] = np.inf
    beta = rng.uniform(2.5, 3.0)
    amp = k ** (-beta / 2.0)
    spec = amp * (rng.standard_normal(k.shape) + 1j * rng.standard_normal(k.shape))
    grf = np.fft.irfft2(spec, s=shape)
    grf = (grf - grf.mean()) / grf.std() * noise * np.exp(rng.uniform(np.log(1.0), np.log(20.0)))
    fil = np.zeros(shape)
    for _ in range(rng.integers(2, 9)):
        n_pts = 400
        t = np.linspace(0, 1, n_pts)
        p0 = rng.uniform([0, 0], [ny, nx])
        heading = rng.uniform(0, 2 * np.pi)
        length = rng.uniform(0.3, 1.2) * max(ny, nx)
        curvature = np.cumsum(rng.normal(0, 0.05, n_pts))
        ang = heading + curvature
        ys = p0[0] + np.cumsum(np.sin(ang)) * length / n_pts
        xs = p0[1] + np.cumsum(np.cos(ang)) * length / n_pts
        line = np.zeros(shape)
        iy, ix = np.rint(ys).astype(int), np.rint(xs).astype(int)
        ok = (iy >= 0) & (iy < ny) & (ix >= 0) & (ix < nx)
        w = 1.0 + 0.5 * np.sin(2 * np.pi * t * rng.uniform(0.5, 3) + rng.uniform(0, 6.3))
        np.add.at(line, (iy[ok], ix[ok]), w[ok])
        width = rng.uniform(1.5, 5.0)
        line = ndi.gaussian_filter(line, width)
        if line.max() > 0:
            fil += line / line.max() * noise * rng.uniform(2, 60)
    structure = grf + fil
    f_corr = float(np.clip(lag1 / np.exp(-0.25), 0.0, 1.0))
    white = rng.standard_normal(shape)
    corr = ndi.gaussian_filter(rng.standard_normal(shape), 1.0)
    corr /= corr.std()
    noise_img = noise * (np.sqrt(1 - f_corr) * white + np.sqrt(f_corr) * corr)
    return (structure + noise_img).astype(np.float32), structure.astype(np.float32)


def _synthetic_backgrounds(split, band, mode, levels, rng, n, shape=(320, 320)):
    noise, lag1 = levels["noise"], levels["lag1"]
    if split == "benchmark":
        seeds = np.random.SeedSequence(_BENCH_SEED, spawn_key=(2, ("blue", "green", "red").index(band))).spawn(n)
    else:
        seeds = np.random.SeedSequence(int(as_rng(rng).integers(2 ** 63)), spawn_key=(1,)).spawn(n)
    out = []
    for i, seed in enumerate(seeds):
        img, structure = synthetic_field(shape, noise=noise, lag1=lag1, rng=np.random.default_rng(seed))
        bg = _make(f"synthetic_{split}_{band}_{mode}_{i}", "synthetic", img, np.zeros(shape, bool), noise, None,
                   _fwhm_pixels(band, mode), {"structure_rms_sigma": float(structure.std() / noise)})
        out.append(bg)
    return out


@lru_cache(maxsize=8)
def _train_real(band, mode, data_dir):
    root = resolve_data_dir(data_dir, need="far-infrared training backgrounds")
    levels = pacs_noise_levels()[f"{band}_{mode}"]
    fwhm = _fwhm_pixels(band, mode)
    out = []
    if band != "green":
        for obsid in PACS_MAPS[(mode, "train")]:
            data, mask, noise, _, wcs, _ = read_pacs_map(_pacs_path(root, obsid, band))
            out.append(_make(f"pacs_{obsid}_{band}", "pacs", data, mask, noise, wcs, fwhm, {"obsid": obsid}))
    for name in GALACTIC:
        got = read_galactic(root, name, "train")
        img, mask, wcs, native = got
        out.append(_make(f"{name}_train", "galactic", img * levels["noise"], mask, levels["noise"], wcs, fwhm,
                         {"native_noise": native, "scale": levels["noise"] / native}))
    return tuple(out)


@lru_cache(maxsize=8)
def _bench_real(band, mode):
    from astropy.io.fits import Header
    from astropy.wcs import WCS

    from astroclean.io.npz import load_npz

    levels = pacs_noise_levels()[f"{band}_{mode}"]
    fwhm = _fwhm_pixels(band, mode)
    out = []
    names = ([f"pacs_{o}_{band}_{mode}" for o in PACS_MAPS[(mode, "benchmark")]] if band != "green" else [])
    names += [f"{n}_benchmark" for n, v in GALACTIC.items() if v[2] is not None]
    for name in names:
        path = FIR_DIR / f"bench_{name}.npz"
        if not path.is_file():
            raise AstrocleanFileError(f"shipped benchmark background {path} is missing; rebuild it with "
                                      "`python scripts/build_far_ir_data.py --data-dir DATA_DIR`")
        a = load_npz(path)
        header = Header.fromstring(str(a["header"])) if str(a["header"]) else None
        wcs = WCS(header, naxis=2) if header is not None else None
        mask = a["mask"].astype(bool)
        if name.startswith("pacs"):
            image, noise, kind, meta = a["image"], float(a["noise"]), "pacs", {"obsid": name.split("_")[1]}
        else:   # stored in sigma units: rescale to this band's PACS noise
            image, noise, kind = a["image"] * levels["noise"], levels["noise"], "galactic"
            meta = {"native_noise": float(a["native_noise"]), "scale": levels["noise"] / float(a["native_noise"])}
        out.append(_make(name, kind, image, mask, noise, wcs, fwhm, meta))
    return tuple(out)


def far_ir_backgrounds(*, split: str, band: str = "blue", mode: str = "scan", data_dir=None, rng=None,
                       n_synthetic: int | None = None) -> list:
    """Far-infrared background maps of one split, band and mode (see the module notes).

    Parameters
    ----------
    split : {"train", "benchmark"}
        Disjoint: different PACS observations, disjoint column ranges of the
        Galactic maps (MSX is train only), different synthetic seeds.
    band : {"blue", "green", "red"}
    mode : {"scan", "chopnod"}
    data_dir : str or Path, optional
        Real-data folder for the train split (``$ASTROCLEAN_DATA_DIR``);
        the benchmark split ships with the package.
    rng : Generator or int, optional
        Seeds the synthetic training fields (ignored for the benchmark).
    n_synthetic : int, optional
        Number of synthetic fields (default 3 for the benchmark, 6 for train).

    Returns
    -------
    list of Background

    Example
    -------
    >>> bgs = far_ir_backgrounds(split="benchmark", band="red")
    >>> all(b.image.dtype == np.float32 and b.noise > 0 for b in bgs)
    True
    """
    _check(band, mode, split)
    levels = pacs_noise_levels()[f"{band}_{mode}"]
    if split == "benchmark":
        real = list(_bench_real(band, mode))
        n = _N_SYNTH_BENCH if n_synthetic is None else n_synthetic
    else:
        real = list(_train_real(band, mode, None if data_dir is None else str(data_dir)))
        n = 6 if n_synthetic is None else n_synthetic
    return list(real) + _synthetic_backgrounds(split, band, mode, levels, rng, n)
