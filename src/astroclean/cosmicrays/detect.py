"""Detect (and optionally clean) cosmic rays in single exposures.

Example
-------
>>> import numpy as np
>>> from astroclean import detect_cosmic_rays
>>> rng = np.random.default_rng(0)
>>> image = 100 + 5 * rng.standard_normal((64, 64)).astype("f4")
>>> image[30, 10:20] += 400                      # a cosmic-ray track
>>> result = detect_cosmic_rays(image, model="ground", inpaint=True)
>>> bool(result.cr_mask[30, 15]), result.cleaned.dtype
(True, dtype('float32'))
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

import numpy as np

from astroclean.errors import AstrocleanValueError
from astroclean.models.registry import check_model_task
from astroclean.image import as_image, like_input
from astroclean.inference import Predictor, normalise
from astroclean.models import create_model
from astroclean.cosmicrays.choose import AUTO, GROUND_MODEL, choose_model
from astroclean.cosmicrays.inpaint import METHODS as FILLS
from astroclean.cosmicrays.inpaint import fill_masked
from astroclean.tasks import Result
from astroclean.cosmicrays.saturated import DEFAULT_HALO, drop_saturation_halo, saturated_pixels

DEFAULT_MODEL = GROUND_MODEL   # what "auto" picks for a ground frame or a bare array


@dataclass(frozen=True)
class CosmicRayResult(Result):
    """What :func:`detect_cosmic_rays` returns, whatever the options.

    Attributes
    ----------
    cr_mask : ndarray of bool
        True = cosmic ray. Never True on bad, saturated or NaN input pixels.
    probability : ndarray of float32
        Per-pixel cosmic-ray probability; 0 on bad pixels, NaN where the input was NaN/inf.
    cleaned : ndarray or None
        The image with cosmic-ray pixels filled (input dtype), None unless asked for.
    threshold : float
    model : str
    meta : dict
        Model sha256, normalisation method, timings, counts.
    logit : ndarray of float32
        The network's logit per pixel (``probability = sigmoid(logit)``): it keeps the ranking where
        the float32 probability saturates at exactly 1; -inf on bad pixels, NaN where the input was NaN.
    provenance : dict
        Written into the product's header by :meth:`write` (model, its sha256, threshold, ...).

    ``result.write("frame.cr.fits", header=image.header)`` writes the product ``astroclean cosmic``
    writes: ``CLEAN`` (when cleaned), ``CRMASK`` (uint8), ``CRPROB`` and ``CRLOGIT`` (float32).
    """

    cr_mask: np.ndarray
    probability: np.ndarray
    cleaned: np.ndarray | None
    threshold: float
    model: str
    meta: dict = field(default_factory=dict)
    logit: np.ndarray | None = None

    @property
    def n_pixels(self) -> int:
        """Number of pixels flagged as cosmic rays."""
        return int(self.cr_mask.sum())

    def extensions(self, header=None, *, probability: bool = True) -> list:
        """``CLEAN`` (if cleaned), ``CRMASK`` (uint8, 1 = cosmic ray) and ``CRPROB`` (float32, unless
        ``probability=False``), each with ``header``."""
        out = [] if self.cleaned is None else [("CLEAN", self.cleaned, header)]
        out.append(("CRMASK", self.cr_mask.astype(np.uint8), header, None))  # no BUNIT: not in image units
        if probability:
            out.append(("CRPROB", self.probability.astype(np.float32), header, None))
            if self.logit is not None:   # the unsaturated ranking
                out.append(("CRLOGIT", self.logit.astype(np.float32), header, None))
        return out


def dilate_sparse(mask: np.ndarray, *, iterations: int = 1) -> np.ndarray:
    """``ndimage.binary_dilation(mask, iterations=n)`` (4-connected cross), exactly, touching only the
    flagged pixels' neighbours: a cosmic-ray mask flags ~1e-3 of a frame, so this costs a few scans instead
    of full-frame erosions.

    >>> from scipy import ndimage
    >>> m = np.zeros((6, 6), bool); m[0, 0] = m[3, 4] = True
    >>> bool(np.array_equal(dilate_sparse(m, iterations=2), ndimage.binary_dilation(m, iterations=2)))
    True
    """
    out = np.array(mask, dtype=bool, copy=True)
    ny, nx = out.shape
    for _ in range(iterations):
        ys, xs = np.nonzero(out)
        for dy, dx in ((1, 0), (-1, 0), (0, 1), (0, -1)):
            y, x = ys + dy, xs + dx
            inside = (y >= 0) & (y < ny) & (x >= 0) & (x < nx)
            out[y[inside], x[inside]] = True
    return out


def _seed_card(rng):
    """What a provenance card can say about ``rng``: the seed when it is one, else the generator's kind."""
    if rng is None or isinstance(rng, (int, np.integer)):
        return None if rng is None else int(rng)
    return type(rng).__name__


def check_threshold(threshold) -> float:
    from astroclean.cosmicrays.fpr import check_open_interval

    return check_open_interval(threshold, "threshold", 0.0, 1.0)


def _logit(p: float) -> float:
    return float(np.log(p) - np.log1p(-p))


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=np.float64)))


def _cast_like(cleaned: np.ndarray, dtype_name: str) -> np.ndarray:
    dtype = np.dtype(dtype_name)
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        finite = np.isfinite(cleaned)
        out = np.zeros(cleaned.shape, dtype=dtype)
        out[finite] = np.clip(np.rint(cleaned[finite]), info.min, info.max)
        return out
    if dtype.kind == "f":
        return cleaned.astype(dtype)
    return cleaned


def check_untrained(model: str, *, allow_untrained: bool = False):
    """The card of cosmic-ray ``model``; an architecture without trained weights only when asked for.

    An untrained network flags noise, not cosmic rays (``unet-bn`` flags every pixel); using one by
    mistake would report a wrong result as success.
    """
    from astroclean.models import list_models

    card = check_model_task(model, "cosmicrays", what="cosmic-ray")
    if card.weights_file is None and not allow_untrained:
        shipped = ", ".join(list_models("cosmicrays", pretrained=True))
        raise AstrocleanValueError(f"model {model!r} has no trained weights (an architecture only: its output is "
                                   f"noise); use a trained one ({shipped}; see `astroclean models --task cosmic`), "
                                   "or pass allow_untrained=True (CLI: --untrained) to test the plumbing")
    return card


class CosmicRayDetector:
    """A loaded cosmic-ray model, reused for many images.

    Parameters
    ----------
    model : str
        Registered model name (``astroclean models``): ``"ground"`` or ``"space"``.
    device : str, optional
    tile : int, optional
        Tile core size; memory grows with ``(tile + 2 * halo)**2``; default 512 on CPU, 1024 on a GPU.

    Example
    -------
    >>> detector = CosmicRayDetector("ground")            # doctest: +SKIP
    >>> results = [detector.detect(img) for img in images]  # doctest: +SKIP
    """

    def __init__(self, model: str = DEFAULT_MODEL, *, device=None, tile: int | None = None, allow_untrained: bool = False):
        card = check_untrained(model, allow_untrained=allow_untrained)
        network = create_model(model, pretrained=card.weights_file is not None)
        self.name = model
        self.card = card
        self.predictor = Predictor(network, device=device, tile=tile, activation="none")   # logits
        self.channels = int(card.inputs.get("channels", 1))
        self.default_dilate = int(card.extra.get("default_dilate", 0)) if isinstance(card.extra, dict) else 0

    def logits(self, img):
        """``(logit map, info, normalisation)`` of an Image (no masking applied)."""
        from astroclean.cosmicrays.features import network_input

        x, info = network_input(img, channels=self.channels)
        return np.asarray(self.predictor.dense(x), dtype=np.float32), info

    def detect(self, image, *, mask=None, threshold: float | None = None, saturation: float | None = None,
               dilate: int | None = None, inpaint: bool = False, fill: str = "biharmonic", rng=None,
               saturation_halo: int = DEFAULT_HALO, fpr: float | None = None) -> CosmicRayResult:
        """Detect cosmic rays in one image; see :func:`detect_cosmic_rays` for the parameters."""
        from astroclean.cosmicrays.fpr import check_fpr, flip_image, threshold_from_scores

        threshold = check_threshold(self.card.default_threshold if threshold is None else threshold)
        dilate = self.default_dilate if dilate is None else dilate
        if isinstance(dilate, bool) or dilate < 0 or int(dilate) != dilate:
            raise AstrocleanValueError(f"dilate must be a non-negative integer, got {dilate}")
        if fpr is not None:
            fpr = check_fpr(fpr)
        if fill not in FILLS:
            raise AstrocleanValueError(f"fill must be one of {', '.join(FILLS)}, got {fill!r}")
        start = time.perf_counter()
        img = as_image(image, mask=mask, saturation=saturation)
        logit, info = self.logits(img)
        method = info["normalisation"]
        bad = img.mask
        logit[bad] = -np.inf
        noise, extra, t_logit = None, {}, _logit(threshold)
        if fpr is not None or (inpaint and fill == "noise"):
            _, norm = normalise(img)
            noise = norm.noise if inpaint and fill == "noise" else None
            if fpr is not None:
                flipped = img.replace(data=flip_image(np.where(bad, norm.sky, img.data), norm.sky))
                flip_logit, _ = self.logits(flipped)
                t_logit = threshold_from_scores(flip_logit, fpr, mask=bad)
                threshold = float(_sigmoid(t_logit))
                extra = {"fpr_target": fpr, "threshold_logit": t_logit, "threshold_source": "fpr (sign-flipped frame)"}
            del norm
        probability = _sigmoid(logit).astype(np.float32)
        probability[bad] = 0.0
        crmask = logit >= t_logit
        n_raw = int(crmask.sum())
        crmask = drop_saturation_halo(crmask, saturated_pixels(img), halo=saturation_halo)
        n_halo = n_raw - int(crmask.sum())
        if dilate:
            crmask = dilate_sparse(crmask, iterations=int(dilate)) & ~bad
        nonfinite = ~np.isfinite(img.data)
        probability[nonfinite] = np.nan
        logit[nonfinite] = np.nan
        cleaned = None
        if inpaint:
            filled = fill_masked(img.data, crmask, exclude=bad, method=fill, noise_sigma=noise, rng=rng)
            cleaned = like_input(_cast_like(filled, img.meta.get("input_dtype", str(img.dtype))), image)
        meta = {"model_sha256": self.card.sha256, "normalisation": method, "seconds": time.perf_counter() - start,
                "dilate": int(dilate), "fill": fill if inpaint else None, "name": img.name,
                "n_bad": int(bad.sum()), "n_saturation_halo": n_halo, "noise_channel": info.get("noise_channel"),
                **extra}
        provenance = {"task": "cosmicrays", "model": self.name, "model_sha256": self.card.sha256,
                      "threshold": float(threshold), "dilate": int(dilate), "inpaint": bool(inpaint),
                      "fill": fill if inpaint else None, "rng": _seed_card(rng) if inpaint and fill == "noise" else None,
                      "norm": method, "sathalo": n_halo}
        if fpr is not None:   # the threshold estimated from this frame for the target FPR
            provenance.update(fpr=fpr, tlogit=float(t_logit), tsource=extra["threshold_source"])
        return CosmicRayResult(cr_mask=crmask, probability=probability, cleaned=cleaned, threshold=threshold,
                               model=self.name, meta=meta, provenance=provenance, logit=logit)


_DETECTORS: dict = {}


def detect_cosmic_rays(image, *, mask=None, model: str = AUTO, threshold: float | None = None,
                       saturation: float | None = None, dilate: int | None = None, inpaint: bool = False,
                       fill: str = "biharmonic", rng=None, device=None, fpr: float | None = None) -> CosmicRayResult:
    """Find cosmic-ray pixels in a single exposure.

    Parameters
    ----------
    image : array_like (y, x), Image, numpy.ma array, NDData/CCDData or a FITS path
        Pixels in any unit (ADU or electrons, with or without sky); the
        caller's array is never modified. A ``numpy.ma`` mask and an NDData's
        mask and uncertainty are used (see :func:`astroclean.image.as_image`).
    mask : array_like of bool, optional
        Known bad pixels (True = bad); never reported as cosmic rays and never
        used to fill others. NaN/inf and saturated pixels are added to it.
    model : str
        ``"auto"`` (default): ``"space"`` when the header says a space telescope
        (``TELESCOP=HST``, ...), else ``"cr-any-ens"`` (plain arrays have no header: ``cr-any-ens``);
        or a model name (``"cr-any"``: the fast one, ``"ground"``, ``"space"``; see ``astroclean models``).
        ``result.meta["model_reason"]`` says why.
    threshold : float in (0, 1), optional
        Probability above which a pixel is flagged; default: the model card's.
    saturation : float, optional
        Pixels at or above this level are treated as bad (overrides SATURATE).
        Flagged groups lying mostly within 3 px of saturated pixels (DQ saturated
        or bleed codes, or this level) are dropped: the steep wings of a saturated
        star are not cosmic rays (``meta["n_saturation_halo"]`` counts them).
    dilate : int, optional
        Grow the mask by this many 3x3 dilations after thresholding; default: the model card's
        ``default_dilate`` (1 for the models trained on the charge core, whose mask is the pixels
        with charge above the noise; 0 for the version-1 models, trained on the dilated footprint).
    fpr : float, optional
        Pick the threshold for this false-positive rate (e.g. ``1e-4``), estimated from the frame
        itself (:mod:`astroclean.cosmicrays.fpr`: the scores of the sign-flipped frame); overrides
        ``threshold`` and costs one more network pass. The threshold used is ``result.threshold``
        and ``result.meta["threshold_logit"]``.
    inpaint : bool
        Also return ``cleaned``, with flagged pixels filled, in the caller's
        container (an NDData/CCDData or numpy.ma array in, the same type out).
    fill : {"biharmonic", "median", "noise"}
        Inpainting method: biharmonic (smooth, keeps star profiles; the
        default, the best estimate of each pixel, for photometry), a masked
        median (faster, but it flattens a star's core when a hit lands on it),
        or noise: biharmonic plus Gaussian noise of the local background noise,
        drawn from ``rng`` (cleaned pixels look like data: for display, and for
        statistics of the noise such as power spectra or clipped stacks).
    rng : numpy.random.Generator or int, optional
        Random numbers of ``fill="noise"``; a seed makes the fill reproducible.
    device : str, optional
        ``"cpu"`` or ``"cuda"``; default: CUDA when available.

    Returns
    -------
    CosmicRayResult

    Raises
    ------
    AstrocleanValueError
        Wrong dimensionality, empty/all-NaN data, a threshold outside (0, 1).
    AstrocleanKeyError
        Unknown model name.
    """
    if isinstance(image, (str, os.PathLike)):
        image = as_image(image)  # read once: its header chooses the model
    if model in (None, AUTO) and getattr(image, "header", None) is None:
        chosen, reason = DEFAULT_MODEL, f"auto: no header ({DEFAULT_MODEL})"
    else:
        chosen, reason = choose_model(model, image)
    key = (chosen, str(device))
    if key not in _DETECTORS:
        _DETECTORS.clear()  # keep at most one loaded model around
        _DETECTORS[key] = CosmicRayDetector(chosen, device=device)
    result = _DETECTORS[key].detect(image, mask=mask, threshold=threshold, saturation=saturation, dilate=dilate,
                                    inpaint=inpaint, fill=fill, rng=rng, fpr=fpr)
    result.meta["model_reason"] = reason
    return result


def clean_cosmic_rays(image, *, mask=None, model: str = AUTO, threshold: float | None = None,
                      fill: str = "biharmonic", **options) -> np.ndarray:
    """Shortcut: the cleaned image of :func:`detect_cosmic_rays` (input dtype)."""
    return detect_cosmic_rays(image, mask=mask, model=model, threshold=threshold, inpaint=True, fill=fill,
                              **options).cleaned
