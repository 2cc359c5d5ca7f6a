"""``segment_cirrus``: mask sources, subtract bright-star light, segment cirrus, in one call.

Example
-------
>>> import numpy as np
>>> from astroclean.cirrus import segment_cirrus                      # doctest: +SKIP
>>> result = segment_cirrus(stack, zeropoint=22.5, model="cirrus-gri")  # doctest: +SKIP
>>> result.cirrus.mean(), result.write("out/field_cirrus.fits")        # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import time

import numpy as np

from astroclean.errors import AstrocleanValueError
from astroclean.cirrus.inputs import as_cirrus_stack, model_planes
from astroclean.cirrus.masking import classical_mask
from astroclean.cirrus.preprocess import bin_stack, box_depth, sky_noise, unbin, working_factor
from astroclean.cirrus.result import CirrusResult
from astroclean.cirrus.segment import CLASSICAL, load_cirrus_model
from astroclean.cirrus.stars import fit_bright_stars, find_bright_stars
from astroclean.cirrus.train import masker_inputs, segmenter_inputs

__all__ = ["segment_cirrus", "CirrusSegmenter"]

DEFAULT_MODEL = "cirrus-gri"
DEFAULT_MASKER = "cirrus-mask-gri"


class CirrusSegmenter:
    """Keeps the cirrus and masking networks loaded for many fields.

    Parameters
    ----------
    model : str
        Cirrus segmentation model (``"cirrus-gri"``).
    masker : str
        Source-masking model (``"cirrus-mask-gri"``) or ``"classical"`` (segmentation + dilation).
    threshold : float, optional
        Probability above which a pixel is cirrus; default the card's.
    star_limit : float
        Peak signal-to-noise above which stars get an extended-PSF model (None: no star step).
    star_radius : float
        Outer radius of the star models, arcsec.
    tile : int
        Tile size at the working scale (memory bound).
    weights_dir : str or Path, optional
        A folder holding the models' cards and weights (default: the shipped ones).
    """

    def __init__(self, *, model: str = DEFAULT_MODEL, masker: str = DEFAULT_MASKER, threshold: float | None = None,
                 star_limit: float | None = 1000.0, star_radius: float = 60.0, max_stars: int = 10, tile: int = 512,
                 device=None, weights_dir=None):
        self.runner = load_cirrus_model(model, tile=tile, device=device, directory=weights_dir)
        self.masker = None if masker == CLASSICAL else load_cirrus_model(masker, tile=tile, device=device,
                                                                          directory=weights_dir)
        self.masker_name = masker
        self.threshold = float(self.runner.card.default_threshold if threshold is None else threshold)
        if not 0 < self.threshold < 1:
            raise AstrocleanValueError(f"threshold must be in (0, 1), got {self.threshold}")
        self.star_limit = star_limit
        self.star_radius = star_radius
        self.max_stars = max_stars
        self.normaliser = self.runner.card.normaliser or "cirrus-asinh"

    # --- steps at the working scale -------------------------------------------------------------
    def source_mask(self, x: np.ndarray, noise) -> np.ndarray:
        bad = ~np.all(np.isfinite(x), axis=0)
        if self.masker is None:
            return classical_mask(x, noise) | bad
        return (self.masker(masker_inputs(x, noise)) >= 0.5) | bad

    def probability(self, x: np.ndarray, noise, source_mask: np.ndarray) -> np.ndarray:
        return self.runner(segmenter_inputs(x, noise, source_mask, normaliser=self.normaliser))

    def segment_binned(self, x: np.ndarray, noise):
        """(probability, source_mask) of a working-scale stack."""
        m = self.source_mask(x, noise)
        return self.probability(x, noise, m), m

    def _resegment(self, data, star_model, k, noise, srcmask, prob):
        """Re-bin the star-subtracted bands and re-run the cirrus network on the boxes around the star models
        (with the network's context on every side); elsewhere the first pass stands."""
        from scipy import ndimage

        x = bin_stack(data - star_model, k)
        touched = bin_stack(np.any(star_model != 0, axis=0), k, reduce="any")
        prob = prob.copy()
        halo = self.runner.halo
        ny, nx = prob.shape
        labels, _ = ndimage.label(touched)
        for sl in ndimage.find_objects(labels):
            y0, y1, x0, x1 = sl[0].start, sl[0].stop, sl[1].start, sl[1].stop
            wy0, wy1, wx0, wx1 = max(0, y0 - halo), min(ny, y1 + halo), max(0, x0 - halo), min(nx, x1 + halo)
            py0, py1, px0, px1 = max(0, y0 - halo // 4), min(ny, y1 + halo // 4), max(0, x0 - halo // 4), min(nx, x1 + halo // 4)
            win = (slice(wy0, wy1), slice(wx0, wx1))
            part = self.probability(x[(slice(None),) + win], noise, srcmask[win])
            prob[py0:py1, px0:px1] = part[py0 - wy0: py1 - wy0, px0 - wx0: px1 - wx0]
        return x, prob

    # --- the whole field -----------------------------------------------------------------------
    def __call__(self, stack, *, zeropoint=None, pixel_scale=None, bands=None, single_band: bool = False,
                 subtract_sky: bool = False) -> CirrusResult:
        t0 = time.time()
        clock = {}

        def lap(name, start=[time.perf_counter()]):   # noqa: B006 - a per-call stopwatch
            now = time.perf_counter()
            clock[name] = round(clock.get(name, 0.0) + now - start[0], 3)
            start[0] = now

        s = as_cirrus_stack(stack, bands=bands, zeropoint=zeropoint, pixel_scale=pixel_scale, single_band=single_band)
        data, s_bands, s_zeropoints, s_headers = model_planes(s)
        input_data = data
        shape = data.shape[1:]
        k = working_factor(s.pixel_scale)
        if subtract_sky:
            sky, _ = sky_noise(bin_stack(data, k))
            data = data - sky.astype(np.float32)[:, None, None]
        x = bin_stack(data, k)
        _, noise = sky_noise(x)
        lap("input, binning")
        srcmask = self.source_mask(x, noise)
        lap("source mask")
        prob = self.probability(x, noise, srcmask)
        lap("cirrus")
        star_model = np.zeros(data.shape, dtype=np.float32)
        stars = []
        if self.star_limit is not None:
            # pixel noise at the native scale (every 3rd pixel is plenty for a robust sigma)
            _, native_noise = sky_noise(data[:, ::3, ::3])
            found = find_bright_stars(data[1], native_noise[1], limit=self.star_limit,
                                      separation=max(3, int(round(3.0 / s.pixel_scale))), max_stars=self.max_stars)
            lap("stars")
            if found:
                cirrus1 = unbin((prob >= self.threshold) & ~srcmask, k, shape)
                star_model, stars = fit_bright_stars(data, native_noise, mask=unbin(srcmask, k, shape),
                                                     cirrus=cirrus1, pixel_scale=s.pixel_scale, limit=self.star_limit,
                                                     radius=self.star_radius, stars=found)
                lap("stars")
                if stars:   # second pass on the star-subtracted bands, only where the star models are
                    x, prob = self._resegment(data, star_model, k, noise, srcmask, prob)
                    lap("cirrus")
        cirrus_b = (prob >= self.threshold) & ~srcmask
        depth = float("nan")
        for m in (srcmask | cirrus_b, srcmask, np.zeros_like(srcmask)):
            if (~m).sum() >= 16:
                depth, _ = box_depth(x[1], m, pixel_scale=s.pixel_scale * k, unit_scale=s.pixel_scale,
                                     zeropoint=s_zeropoints[1])
                if np.isfinite(depth):
                    break
        probability = unbin(prob, k, shape).astype(np.float32)
        source_mask = unbin(srcmask, k, shape)
        cirrus = unbin(cirrus_b, k, shape)
        nan = ~np.all(np.isfinite(input_data), axis=0)
        probability = np.where(nan, np.nan, probability).astype(np.float32)
        cirrus &= ~nan
        cleaned = (input_data - star_model).astype(np.float32)
        digest = hashlib.sha256(np.ascontiguousarray(input_data).tobytes()).hexdigest()
        lap("outputs")
        self.last_timings = clock
        provenance = dict(task="cirrus", model=self.runner.card.name, model_sha256=self.runner.card.sha256,
                          masker=self.masker_name, threshold=self.threshold, star_limit=self.star_limit,
                          star_radius=self.star_radius, n_stars=len(stars), bin=k, bands=",".join(s_bands),
                          zeropoints=",".join(f"{z:.3f}" for z in s_zeropoints), pixel_scale=round(s.pixel_scale, 5),
                          depth_r=round(depth, 3) if np.isfinite(depth) else None, input_sha256=digest, seconds=round(time.time() - t0, 2))
        return CirrusResult(cirrus=cirrus, probability=probability, source_mask=source_mask, star_model=star_model,
                            cleaned=cleaned, bands=s_bands, zeropoints=s_zeropoints, pixel_scale=s.pixel_scale,
                            threshold=self.threshold, depth=float(depth), stars=tuple(stars), model=self.runner.card.name,
                            wcs=s.wcs, headers=s_headers, provenance=provenance)


def segment_cirrus(stack, *, zeropoint=None, model: str = DEFAULT_MODEL, masker: str = DEFAULT_MASKER,
                   pixel_scale=None, bands=None, threshold=None, star_limit: float | None = 1000.0,
                   star_radius: float = 60.0, single_band: bool = False, subtract_sky: bool = False,
                   device=None, weights_dir=None) -> CirrusResult:
    """Find Galactic cirrus in a multi-band image.

    Parameters
    ----------
    stack : ImageStack, ndarray (band, y, x), list of 2-D arrays/Images, or list of FITS paths
        Calibrated, sky-subtracted images in g, r, i (or the bands the model card declares;
        Legacy Survey/DECam g, r, z work as g, r, i).
    zeropoint : float or sequence, keyword-only
        AB magnitude of one data unit, per band or one for all; read from the headers when None.
    model : str
        Cirrus model name.
    masker : str
        ``"cirrus-mask-gri"`` (learned) or ``"classical"``.
    pixel_scale : float, optional
        arcsec/px; from the WCS when None.
    threshold : float, optional
        Cirrus probability threshold (default: the card's).
    star_limit : float or None
        Peak SNR above which stars get an extended-PSF model subtracted; None skips the step.
    single_band : bool
        Copy a single band into the three channels.
    subtract_sky : bool
        Subtract a global clipped median per band first (for frames that still hold the sky).
    weights_dir : str or Path, optional
        Folder with the models' cards and weights (default: the shipped ones).

    Returns
    -------
    CirrusResult
        ``cirrus`` (bool), ``probability``, ``source_mask``, ``star_model`` (band, y, x), ``cleaned``
        (star-subtracted bands), ``depth`` (r-band 3-sigma 10" limit), provenance; ``write(path)``.

    Raises
    ------
    AstrocleanValueError
        Bad input (band missing, shapes without WCS, all-NaN/constant band, integer data,
        unknown zero point or pixel scale), unknown model, threshold out of (0, 1).
    """
    checked = as_cirrus_stack(stack, bands=bands, zeropoint=zeropoint, pixel_scale=pixel_scale, single_band=single_band)
    seg = CirrusSegmenter(model=model, masker=masker, threshold=threshold, star_limit=star_limit,
                          star_radius=star_radius, device=device, weights_dir=weights_dir)
    return seg(checked, subtract_sky=subtract_sky)
