"""Infer star-cluster age, mass, size, extinction, P(cluster) and S/N at catalogue positions.

Example
-------
>>> import numpy as np
>>> from astroclean.clusters import infer_cluster_parameters          # doctest: +SKIP
>>> from astroclean.clusters.tables import tables                      # doctest: +SKIP
>>> stack = np.zeros((3, 100, 100), np.float32)                         # doctest: +SKIP
>>> table = infer_cluster_parameters(stack, [[50, 50]], zeropoints=tuple(tables().zeropoint))  # doctest: +SKIP
>>> table["log_age_50"].unit                                           # doctest: +SKIP
Unit("dex(yr)")
"""

from __future__ import annotations

import time

import astropy.units as u
import numpy as np
import torch
from astropy.table import QTable

from astroclean.errors import AstrocleanValueError
from astroclean.clusters.inputs import as_band_stack
from astroclean.clusters.model import load_cluster_model, sigma_scale
from astroclean.clusters.network import PARAMETERS, decode, normalise_cutouts
from astroclean.clusters.tables import M83_DISTANCE_MPC, tables

FLAGS = ("ok", "edge", "nan", "off_image")
PIXEL_SCALE_TOLERANCE = 0.05


def _positions(positions, wcs):
    """(N, 2) pixel x, y (0-based) from an array of x, y or a SkyCoord (needs the WCS)."""
    if hasattr(positions, "ra"):
        if wcs is None:
            raise AstrocleanValueError("sky positions need a WCS in the images; pass pixel x, y instead")
        x, y = wcs.world_to_pixel(positions)
        return np.stack([np.atleast_1d(x), np.atleast_1d(y)], 1).astype(float)
    pos = np.asarray(positions, float)
    if pos.ndim == 1 and pos.size == 2:
        pos = pos[None]
    if pos.ndim != 2 or pos.shape[1] != 2:
        raise AstrocleanValueError(f"positions must be (N, 2) pixel x, y or a SkyCoord, got shape {pos.shape}")
    return pos


def extract_cutouts(data, mask, positions, size):
    """(N, 3, size, size) cutouts centred on the nearest pixel; flags and fraction of bad pixels."""
    n_band, ny, nx = data.shape
    h = size // 2
    out = np.full((len(positions), n_band, size, size), np.nan, np.float32)
    flags, bad_frac = [], np.zeros(len(positions))
    for i, (x, y) in enumerate(positions):
        if not (np.isfinite(x) and np.isfinite(y)) or not (-0.5 <= x < nx - 0.5 and -0.5 <= y < ny - 0.5):
            flags.append("off_image")
            bad_frac[i] = 1.0
            continue
        xi, yi = int(round(x)), int(round(y))
        y0, x0 = yi - h, xi - h
        ys, xs = max(0, -y0), max(0, -x0)
        ye, xe = min(size, ny - y0), min(size, nx - x0)
        out[i, :, ys:ye, xs:xe] = data[:, y0 + ys:y0 + ye, x0 + xs:x0 + xe]
        if mask is not None:
            m = mask[:, y0 + ys:y0 + ye, x0 + xs:x0 + xe]
            out[i, :, ys:ye, xs:xe][m] = np.nan
        core = out[i, :, h - 4:h + 5, h - 4:h + 5]
        bad_frac[i] = float(np.mean(~np.isfinite(out[i])))
        if (ys, xs, ye, xe) != (0, 0, size, size):
            flags.append("edge")
        elif not np.all(np.isfinite(core)) or bad_frac[i] > 0.05:
            flags.append("nan")
        else:
            flags.append("ok")
    return out, flags, bad_frac


def infer_cluster_parameters(stack, positions, *, model="wfc3-m83", zeropoints=None, bands=None,
                             distance=M83_DISTANCE_MPC, pixel_scale=None, device=None, batch_size=256):
    """Cluster parameters at ``positions`` in a three-band WFC3/UVIS image.

    Parameters
    ----------
    stack : ImageStack-like, three FITS paths, or array (3, y, x)
        F336W, F438W, F814W on one pixel grid (0.04"/px). Arrays need ``zeropoints`` (and
        ``bands`` when not in that order). NaN/inf and masked pixels are set to 0 in the network's
        input and counted in ``bad_fraction``.
    positions : array (N, 2) of pixel x, y (0-based) or astropy SkyCoord
    model : str or network with a ``card``
    zeropoints : sequence of 3 floats, optional
        Vega magnitude of one data unit per band (overrides the stack's).
    distance : float
        Distance in Mpc; the light is rescaled to the model's 4.5 Mpc and r_eff converted to pc.
    pixel_scale : float, optional
        Arcsec per pixel when the stack has no WCS (must be 0.04 within 5 %).

    Returns
    -------
    astropy.table.QTable
        One row per position: x, y, log age / log mass (dex(yr), dex(solMass)), r_eff (arcsec and
        pc), A_V (mag), each with ``_16``, ``_50``, ``_84`` percentiles of the network's marginal;
        ``p_cluster``, ``snr`` (F438W, 3-px aperture), ``flag`` (ok, edge, nan, off_image) and
        ``bad_fraction``. Off-image rows are NaN.

    Raises
    ------
    AstrocleanValueError
        Missing or wrong bands, unknown zero points, a pixel scale other than 0.04", bad positions.
    """
    t0 = time.time()
    net, card = load_cluster_model(model)
    stack = as_band_stack(stack, bands=bands, zeropoints=zeropoints, pixel_scale=pixel_scale)
    scale = stack.pixel_scale
    if scale is not None and abs(scale / 0.04 - 1) > PIXEL_SCALE_TOLERANCE:
        raise AstrocleanValueError(f"pixel scale {scale:.4f}\"/px differs from the model's 0.04\"/px; "
                                   "resample the images to the WFC3/UVIS pixel first")
    if not (np.isfinite(distance) and distance > 0):
        raise AstrocleanValueError(f"distance must be a positive number of Mpc, got {distance}")
    pos = _positions(positions, stack.wcs)
    size = int((card.inputs or {}).get("cutout", 48))
    # rescale each band to e-/s on the model's zero points, and to the model's distance
    zp_model = tables().zeropoint
    factor = 10 ** (-0.4 * (zp_model - np.asarray(stack.zeropoints))) * (distance / M83_DISTANCE_MPC) ** 2
    cut, flags, bad = extract_cutouts(stack.data, stack.mask, pos, size)
    cut = cut * factor[None, :, None, None].astype(np.float32)
    x = torch.from_numpy(normalise_cutouts(cut))
    k = int(card.architecture.get("k", 3))
    dev = torch.device(device or "cpu")
    net = net.to(dev)
    outs = []
    with torch.no_grad():
        for i in range(0, len(x), batch_size):
            outs.append(net(x[i:i + batch_size].to(dev)).cpu())
    raw = torch.cat(outs) if outs else torch.zeros(0, net.n_outputs)
    dec = decode(raw, k, sigma_scale=sigma_scale(card))
    pc_per_arcsec = distance * 1e6 * np.pi / (180 * 3600)
    table = QTable()
    table["x"], table["y"] = pos[:, 0] * u.pix, pos[:, 1] * u.pix
    if stack.wcs is not None and len(pos):
        sky = stack.wcs.pixel_to_world(pos[:, 0], pos[:, 1])
        table["ra"], table["dec"] = sky.ra.to(u.deg), sky.dec.to(u.deg)
    off = np.array([f == "off_image" for f in flags], bool)
    for name, unit in (("log_age", u.dex(u.yr)), ("log_mass", u.dex(u.solMass)), ("a_v", u.mag)):
        for j, p in enumerate((16, 50, 84)):
            v = dec[name][:, j].copy()
            v[off] = np.nan
            table[f"{name}_{p}"] = v * unit
    for j, p in enumerate((16, 50, 84)):
        r = 10 ** dec["log_r_eff"][:, j]
        r[off] = np.nan
        table[f"r_eff_arcsec_{p}"] = r * u.arcsec
        table[f"r_eff_pc_{p}"] = r * pc_per_arcsec * u.pc
    p_cl = dec["p_cluster"].copy()
    snr = 10 ** dec["log_snr"][:, 1]
    p_cl[off], snr[off] = np.nan, np.nan
    table["p_cluster"] = p_cl
    table["snr"] = snr
    table["flag"] = flags
    table["bad_fraction"] = bad
    table.meta.update({"model": card.name, "model_sha256": card.sha256, "distance_mpc": float(distance),
                       "zeropoints": [float(z) for z in stack.zeropoints], "seconds": round(time.time() - t0, 3),
                       "parameters": list(PARAMETERS)})
    return table
