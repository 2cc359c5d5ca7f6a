"""Does subtracting the bright-star models flatten the background (and its colour) around the stars?

For each modelled star of a real frame (Legacy Survey g, r, z with its bright star and halo), the
median background in annuli from 5" to 60" (sources and the star's saturated core/bleed masked) is
measured in each band before and after subtraction, in units of that band's 10"x10" box sigma. The
radial gradient is inner (5-20", from the edge of the saturated core) minus outer (40-60") annulus; the colour-gradient proxy is the
difference of two bands' gradients (g-r and r-z), in the same units.
"""

from __future__ import annotations

import numpy as np

from astroclean.cirrus.masking import classical_mask
from astroclean.cirrus.preprocess import bin_stack, box_sigma, sky_noise, unbin, working_factor
from astroclean.cirrus.stars import fit_bright_stars

__all__ = ["star_gradients"]


def _ring(img, mask, rr, lo, hi):
    sel = (rr >= lo) & (rr < hi) & ~mask & np.isfinite(img)
    return float(np.median(img[sel])) if sel.sum() > 20 else np.nan


def star_gradients(frame, *, limit: float = 1000.0, radius: float = 60.0, max_stars: int = 5):
    """Rows (one per star) of inner-minus-outer background per band, before and after, in box sigmas."""
    data = frame.data.astype(np.float32)
    k = working_factor(frame.pixel_scale)
    x = bin_stack(data, k)
    _, noise_b = sky_noise(x)
    src = unbin(classical_mask(x, noise_b), k, data.shape[1:])
    _, noise = sky_noise(data[:, ::3, ::3])
    model, fits = fit_bright_stars(data, noise, mask=src, pixel_scale=frame.pixel_scale, limit=limit, radius=radius,
                                   max_stars=max_stars)
    box = int(round(10.0 / frame.pixel_scale))
    sig = [box_sigma(data[b], src, box) for b in range(3)]
    from scipy import ndimage

    labels, _ = ndimage.label(src)
    yy, xx = np.mgrid[0: data.shape[1], 0: data.shape[2]]
    rows = []
    for f in fits:
        rr = np.hypot(xx - f.x, yy - f.y) * frame.pixel_scale
        own = labels[int(f.y), int(f.x)]
        mask = (src & (labels != own)) | (rr < f.r_inner * frame.pixel_scale)
        row = dict(x=round(f.x, 1), y=round(f.y, 1), peak_snr=round(f.peak_snr))
        for label, img in (("before", data), ("after", data - model)):
            grad = []
            for b in range(3):
                inner = _ring(img[b], mask, rr, max(5.0, f.r_inner * frame.pixel_scale), 20.0)
                outer = _ring(img[b], mask, rr, 40.0, 60.0)
                grad.append((inner - outer) / sig[b])
            row[label] = [round(g, 2) for g in grad]
            row[label + "_colour"] = [round(grad[0] - grad[1], 2), round(grad[1] - grad[2], 2)]
        rows.append(row)
    return rows


def report_lines(rows, bands=("g", "r", "z")) -> list[str]:
    lines = ["| star (x, y) | peak SNR | gradient before (" + ", ".join(bands) + ") | after | colour gradient before "
             f"({bands[0]}-{bands[1]}, {bands[1]}-{bands[2]}) | after |", "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['x']:.0f}, {r['y']:.0f} | {r['peak_snr']} | {r['before']} | {r['after']} | "
                     f"{r['before_colour']} | {r['after_colour']} |")
    return lines
