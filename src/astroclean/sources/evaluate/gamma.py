"""gamma Dra, the PACS PSF calibrator: flux recovered by removal + aperture photometry against its calibration.

Real Herschel/PACS scan maps of gamma Dra (``far_infrared/pacs_gamma_dra``
in the data folder: 70 and 100 um from the blue camera, 160 um from the red
camera of both observations) are read with :func:`astroclean.io.read_image`
(``image`` HDU, error plane as variance). The star's position comes from its
catalogue coordinates through the map's WCS, refined by a flux-weighted
centroid within 2 px of the brightest pixel near it. The network flux is the
photometry of ``image - background`` after ``remove_compact_sources`` (when
a model for the band is registered); the annulus flux is the classical
annulus-subtracted aperture on the input map. Both are aperture-corrected
with the band's PSF (:func:`load_pacs_psf`) at the reference radius.

Caveat: the shipped PSFs were cut from these same maps. When their
normalisation is tied to these calibration fluxes (``psf.meta`` has
``calibration_mJy``; column ``psf_tied_to_calibration``), agreement is
partly by construction: the check then shows that removal and photometry
keep the star's flux, not that the PSF model is right.

Example
-------
>>> from astroclean.sources.evaluate.gamma import GAMMA_DRA_MJY
>>> GAMMA_DRA_MJY["blue"], GAMMA_DRA_MJY["red"]
(3283.0, 621.0)
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from astroclean.instruments.pacs import GAMMA_DRA_MJY

__all__ = ["GAMMA_DRA_MJY", "GAMMA_DRA_RADEC", "gamma_dra_photometry", "band_of", "model_for_band"]

#: Calibration fluxes of gamma Dra (mJy) at 70, 100 and 160 um (the PACS photometer model fluxes).
#: ICRS position (deg) of gamma Dra (17h56m36.37s +51d29m20.0s; proper motion ~0.2" over 2000-2010, ignored).
GAMMA_DRA_RADEC = (269.151541667, 51.488888889)
_WAVELENGTH_TO_BAND = {70: "blue", 100: "green", 160: "red"}


def band_of(header) -> str | None:
    """PACS band from the WAVELNTH keyword (70, 100, 160 um), or None."""
    value = header.get("WAVELNTH") if header is not None else None
    try:
        return _WAVELENGTH_TO_BAND.get(int(round(float(value))))
    except (TypeError, ValueError):
        return None


def model_for_band(band, model=None):
    """The registered model for ``band``: ``model`` for the benchmark band, else ``pacs-<band>`` when registered."""
    from astroclean.models.registry import list_models

    names = set(list_models())
    if model is not None:
        return model
    name = f"pacs-{band}"
    return name if name in names else None


def _centre(data, bad, x, y, *, search=6, radius=2):
    """Brightest pixel within ``search`` px of (x, y), then the flux-weighted centroid within ``radius`` px of it."""
    ny, nx = data.shape
    ix, iy = int(round(x)), int(round(y))
    y0, y1, x0, x1 = max(iy - search, 0), min(iy + search + 1, ny), max(ix - search, 0), min(ix + search + 1, nx)
    box = np.where(bad[y0:y1, x0:x1], -np.inf, data[y0:y1, x0:x1])
    py, px = np.unravel_index(np.argmax(box), box.shape)
    py, px = py + y0, px + x0
    yy, xx = np.mgrid[py - radius:py + radius + 1, px - radius:px + radius + 1]
    w = np.clip(data[yy, xx] - np.nanmedian(data[yy, xx]), 0, None)
    return float((w * xx).sum() / w.sum()), float((w * yy).sum() / w.sum())


def gamma_dra_photometry(folder, *, model=None, model_band="blue", device=None, log=None):
    """Photometry of gamma Dra on every map in ``folder``.

    Parameters
    ----------
    folder : str or Path
        The ``pacs_gamma_dra`` folder (FITS maps, optionally gzipped).
    model : str or torch.nn.Module, optional
        Model for ``model_band``; other bands use ``pacs-<band>`` when registered.
    model_band : str
    device : str, optional
    log : callable, optional

    Returns
    -------
    astropy.table.Table
        One row per map: file, band, calibration_mjy, x, y, model, flux_mjy
        (network), ratio, flux_annulus_mjy, ratio_annulus, flag, note.
    """
    from astropy.coordinates import SkyCoord
    from astropy.table import Table

    from astroclean.io import read_image
    from astroclean.instruments.pacs import load_pacs_psf
    from astroclean.sources.photometry import measure_sources

    say = log or (lambda message: None)
    rows = []
    for path in sorted(Path(folder).glob("*.fits*")):
        image = read_image(path, hdu="image")
        band = band_of(image.meta.get("primary_header")) or band_of(image.header)
        if band is None:
            say(f"gamma Dra: {path.name}: no WAVELNTH keyword, skipped")
            continue
        psf = load_pacs_psf(band)
        data = np.asarray(image.data, np.float64)
        bad = image.mask | ~np.isfinite(data)
        sky = SkyCoord(*GAMMA_DRA_RADEC, unit="deg")
        x, y = (float(v) for v in image.wcs.celestial.world_to_pixel(sky))
        x, y = _centre(data, bad, x, y)
        error = None if image.variance is None else np.sqrt(image.variance)
        name = model if band == model_band else None
        name = model_for_band(band, name)
        label = name if isinstance(name, str) or name is None else getattr(name.card, "name", "module")
        row = {"file": path.name, "band": band, "calibration_mjy": GAMMA_DRA_MJY[band], "x": x, "y": y,
               "model": label or "", "flux_mjy": math.nan, "ratio": math.nan, "note": "",
               "psf_tied_to_calibration": bool((psf.meta or {}).get("calibration_mJy"))}
        classic = measure_sources(data, data, [x], [y], psf=psf, error=error, mask=bad, wcs=image.wcs)
        row["flux_annulus_mjy"] = 1e3 * float(classic["flux_annulus"][0])
        row["ratio_annulus"] = row["flux_annulus_mjy"] / row["calibration_mjy"]
        row["flag"] = str(classic["flag"][0])
        if name is not None:
            from astroclean.sources.remove import remove_compact_sources

            res = remove_compact_sources(data, np.array([[x, y]]), wcs=image.wcs, model=name, band=band,
                                         error=error, mask=bad, device=device)
            phot = measure_sources(data, np.asarray(res.background, np.float64), [x], [y], psf=psf, error=error,
                                   mask=bad, hole=np.asarray(res.hole, bool), wcs=image.wcs)
            row["flux_mjy"] = 1e3 * float(phot["flux"][0])
            row["ratio"] = row["flux_mjy"] / row["calibration_mjy"]
            row["flag"] = str(phot["flag"][0])
        else:
            row["note"] = f"no model registered for band {band}"
        say(f"gamma Dra {band} ({path.name}): network {row['ratio']:.3f}, annulus {row['ratio_annulus']:.3f} "
            "of the calibration")
        rows.append(row)
    names = ["file", "band", "calibration_mjy", "x", "y", "model", "flux_mjy", "ratio", "flux_annulus_mjy",
             "ratio_annulus", "flag", "note", "psf_tied_to_calibration"]
    table = Table(rows=[[r[k] for k in names] for r in rows], names=names)
    table.meta["description"] = ("gamma Dra fluxes (mJy, aperture-corrected at the reference radius) against the "
                                 "calibration; ratio = measured / calibration")
    return table
