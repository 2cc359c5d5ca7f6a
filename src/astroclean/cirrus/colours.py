"""Colours of cirrus filaments by two methods, with errors and flags (issue 12, part 2).

Both methods use the big pixels of each filament (see
:func:`astroclean.cirrus.catalog.extract_filaments`), for every pair of
neighbouring bands (g-r, r-i for g, r, i).

``gaussian``
    The per-pixel colour ``-2.5 log10(f_a / f_b) + zp_a - zp_b`` of every big
    pixel with positive flux in both bands; its histogram (range median +- 4
    robust sigma, Freedman-Diaconis bins, 8-60 bins) is fitted by a Gaussian
    (``profile="gaussian"``) or by a Gaussian plus a Lorentzian with the same
    centre (``profile="gauss+lorentz"``, for heavy tails), least squares with
    Poisson weights. The colour is the centre, the error its 1-sigma fit error
    (covariance scaled by the reduced chi-square when that is > 1).
``linear``
    A straight-line fit ``f_a = s f_b + c`` of the band-to-band fluxes, the
    colour ``-2.5 log10(s) + zp_a - zp_b``. The regression is stated by
    ``regression``: ``"bisector"`` (default: the OLS bisector of Isobe et al.
    1990, symmetric in the two bands), ``"ols"`` (f_a on f_b; biased low by the
    noise of f_b) or ``"deming"`` (errors in both variables with the ratio of
    the bands' big-pixel noise variances, measured outside cirrus). The error
    is the standard deviation of ``n_boot`` bootstrap resamples of the pixels.

Failures are never silent NaN: the ``<colour>_<method>_flag`` column holds the
reason (``too_few_pixels(n=..<..)``, ``fit_failed:...``, ``nonpositive_slope``,
...), ``ok`` when the value is good. With g, r and i the criterion of the
reference, (r-i) < 0.43 (g-r) - 0.06 (cirrus rather than extragalactic light),
is given per method as ``criterion_<method>`` (False when a colour is missing,
with the flag saying why).

Example
-------
>>> import numpy as np
>>> from astroclean.cirrus.catalog import extract_filaments
>>> from astroclean.cirrus.colours import measure_colours
>>> rng = np.random.default_rng(1)
>>> data = 0.002 * rng.standard_normal((3, 300, 300))
>>> cirrus = np.zeros((300, 300), bool); cirrus[50:250, 50:250] = True
>>> level = 0.05 * (1 + 0.3 * rng.standard_normal((200, 200)))
>>> for b, c in enumerate((0.6, 0.0, -0.1)):   # colours g-r = 0.6, r-i = 0.1
...     data[b, 50:250, 50:250] += level * 10 ** (-0.4 * c)
>>> fil = extract_filaments(cirrus, data, bands="gri", zeropoints=(22.5,) * 3, pixel_scale=1.0)
>>> t = measure_colours(fil, method="gaussian")
>>> round(float(t["g_r_gaussian"][0].value), 1), round(float(t["r_i_gaussian"][0].value), 1)
(0.6, 0.1)
"""

from __future__ import annotations

import warnings

import numpy as np
from astropy import units as u
from astropy.table import QTable
from scipy.optimize import OptimizeWarning, curve_fit

from astroclean.errors import AstrocleanValueError
from astroclean.cirrus.catalog import Filaments, extract_filaments

__all__ = ["measure_colours", "gaussian_colour", "linear_colour", "criterion", "write_catalogue", "METHODS",
           "write_filament_products",
           "REGRESSIONS", "colour_pairs"]

METHODS = ("gaussian", "linear")
REGRESSIONS = ("bisector", "ols", "deming")
PROFILES = ("gaussian", "gauss+lorentz")
CRITERION = (0.43, -0.06)  # (r-i) < 0.43 (g-r) - 0.06


def criterion(g_r, r_i):
    """The reference's cirrus criterion (r-i) < 0.43 (g-r) - 0.06 (False where a colour is NaN)."""
    g_r = np.asarray(getattr(g_r, "value", g_r), float)
    r_i = np.asarray(getattr(r_i, "value", r_i), float)
    with np.errstate(invalid="ignore"):
        return r_i < CRITERION[0] * g_r + CRITERION[1]


def colour_pairs(bands):
    """Neighbouring band pairs: ('g', 'r', 'i') -> [(0, 1), (1, 2)]."""
    return [(k, k + 1) for k in range(len(bands) - 1)]


def _gauss(x, amp, mu, sig):
    return amp * np.exp(-0.5 * ((x - mu) / sig) ** 2)


def _gauss_lorentz(x, amp, mu, sig, amp_l, gam):
    return _gauss(x, amp, mu, sig) + amp_l * gam**2 / ((x - mu) ** 2 + gam**2)


def gaussian_colour(colours, *, profile: str = "gaussian", min_pixels: int = 10):
    """Centre of the distribution of per-pixel colours, by a fit to its histogram.

    Returns ``(colour, error, width, reason)``; ``reason`` is "" on success,
    else the colour and error are NaN and the reason says why.
    """
    c = np.asarray(colours, float)
    c = c[np.isfinite(c)]
    n = c.size
    if n < min_pixels:
        return np.nan, np.nan, np.nan, f"too_few_pixels(n={n}<{min_pixels})"
    med = np.median(c)
    mad = 1.4826 * np.median(np.abs(c - med))
    if not mad > 0:
        return float(med), 0.0, 0.0, "" if n >= min_pixels else "degenerate"
    lo, hi = med - 4 * mad, med + 4 * mad
    inside = c[(c >= lo) & (c <= hi)]
    iqr = np.subtract(*np.percentile(inside, [75, 25]))
    width = 2 * iqr / max(inside.size, 1) ** (1 / 3) if iqr > 0 else (hi - lo) / 10
    n_bins = int(np.clip(np.ceil((hi - lo) / width), 8, 60))
    counts, edges = np.histogram(inside, bins=n_bins, range=(lo, hi))
    x = 0.5 * (edges[1:] + edges[:-1])
    sigma = np.sqrt(np.maximum(counts, 1.0))
    p0 = [counts.max(), med, mad]
    func, kwargs = _gauss, {"maxfev": 400}  # Levenberg-Marquardt (fast); the result is checked below
    if profile == "gauss+lorentz":  # five parameters, often degenerate: a bounded fit (trust region)
        func = _gauss_lorentz
        p0 = p0 + [0.1 * counts.max(), 2 * mad]
        kwargs = {"bounds": ([0, lo, 1e-4, 0, 1e-4], [np.inf, hi, hi - lo, np.inf, 10 * (hi - lo)]),
                  "max_nfev": 2000}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", OptimizeWarning)
            warnings.simplefilter("ignore", RuntimeWarning)
            popt, pcov = curve_fit(func, x, counts, p0=p0, sigma=sigma, absolute_sigma=True, **kwargs)
    except (RuntimeError, OptimizeWarning, ValueError) as exc:
        return np.nan, np.nan, np.nan, f"fit_failed:{type(exc).__name__}:{str(exc)[:60].replace(';', ',')}"
    if popt[0] <= 0 or not 0 < abs(popt[2]) < (hi - lo) or (profile != "gaussian" and popt[3] < 0):
        return np.nan, np.nan, np.nan, "fit_failed:unphysical_parameters"
    resid = (counts - func(x, *popt)) / sigma
    dof = max(len(x) - len(popt), 1)
    chi2 = float(np.sum(resid**2) / dof)
    err = float(np.sqrt(pcov[1, 1] * max(chi2, 1.0))) if np.isfinite(pcov[1, 1]) else np.nan
    mu = float(popt[1])
    if not np.isfinite(err):
        return np.nan, np.nan, np.nan, "fit_failed:undefined_covariance"
    if not (lo < mu < hi):
        return np.nan, np.nan, np.nan, f"fit_failed:centre_at_range_edge({mu:.2f})"
    return mu, err, float(abs(popt[2])), ""


def _slope(x, y, regression, ratio):
    """Slope of y on x by the stated regression; arrays (..., n) broadcast over leading axes."""
    xm = x - x.mean(axis=-1, keepdims=True)
    ym = y - y.mean(axis=-1, keepdims=True)
    sxx = (xm * xm).sum(axis=-1)
    syy = (ym * ym).sum(axis=-1)
    sxy = (xm * ym).sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        if regression == "ols":
            return sxy / sxx
        if regression == "bisector":  # Isobe et al. (1990), eq. for the OLS bisector
            b1 = sxy / sxx
            b2 = syy / sxy
            return (b1 * b2 - 1 + np.sqrt((1 + b1 * b1) * (1 + b2 * b2))) / (b1 + b2)
        # Deming with lambda = var(noise_y) / var(noise_x)
        d = syy - ratio * sxx
        return (d + np.sqrt(d * d + 4 * ratio * sxy * sxy)) / (2 * sxy)


def linear_colour(f_a, f_b, *, regression: str = "bisector", noise_ratio: float = 1.0, n_boot: int = 100,
                  min_pixels: int = 10, rng=None):
    """Colour from the slope of f_a against f_b (before zero points): ``-2.5 log10(slope)``.

    Returns ``(colour, error, reason)`` like :func:`gaussian_colour`.
    """
    f_a = np.asarray(f_a, float)
    f_b = np.asarray(f_b, float)
    good = np.isfinite(f_a) & np.isfinite(f_b)
    f_a, f_b = f_a[good], f_b[good]
    n = f_a.size
    if n < min_pixels:
        return np.nan, np.nan, f"too_few_pixels(n={n}<{min_pixels})"
    s = float(_slope(f_b, f_a, regression, noise_ratio))
    if not np.isfinite(s):
        return np.nan, np.nan, "fit_failed:no_variance"
    if s <= 0:
        return np.nan, np.nan, f"nonpositive_slope({s:.3g})"
    rng = np.random.default_rng(rng)
    err = np.nan
    if n_boot:
        idx = rng.integers(0, n, size=(n_boot, n))
        sb = _slope(f_b[idx], f_a[idx], regression, noise_ratio)
        with np.errstate(invalid="ignore", divide="ignore"):
            cb = -2.5 * np.log10(np.where(sb > 0, sb, np.nan))
        ok = np.isfinite(cb)
        if ok.sum() >= max(10, n_boot // 2):
            err = float(np.std(cb[ok], ddof=1))
        else:
            return -2.5 * np.log10(s), np.nan, f"bootstrap_failed({int(ok.sum())}/{n_boot}_positive_slopes)"
    return float(-2.5 * np.log10(s)), err, ""


def measure_colours(filaments, stack=None, *, method="gaussian", cirrus=None, profile: str = "gaussian",
                    regression: str = "bisector", min_pixels: int = 10, n_boot: int = 100, rng=None,
                    **extract_kwargs) -> QTable:
    """Colours of every filament by one or both methods, with errors, flags and the criterion.

    Parameters
    ----------
    filaments : Filaments
        From :func:`extract_filaments` (its big pixels are used as they are);
        or a boolean cirrus segmentation, then ``stack`` and ``extract_kwargs``
        are passed to :func:`extract_filaments` first.
    stack : ImageStack or array, optional
        Only needed when ``filaments`` is a segmentation; when given with a
        Filaments object its grid is checked against the catalogue's.
    method : {"gaussian", "linear", "both"} or sequence of them
        Which colour estimates to compute (columns ``<a>_<b>_<method>``).
    profile : {"gaussian", "gauss+lorentz"}
        Profile of the Gaussian method.
    regression : {"bisector", "ols", "deming"}
        The regression of the linear method.
    min_pixels : int
        Fewer usable big pixels (with positive fluxes for the Gaussian method)
        give NaN with the flag ``too_few_pixels``.
    n_boot : int
        Bootstrap resamples for the linear method's error.
    rng : numpy Generator or int, optional

    Returns
    -------
    QTable
        The filament table plus, per colour and method, ``<a>_<b>_<method>``
        (mag), ``..._err`` (mag), ``..._flag`` (reason or "ok"), the Gaussian
        width ``<a>_<b>_gaussian_width`` and ``n_colour_<a>_<b>`` (pixels used),
        and ``criterion_<method>`` when the bands include g, r and i.
    """
    methods = _methods(method)
    if profile not in PROFILES:
        raise AstrocleanValueError(f"profile must be one of {PROFILES}, got {profile!r}")
    if regression not in REGRESSIONS:
        raise AstrocleanValueError(f"regression must be one of {REGRESSIONS}, got {regression!r}")
    if not isinstance(filaments, Filaments):
        if stack is None:
            raise AstrocleanValueError("pass a Filaments catalogue (extract_filaments) or a segmentation and the stack")
        filaments = extract_filaments(filaments, stack, **extract_kwargs)
    elif stack is not None:
        shape = np.shape(getattr(stack, "data", stack))[-2:]
        if tuple(shape) != tuple(filaments.shape):
            raise AstrocleanValueError(f"the catalogue was made on a {filaments.shape} grid, the stack is {shape}; "
                                       "use the stack the filaments were extracted from")
    rng = np.random.default_rng(rng)
    table = filaments.table.copy()
    n_fil = len(table)
    sel = (filaments.segments > 0) & filaments.usable
    lab = filaments.segments[sel]
    order = np.argsort(lab, kind="stable")
    vals = filaments.binned[:, sel][:, order]
    bounds = np.searchsorted(lab[order], np.arange(1, n_fil + 2))
    zps = filaments.zeropoints
    bands = filaments.bands
    sky = np.array([np.asarray(table[f"sky_{b}"], float) if f"sky_{b}" in table.colnames else np.zeros(n_fil)
                    for b in bands]).reshape(len(bands), n_fil)
    for ia, ib in colour_pairs(bands):
        name = f"{bands[ia]}_{bands[ib]}"
        dzp = zps[ia] - zps[ib]
        noise = filaments.noise[[ia, ib]]
        ratio = float((noise[0] / noise[1]) ** 2) if np.all(np.isfinite(noise)) and np.all(noise > 0) else 1.0
        res = {m: (np.full(n_fil, np.nan), np.full(n_fil, np.nan), [""] * n_fil) for m in methods}
        width = np.full(n_fil, np.nan)
        n_col = np.zeros(n_fil, np.int32)
        for k in range(n_fil):
            fa = vals[ia, bounds[k]:bounds[k + 1]] - sky[ia, k]
            fb = vals[ib, bounds[k]:bounds[k + 1]] - sky[ib, k]
            if "gaussian" in methods:
                pos = (fa > 0) & (fb > 0)
                n_col[k] = int(pos.sum())
                c = -2.5 * np.log10(fa[pos] / fb[pos]) + dzp
                col, err, wid, why = gaussian_colour(c, profile=profile, min_pixels=min_pixels)
                res["gaussian"][0][k], res["gaussian"][1][k], width[k] = col, err, wid
                res["gaussian"][2][k] = why
            if "linear" in methods:
                col, err, why = linear_colour(fa, fb, regression=regression, noise_ratio=ratio, n_boot=n_boot,
                                              min_pixels=min_pixels, rng=rng)
                res["linear"][0][k], res["linear"][1][k], res["linear"][2][k] = col + dzp, err, why
        for m in methods:
            table[f"{name}_{m}"] = res[m][0] * u.mag
            table[f"{name}_{m}_err"] = res[m][1] * u.mag
            table[f"{name}_{m}_flag"] = np.array([why or "ok" for why in res[m][2]], dtype=str) if n_fil \
                else np.array([], dtype=str)
        if "gaussian" in methods:
            table[f"{name}_gaussian_width"] = width * u.mag
            table[f"n_colour_{name}"] = n_col
    if all(b in bands for b in "gri") and bands.index("r") == bands.index("g") + 1 \
            and bands.index("i") == bands.index("r") + 1:
        for m in methods:
            table[f"criterion_{m}"] = criterion(table[f"g_r_{m}"], table[f"r_i_{m}"])
    table.meta.update({"colour_methods": list(methods), "profile": profile, "regression": regression,
                       "min_pixels": min_pixels, "n_boot": n_boot,
                       "criterion": "(r-i) < 0.43 (g-r) - 0.06"})
    return table


def _methods(method):
    if isinstance(method, str):
        method = METHODS if method == "both" else (method,)
    method = tuple(method)
    bad = [m for m in method if m not in METHODS]
    if bad or not method:
        raise AstrocleanValueError(f"method must be 'gaussian', 'linear', 'both' or a list of them, got {method!r}")
    return method


_FORMATS = {".ecsv": "ascii.ecsv", ".fits": "fits", ".fit": "fits", ".parquet": "parquet"}


def write_catalogue(table, path, *, overwrite: bool = False):
    """Write a filament/colour table as ECSV, FITS table or Parquet (by suffix), atomically, units kept.

    Parquet needs ``pyarrow`` (``pip install astroclean[cirrus]``).
    """
    from pathlib import Path

    from astroclean.io import atomic_write

    path = Path(path)
    fmt = _FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise AstrocleanValueError(f"unknown catalogue format {path.suffix!r} for {path}; use .ecsv, .fits or .parquet")
    if fmt == "parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError as exc:
            raise AstrocleanValueError("writing Parquet needs pyarrow: pip install 'astroclean[cirrus]'") from exc
    out = QTable(table, copy=True)
    out.meta = {k: v for k, v in table.meta.items() if isinstance(v, (str, int, float, bool, list))}

    def write(tmp):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # long meta keywords become HIERARCH/comment cards
            out.write(tmp, format=fmt, overwrite=True)

    return atomic_write(path, write, overwrite=overwrite)


def write_filament_products(filaments, table, outdir, *, stem: str = "cirrus", image=None, parquet: bool = True,
                            plots: bool = True, overwrite: bool = False) -> list:
    """The standard products of ``--catalog``: ``<stem>_filaments.ecsv`` (+ ``.parquet`` when pyarrow is there),
    ``<stem>_segments.fits`` and, with ``plots``, ``<stem>_colour_colour.png``, ``<stem>_sb_area.png`` and
    ``<stem>_overlay.png`` (on ``image``, a (y, x) array, when given). Returns the paths written."""
    from pathlib import Path

    from astroclean.cirrus import plots as figures

    outdir = Path(outdir)
    paths = [write_catalogue(table, outdir / f"{stem}_filaments.ecsv", overwrite=overwrite)]
    if parquet:
        try:
            paths.append(write_catalogue(table, outdir / f"{stem}_filaments.parquet", overwrite=overwrite))
        except AstrocleanValueError:
            pass  # pyarrow missing: the ECSV has everything
    paths.append(filaments.write_segments(outdir / f"{stem}_segments.fits", overwrite=overwrite))
    if plots:
        method = "gaussian" if "g_r_gaussian" in table.colnames else "linear"
        if all(f"{c}_{method}" in table.colnames for c in ("g_r", "r_i")):
            paths.append(figures.colour_colour(table, outdir / f"{stem}_colour_colour.png", method=method))
        paths.append(figures.sb_vs_area(table, outdir / f"{stem}_sb_area.png", band=filaments.bands[0]))
        if image is not None:
            paths.append(figures.overlay(image, filaments.segments, outdir / f"{stem}_overlay.png",
                                         bin_factor=filaments.bin_factor, table=table))
    return paths
