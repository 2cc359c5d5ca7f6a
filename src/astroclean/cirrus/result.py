"""The frozen result of the cirrus task and its products (FITS + PNG quick-look)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from astroclean.tasks import Result

__all__ = ["CirrusResult", "quicklook"]


@dataclass(frozen=True)
class CirrusResult(Result):
    """What ``segment_cirrus`` found.

    Attributes
    ----------
    cirrus : ndarray (y, x) of bool
        Cirrus pixels (probability >= threshold, not under the source mask).
    probability : ndarray (y, x) float32
        Cirrus probability (NaN where every band is NaN).
    source_mask : ndarray (y, x) of bool
        Sources and artefacts (True = masked).
    star_model : ndarray (band, y, x) float32
        Extended light of the bright stars, subtracted from ``cleaned``.
    cleaned : ndarray (band, y, x) float32
        Star-subtracted bands.
    depth : float
        r-band 3-sigma surface-brightness limit in 10"x10" boxes, mag/arcsec^2.
    provenance : dict
    """

    cirrus: np.ndarray
    probability: np.ndarray
    source_mask: np.ndarray
    star_model: np.ndarray
    cleaned: np.ndarray
    bands: tuple
    zeropoints: tuple
    pixel_scale: float
    threshold: float
    depth: float
    stars: tuple = ()
    model: str = ""
    wcs: object = None
    headers: tuple = ()

    def _header(self):
        from astropy.io import fits

        h = fits.Header()
        if self.wcs is not None:
            h.update(self.wcs.to_header())
        return h

    def extensions(self, header=None, **options) -> list:
        """``CIRRUS`` (probability, mask), ``SRCMASK``, ``STARMODEL`` and ``IMAGE_<band>`` per band."""
        from astropy.io import fits

        wcs_header = self._header()
        ch = wcs_header.copy()
        ch["PLANE0"] = "probability"
        ch["PLANE1"] = "cirrus mask (probability >= threshold, unmasked)"
        ch["THRESH"] = self.threshold
        if np.isfinite(self.depth):
            ch["DEPTHR"] = (round(self.depth, 3), "r 3-sigma 10x10 arcsec limit, mag/arcsec2")
        star_h = wcs_header.copy()
        star_h["BANDS"] = ",".join(self.bands)
        cirrus = np.stack([self.probability, self.cirrus.astype(np.float32)]).astype(np.float32)
        extensions = [("CIRRUS", cirrus, ch), ("SRCMASK", self.source_mask.astype(np.uint8), wcs_header),
                      ("STARMODEL", self.star_model.astype(np.float32), star_h)]
        used = set()
        for b, band in enumerate(self.bands):
            name = f"IMAGE_{band}"
            if name in used:
                name = f"IMAGE_{band}{b}"
            used.add(name)
            src = self.headers[b] if b < len(self.headers) and self.headers[b] is not None else fits.Header()
            h = src.copy()
            h.update(wcs_header)
            h["BAND"] = band
            h["MAGZERO"] = self.zeropoints[b]
            extensions.append((name, self.cleaned[b], h))
        return extensions

    def write(self, path, *, overwrite: bool = False, png: bool | str = True, header=None,
              primary_header=None) -> Path:
        """Write the FITS product (and the PNG quick-look beside it; ``png=False`` to skip, or a path).

        Extensions: ``CIRRUS`` (plane 0 probability, plane 1 mask), ``SRCMASK``, ``STARMODEL``
        (band, y, x) and ``IMAGE_<band>`` (star-subtracted) per band; the WCS and each band's
        header are kept, provenance in every HDU. Written atomically; when the PNG fails the
        FITS is removed again, so nothing partial is left on disk.
        """
        from astroclean.io.write import check_writable

        path = Path(path)
        png_path = Path(png) if isinstance(png, (str, Path)) else path.with_suffix(".png")
        check_writable(path, overwrite=overwrite)
        if png:
            check_writable(png_path, overwrite=overwrite)
        if primary_header is None and self.headers and self.headers[0] is not None:
            primary_header = self.headers[0]
        out = super().write(path, primary_header=primary_header, overwrite=overwrite)
        if png:
            try:
                quicklook(self, png_path, overwrite=overwrite)
            except BaseException:
                out.unlink(missing_ok=True)
                raise
        return out


def _rgb(cleaned, mask):
    rgb = []
    for b in (2, 1, 0):
        v = cleaned[b]
        ok = np.isfinite(v) & ~mask
        vals = v[ok] if ok.any() else v[np.isfinite(v)]
        med = np.median(vals)
        sig = 1.4826 * np.median(np.abs(vals - med)) + 1e-30
        z = np.arcsinh((v - med) / (2 * sig))
        rgb.append(np.clip((z + 1.0) / 6.0, 0, 1))
    return np.nan_to_num(np.stack(rgb, axis=-1))


def quicklook(result: CirrusResult, path, *, overwrite: bool = False, max_side: int = 1600) -> Path:
    """PNG: colour composite (i, r, g as R, G, B; star-subtracted) with cirrus contours, and the masks."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure
    from astroclean.io.write import atomic_write

    step = max(1, int(np.ceil(max(result.cirrus.shape) / max_side)))
    cleaned = result.cleaned[:, ::step, ::step]
    srcm = result.source_mask[::step, ::step]
    cir = result.cirrus[::step, ::step]
    prob = np.nan_to_num(result.probability[::step, ::step])
    rgb = _rgb(cleaned, srcm)
    from astroclean.cirrus.evaluate.baselines import masked_smooth

    binning = int(result.provenance.get("bin", 1) or 1)
    with np.errstate(invalid="ignore"):
        mean = np.nanmean(np.where(np.isfinite(cleaned), cleaned, 0.0), axis=0)
    smooth = masked_smooth(mean, srcm, max(1.0, binning / step / 2))
    fig = Figure(figsize=(15, 5.4))
    axes = fig.subplots(1, 3)
    axes[0].imshow(rgb, origin="lower")
    axes[0].contour(prob, levels=[result.threshold], colors=["cyan"], linewidths=0.8)
    axes[0].set_title(f"{'/'.join(result.bands[::-1])} composite; cirrus p>={result.threshold:g} (cyan)", fontsize=9)
    bg = np.where(srcm, np.nan, smooth)
    vals = bg[np.isfinite(bg)]
    lo, hi = (np.percentile(vals, [5, 99.5]) if vals.size else (0, 1))
    cmap = matplotlib.colormaps["gray"].with_extremes(bad="#3b2f6b")
    axes[1].imshow(bg, origin="lower", cmap=cmap, vmin=lo, vmax=hi)
    if cir.any():
        axes[1].contour(cir.astype(float), levels=[0.5], colors=["orange"], linewidths=0.8)
    axes[1].set_title("smoothed band mean, sources masked (purple), cirrus (orange)", fontsize=9)
    over = np.zeros(cir.shape + (3,))
    over[..., 0] = srcm
    over[..., 1] = cir
    over[..., 2] = prob * ~srcm
    axes[2].imshow(over, origin="lower")
    axes[2].set_title(f"sources (red), cirrus (green), probability (blue); r depth {result.depth:.2f}", fontsize=9)
    for a in axes:
        a.set_xticks([])
        a.set_yticks([])
    fig.tight_layout()
    return atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=80, format="png"), overwrite=overwrite)
