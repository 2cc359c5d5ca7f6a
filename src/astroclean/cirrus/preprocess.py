"""Working scale, sky, noise, depth and the input normalisation of the cirrus networks.

Cirrus is diffuse, so the networks run at a working scale near 2"/px
(``working_factor``): Stripe 82 (0.396"/px) is binned 3x3, the Legacy Survey
and DES (0.262"/px) 4x4, SDSS 3x-binned frames (1.19"/px) are used as they are.
The depth is the 3-sigma surface brightness measured in 10"x10" boxes (the
low-surface-brightness convention of Roman et al. 2020), from box means of the
source-masked sky, so correlated noise is counted.

Example
-------
>>> import numpy as np
>>> from astroclean.cirrus.preprocess import bin_stack, unbin
>>> x = np.arange(2 * 7 * 5, dtype="f4").reshape(2, 7, 5)
>>> bin_stack(x, 2).shape, unbin(bin_stack(x, 2), 2, (7, 5)).shape
((2, 4, 3), (2, 7, 5))
"""

from __future__ import annotations

import numpy as np

from astroclean.errors import AstrocleanValueError

__all__ = ["working_factor", "bin_stack", "unbin", "sky_noise", "box_depth", "normalise_asinh",
           "normalise_reference", "NORMALISERS", "MAD"]

MAD = 1.4826
WORKING_SCALE = 2.0   # arcsec / px


def working_factor(pixel_scale: float | None, *, target: float = WORKING_SCALE) -> int:
    """Integer binning factor that brings ``pixel_scale`` closest to ``target`` (>= 1)."""
    if pixel_scale is None or not np.isfinite(pixel_scale) or pixel_scale <= 0:
        return 1
    return max(1, int(round(target / pixel_scale)))


def bin_stack(data: np.ndarray, factor: int, *, reduce: str = "mean") -> np.ndarray:
    """Block mean (NaN-aware) of a (..., y, x) array; edges padded by reflection to a multiple of ``factor``.

    ``reduce="any"`` gives the block OR of a boolean array.
    """
    if factor == 1:
        return data.astype(np.float32, copy=False) if reduce == "mean" else data.copy()
    ny, nx = data.shape[-2:]
    py, px = (-ny) % factor, (-nx) % factor
    pad = [(0, 0)] * (data.ndim - 2) + [(0, py), (0, px)]
    x = np.pad(data, pad, mode="symmetric" if reduce == "mean" else "edge")
    shape = x.shape[:-2] + (x.shape[-2] // factor, factor, x.shape[-1] // factor, factor)
    x = x.reshape(shape)
    if reduce == "any":
        return x.any(axis=(-3, -1))
    if not np.isnan(x).any():
        return x.mean(axis=(-3, -1), dtype=np.float32)
    with np.errstate(invalid="ignore"), __import__("warnings").catch_warnings():
        __import__("warnings").simplefilter("ignore", RuntimeWarning)
        return np.nanmean(x, axis=(-3, -1)).astype(np.float32)


def unbin(data: np.ndarray, factor: int, shape) -> np.ndarray:
    """Nearest-neighbour (block) expansion back to ``shape`` (y, x)."""
    if factor == 1:
        return data[..., : shape[0], : shape[1]]
    out = np.repeat(np.repeat(data, factor, axis=-2), factor, axis=-1)
    return out[..., : shape[0], : shape[1]]


def sky_noise(data: np.ndarray, mask: np.ndarray | None = None):
    """Per-band sky level (sigma-clipped median) and pixel noise (robust sigma) of a (band, y, x) stack."""
    sky, noise = [], []
    for b in range(data.shape[0]):
        v = data[b]
        ok = np.isfinite(v) if mask is None else (np.isfinite(v) & ~mask[b] if mask.ndim == 3 else np.isfinite(v) & ~mask)
        vals = v[ok]
        if vals.size < 10:
            raise AstrocleanValueError(f"band {b} has fewer than 10 usable sky pixels; check the mask and the data")
        med = np.median(vals)
        sig = MAD * np.median(np.abs(vals - med))
        for _ in range(3):
            sel = vals[np.abs(vals - med) < 3 * max(sig, 1e-30)]
            if sel.size < 10:
                break
            med = np.median(sel)
            sig = MAD * np.median(np.abs(sel - med))
        sky.append(med)
        noise.append(sig)
    return np.array(sky, dtype=np.float64), np.array(noise, dtype=np.float64)


def box_sigma(image: np.ndarray, mask: np.ndarray, box: int) -> float:
    """Robust scatter of ``box`` x ``box`` means of the unmasked pixels (boxes at least half unmasked)."""
    box = max(1, int(box))
    ny, nx = image.shape
    ny, nx = ny - ny % box, nx - nx % box
    if ny == 0 or nx == 0:
        box = max(1, min(image.shape) // 2)
        ny, nx = image.shape[0] - image.shape[0] % box, image.shape[1] - image.shape[1] % box
    v = np.where(mask[:ny, :nx] | ~np.isfinite(image[:ny, :nx]), 0.0, image[:ny, :nx])
    w = (~mask[:ny, :nx] & np.isfinite(image[:ny, :nx])).astype(float)
    vs = v.reshape(ny // box, box, nx // box, box).sum(axis=(1, 3))
    ws = w.reshape(ny // box, box, nx // box, box).sum(axis=(1, 3))
    good = ws >= 0.5 * box * box
    if good.sum() < 4:
        v = image[~mask & np.isfinite(image)]
        return float(MAD * np.median(np.abs(v - np.median(v))) / box) if v.size else float("nan")
    means = vs[good] / ws[good]
    return float(MAD * np.median(np.abs(means - np.median(means))))


def box_depth(image: np.ndarray, mask: np.ndarray, *, pixel_scale: float, zeropoint: float,
              unit_scale: float | None = None, box_arcsec: float = 10.0, n_sigma: float = 3.0) -> tuple[float, float]:
    """The ``n_sigma`` surface-brightness limit (mag/arcsec^2) in ``box_arcsec`` boxes, and the box sigma.

    ``pixel_scale`` is the scale of ``image``'s pixels; ``unit_scale`` the pixel scale its data unit refers
    to (a block-mean binned image keeps the native pixel's flux unit; default ``pixel_scale``).
    """
    box = int(round(box_arcsec / pixel_scale))
    sig = box_sigma(image, mask, box)
    area = (unit_scale or pixel_scale) ** 2
    return float(zeropoint - 2.5 * np.log10(n_sigma * sig / area)), sig


def sb_to_flux(mu, *, zeropoint: float, pixel_scale: float):
    """Surface brightness (mag/arcsec^2) -> data units per pixel."""
    return 10 ** (-0.4 * (np.asarray(mu, dtype=np.float64) - zeropoint)) * pixel_scale**2


def flux_to_sb(flux, *, zeropoint: float, pixel_scale: float):
    """Data units per pixel -> mag/arcsec^2 (inf where flux <= 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return zeropoint - 2.5 * np.log10(np.asarray(flux, dtype=np.float64) / pixel_scale**2)


def normalise_asinh(data: np.ndarray, noise, *, soften: float = 3.0) -> np.ndarray:
    """Sky-subtracted (band, y, x) -> ``asinh(x / (soften * noise)) / 3`` per band (noise-scaled, NaN -> 0)."""
    noise = np.asarray(noise, dtype=np.float64).reshape(-1, 1, 1)
    out = np.arcsinh(data / (soften * noise)) / 3.0
    return np.nan_to_num(out, nan=0.0).astype(np.float32)


def normalise_reference(data: np.ndarray, noise=None, *, percentile: float = 99.9) -> np.ndarray:
    """The reference preprocessing: per band clip at the 99.9th percentile, log, min-max to [-1, 1]."""
    out = np.empty(data.shape, dtype=np.float32)
    for b in range(data.shape[0]):
        v = np.nan_to_num(data[b], nan=np.nanmedian(data[b]))
        hi = np.percentile(v, percentile)
        lo = np.percentile(v, 0.1)
        v = np.log10(np.clip(v, lo, hi) - lo + (hi - lo) * 1e-3)
        vmin, vmax = v.min(), v.max()
        out[b] = 2 * (v - vmin) / max(vmax - vmin, 1e-12) - 1
    return out


NORMALISERS = {"cirrus-asinh": normalise_asinh, "cirrus-reference": normalise_reference}


def _register():
    from astroclean.inference.normalisers import register_normaliser

    register_normaliser("cirrus-asinh", normalise_asinh,
                        description="x = asinh(data / (3 noise)) / 3 per band at the 2\"/px working scale "
                                    "(sky-subtracted input; noise: robust sigma of each binned band)")
    register_normaliser("cirrus-reference", normalise_reference,
                        description="per band: clip at the 99.9th percentile, log10, min-max to [-1, 1]")


_register()
