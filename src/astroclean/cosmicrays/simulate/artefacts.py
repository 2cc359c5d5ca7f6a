"""Detector artefacts that are NOT cosmic rays: hard negatives for training.

Users feed frames with bad rows and columns, amplifier steps, fringes, persistence, saturated
stars with bleed trails, bright stars with diffraction spikes, row noise of infrared arrays: a
detector trained only on clean sky flags them (the ISAAC and WFPC2 failures of issue 10).
:func:`add_artefacts` paints a random selection onto a patch (in image units, scaled by the local
noise ``sigma``); the truth is unchanged, so they are negatives. Saturated cores and bleed trails are
also returned as ``saturated`` pixels (the caller marks the ones at the saturation level as bad, as a
pipeline would).

Example
-------
>>> import numpy as np
>>> from astroclean.cosmicrays.simulate.artefacts import add_artefacts, ARTEFACTS
>>> rng = np.random.default_rng(0)
>>> data = rng.normal(100.0, 5.0, (64, 64))
>>> out, saturated, kinds = add_artefacts(data, 5.0, rng=rng, kinds=("bad_column", "fringes"))
>>> out.shape, saturated.dtype, sorted(kinds)
((64, 64), dtype('bool'), ['bad_column', 'fringes'])
"""

from __future__ import annotations

import numpy as np

from astroclean.simulate.common import as_rng

__all__ = ["ARTEFACTS", "EXTRA_ARTEFACTS", "STAR_ARTEFACTS", "add_artefacts"]

ARTEFACTS = ("bad_column", "bad_row", "amplifier_step", "fringes", "persistence", "bleed_star", "row_noise",
             "readout_pattern")
#: Artefacts painted only when asked for by name (not in the random draw of the shipped models' training sets,
#: so that their training commands still reproduce them): spectra with sky lines and traces (``--spectra`` adds
#: them to the draw).
EXTRA_ARTEFACTS = ("spectrum",)
#: Painted only by name, never drawn (``--spiked-stars`` gives them their own probability, so that the draws of
#: every earlier set, the validation set of ``scripts/cr_validation.py`` included, stay as they were): bright
#: stars with diffraction spikes.
STAR_ARTEFACTS = ("spiked_star",)


def _line(out, rng, sigma, axis):
    n = out.shape[1 - axis] if axis == 0 else out.shape[0]
    k = int(rng.integers(0, out.shape[1] if axis == 0 else out.shape[0]))
    level = float(rng.choice([-1, 1]) * np.exp(rng.uniform(np.log(2.0), np.log(200.0)))) * sigma
    start = int(rng.integers(0, max(1, n // 2))) if rng.random() < 0.5 else 0
    width = 1 if rng.random() < 0.8 else 2
    if axis == 0:   # column
        out[start:, k:k + width] += level
    else:
        out[k:k + width, start:] += level


def _amplifier_step(out, rng, sigma):
    level = float(rng.choice([-1, 1]) * rng.uniform(1.0, 20.0)) * sigma
    if rng.random() < 0.5:
        out[:, int(rng.integers(1, out.shape[1])):] += level
    else:
        out[int(rng.integers(1, out.shape[0])):, :] += level


def _fringes(out, rng, sigma):
    y, x = np.mgrid[:out.shape[0], :out.shape[1]].astype(float)
    amp = rng.uniform(0.5, 5.0) * sigma
    period = rng.uniform(8.0, 60.0)
    angle = rng.uniform(0, np.pi)
    warp = rng.uniform(0, 3.0) * np.sin(2 * np.pi * y / rng.uniform(40, 200))
    out += amp * np.sin(2 * np.pi * ((x * np.cos(angle) + y * np.sin(angle)) / period) + warp)


def _persistence(out, rng, sigma):
    y, x = np.mgrid[:out.shape[0], :out.shape[1]].astype(float)
    for _ in range(int(rng.integers(1, 4))):
        cy, cx = rng.uniform(0, out.shape[0]), rng.uniform(0, out.shape[1])
        s = rng.uniform(1.5, 6.0)
        out += rng.uniform(3.0, 50.0) * sigma * np.exp(-((y - cy) ** 2 + (x - cx) ** 2) / (2 * s * s))


def _bleed_star(out, rng, sigma, saturated, saturation):
    from astroclean.simulate.starfield import moffat_psf

    fwhm = float(np.exp(rng.uniform(np.log(1.0), np.log(6.0))))
    psf = moffat_psf(fwhm, beta=float(rng.uniform(2.5, 4.5)))
    peak = float(np.exp(rng.uniform(np.log(2e3), np.log(1e5)))) * sigma
    h = psf.shape[0] // 2
    cy, cx = int(rng.integers(0, out.shape[0])), int(rng.integers(0, out.shape[1]))
    y0, y1, x0, x1 = max(cy - h, 0), min(cy + h + 1, out.shape[0]), max(cx - h, 0), min(cx + h + 1, out.shape[1])
    star = psf[y0 - cy + h:y1 - cy + h, x0 - cx + h:x1 - cx + h] / psf.max() * peak
    out[y0:y1, x0:x1] += star
    level = saturation if saturation is not None else float(np.median(out)) + 0.02 * peak
    sat = out >= level
    if sat.any():
        cols = np.unique(np.nonzero(sat)[1])
        length = int(rng.integers(5, out.shape[0]))
        for c in cols:
            rows = np.nonzero(sat[:, c])[0]
            lo, hi = max(rows.min() - length // 2, 0), min(rows.max() + length // 2 + 1, out.shape[0])
            out[lo:hi, c] = np.maximum(out[lo:hi, c], level)
        sat = out >= level
        out[sat] = level
        saturated |= sat


def _spiked_star(out, rng, sigma):
    # a bright, unsaturated star with the diffraction spikes of its telescope's spider: straight, thin (the
    # PSF's width), radial streaks tens of pixels long, which a detector of tracks flags (the held-out SDSS r
    # frame of issue 10: cr-any's largest false-positive group is a spike 15 px from a 2700-sigma star)
    from scipy.special import erf

    from astroclean.simulate.starfield import moffat_psf

    ny, nx = out.shape
    fwhm = float(np.exp(rng.uniform(np.log(0.8), np.log(6.0))))
    psf = moffat_psf(fwhm, beta=float(rng.uniform(2.5, 4.5)))
    peak = float(np.exp(rng.uniform(np.log(300.0), np.log(3e4)))) * sigma
    margin = 0 if rng.random() < 0.7 else 16   # sometimes only the spikes of a star beside the patch
    cy, cx = rng.uniform(-margin, ny + margin), rng.uniform(-margin, nx + margin)
    h = psf.shape[0] // 2
    iy, ix = int(round(cy)), int(round(cx))
    y0, y1, x0, x1 = max(iy - h, 0), min(iy + h + 1, ny), max(ix - h, 0), min(ix + h + 1, nx)
    if y0 < y1 and x0 < x1:
        out[y0:y1, x0:x1] += psf[y0 - iy + h:y1 - iy + h, x0 - ix + h:x1 - ix + h] / psf.max() * peak
    y, x = np.mgrid[:ny, :nx].astype(float)
    dy, dx = y - cy, x - cx
    n_arms = 4 if rng.random() < 0.8 else 6
    base = rng.uniform(0, np.pi)
    width = max(fwhm / 2.355, 0.35) * rng.uniform(0.8, 1.5)
    level = float(np.exp(rng.uniform(np.log(10.0), np.log(300.0)))) * sigma   # on the spike, 5 px out
    slope, length = rng.uniform(0.5, 2.0), float(np.exp(rng.uniform(np.log(10.0), np.log(80.0))))
    for k in range(n_arms):
        a = base + 2 * np.pi * k / n_arms
        along = dx * np.cos(a) + dy * np.sin(a)
        across = np.abs(-dx * np.sin(a) + dy * np.cos(a))
        r = np.maximum(along, fwhm)
        profile = level * rng.uniform(0.5, 1.5) * (r / 5.0) ** -slope * np.exp(-(r / length) ** 4)
        cut = (erf((across + 0.5) / (np.sqrt(2) * width)) - erf((across - 0.5) / (np.sqrt(2) * width))) \
            / (2 * erf(0.5 / (np.sqrt(2) * width)))
        out += np.where(along > 0.5 * fwhm, profile * cut, 0.0)


def _row_noise(out, rng, sigma):
    # near-infrared arrays: correlated row offsets (1/f noise), sometimes per readout channel
    amp = rng.uniform(0.3, 2.0) * sigma
    if rng.random() < 0.5:
        out += rng.normal(0, amp, out.shape[0])[:, None]
    else:
        out += rng.normal(0, amp, out.shape[1])[None, :]


def _readout_pattern(out, rng, sigma):
    # old CCDs and amateur cameras: a faint periodic pattern along the rows
    x = np.arange(out.shape[1], dtype=float)
    out += rng.uniform(0.3, 2.0) * sigma * np.sin(2 * np.pi * x / rng.uniform(2.5, 20.0) + rng.uniform(0, 6.3))


def _spectrum(out, rng, sigma):
    # a long-slit or echelle frame: sky lines across the slit and a few object traces along the
    # dispersion, with their photon noise (users run cosmic-ray detection on spectra too)
    ny, nx = out.shape
    y, x = np.mgrid[:ny, :nx].astype(float)
    model = np.zeros(out.shape)
    tilt = rng.uniform(-0.05, 0.05)
    for _ in range(int(rng.integers(2, 12))):
        x0, w = rng.uniform(0, nx), rng.uniform(0.7, 2.5)
        amp = float(np.exp(rng.uniform(np.log(3.0), np.log(500.0))))
        model += amp * np.exp(-0.5 * ((x - x0 - tilt * y) / w) ** 2)
    for _ in range(int(rng.integers(0, 3))):
        y0, w = rng.uniform(0, ny), rng.uniform(0.8, 3.0)
        amp = float(np.exp(rng.uniform(np.log(3.0), np.log(1000.0)))) * (1 + 0.5 * np.sin(x / rng.uniform(5, 40)))
        model += amp * np.exp(-0.5 * ((y - y0 - rng.uniform(-0.03, 0.03) * x) / w) ** 2)
    out += sigma * (model + rng.normal(0.0, 1.0, out.shape) * np.sqrt(model * rng.uniform(0.2, 1.0)))


def add_artefacts(data, sigma, *, rng, kinds=None, n_kinds=(1, 3), saturation=None, pool=ARTEFACTS):
    """Paint detector artefacts onto a copy of ``data``.

    Parameters
    ----------
    data : ndarray (y, x)
    sigma : float or ndarray
        Local noise (image units); artefact amplitudes are multiples of it.
    rng : Generator or int
    kinds : sequence of str, optional
        Which artefacts (default: ``n_kinds`` drawn at random from :data:`ARTEFACTS`;
        :data:`EXTRA_ARTEFACTS` only by name or in ``pool``, :data:`STAR_ARTEFACTS` only by name).
    pool : sequence of str
        The kinds drawn from when ``kinds`` is None.
    n_kinds : (int, int)
        Range of the number of kinds drawn when ``kinds`` is None.
    saturation : float, optional
        Saturation level of bleed stars (default: 2 % of the star's peak above the median).

    Returns
    -------
    out : ndarray (float64)
    saturated : ndarray of bool
        Pixels at the saturation level (cores and trails of bleed stars).
    kinds : list of str
    """
    rng = as_rng(rng)
    out = np.array(data, dtype=np.float64)
    s = float(np.median(sigma))
    saturated = np.zeros(out.shape, dtype=bool)
    if kinds is None:
        k = int(rng.integers(n_kinds[0], n_kinds[1] + 1))
        kinds = list(rng.choice(tuple(pool), size=min(k, len(pool)), replace=False))
    for kind in kinds:
        if kind == "bad_column":
            _line(out, rng, s, 0)
        elif kind == "bad_row":
            _line(out, rng, s, 1)
        elif kind == "amplifier_step":
            _amplifier_step(out, rng, s)
        elif kind == "fringes":
            _fringes(out, rng, s)
        elif kind == "persistence":
            _persistence(out, rng, s)
        elif kind == "bleed_star":
            _bleed_star(out, rng, s, saturated, saturation)
        elif kind == "row_noise":
            _row_noise(out, rng, s)
        elif kind == "readout_pattern":
            _readout_pattern(out, rng, s)
        elif kind == "spectrum":
            _spectrum(out, rng, s)
        elif kind == "spiked_star":
            _spiked_star(out, rng, s)
        else:
            raise ValueError(f"unknown artefact {kind!r}; choose from "
                             f"{', '.join(ARTEFACTS + EXTRA_ARTEFACTS + STAR_ARTEFACTS)}")
    return out, saturated, [str(k) for k in kinds]
