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
from scipy import ndimage

from astroclean.errors import AstrocleanValueError
from astroclean.models.registry import check_model_task
from astroclean.image import as_image, like_input
from astroclean.inference import Predictor, normalise
from astroclean.models import create_model
from astroclean.cosmicrays.choose import AUTO, choose_model
from astroclean.cosmicrays.inpaint import METHODS as FILLS
from astroclean.cosmicrays.inpaint import fill_masked
from astroclean.tasks import Result
from astroclean.cosmicrays.saturated import DEFAULT_HALO, drop_saturation_halo, saturated_pixels

DEFAULT_MODEL = "ground"


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
    provenance : dict
        Written into the product's header by :meth:`write` (model, its sha256, threshold, ...).

    ``result.write("frame.cr.fits", header=image.header)`` writes the product ``astroclean cosmic``
    writes: ``CLEAN`` (when cleaned), ``CRMASK`` (uint8) and ``CRPROB`` (float32).
    """

    cr_mask: np.ndarray
    probability: np.ndarray
    cleaned: np.ndarray | None
    threshold: float
    model: str
    meta: dict = field(default_factory=dict)

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
        return out


def _seed_card(rng):
    """What a provenance card can say about ``rng``: the seed when it is one, else the generator's kind."""
    if rng is None or isinstance(rng, (int, np.integer)):
        return None if rng is None else int(rng)
    return type(rng).__name__


def check_threshold(threshold) -> float:
    try:
        value = float(threshold)
    except (TypeError, ValueError):
        raise AstrocleanValueError(f"threshold must be a number in (0, 1), got {threshold!r}") from None
    if not 0.0 < value < 1.0:
        raise AstrocleanValueError(f"threshold must be in (0, 1), got {threshold}")
    return value


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
    tile : int
        Tile core size; memory grows with ``(tile + 2 * halo)**2``.

    Example
    -------
    >>> detector = CosmicRayDetector("ground")            # doctest: +SKIP
    >>> results = [detector.detect(img) for img in images]  # doctest: +SKIP
    """

    def __init__(self, model: str = DEFAULT_MODEL, *, device=None, tile: int = 1024, allow_untrained: bool = False):
        card = check_untrained(model, allow_untrained=allow_untrained)
        network = create_model(model, pretrained=card.weights_file is not None)
        self.name = model
        self.card = card
        self.predictor = Predictor(network, device=device, tile=tile)

    def detect(self, image, *, mask=None, threshold: float | None = None, saturation: float | None = None,
               dilate: int = 0, inpaint: bool = False, fill: str = "biharmonic", rng=None,
               saturation_halo: int = DEFAULT_HALO) -> CosmicRayResult:
        """Detect cosmic rays in one image; see :func:`detect_cosmic_rays` for the parameters."""
        threshold = check_threshold(self.card.default_threshold if threshold is None else threshold)
        if dilate < 0 or int(dilate) != dilate:
            raise AstrocleanValueError(f"dilate must be a non-negative integer, got {dilate}")
        if fill not in FILLS:
            raise AstrocleanValueError(f"fill must be one of {', '.join(FILLS)}, got {fill!r}")
        start = time.perf_counter()
        img = as_image(image, mask=mask, saturation=saturation)
        x, norm = normalise(img)
        method = norm.method
        noise = norm.noise if inpaint and fill == "noise" else None
        del norm  # the sky and noise maps are not needed any more: keep the peak memory down
        probability = self.predictor(x)
        del x
        bad = img.mask
        probability[bad] = 0.0
        crmask = probability >= threshold
        n_raw = int(crmask.sum())
        crmask = drop_saturation_halo(crmask, saturated_pixels(img), halo=saturation_halo)
        n_halo = n_raw - int(crmask.sum())
        if dilate:
            crmask = ndimage.binary_dilation(crmask, iterations=int(dilate)) & ~bad
        nonfinite = ~np.isfinite(img.data)
        probability[nonfinite] = np.nan
        cleaned = None
        if inpaint:
            filled = fill_masked(img.data, crmask, exclude=bad, method=fill, noise_sigma=noise, rng=rng)
            cleaned = like_input(_cast_like(filled, img.meta.get("input_dtype", str(img.dtype))), image)
        meta = {"model_sha256": self.card.sha256, "normalisation": method, "seconds": time.perf_counter() - start,
                "dilate": int(dilate), "fill": fill if inpaint else None, "name": img.name,
                "n_bad": int(bad.sum()), "n_saturation_halo": n_halo}
        provenance = {"task": "cosmicrays", "model": self.name, "model_sha256": self.card.sha256,
                      "threshold": float(threshold), "dilate": int(dilate), "inpaint": bool(inpaint),
                      "fill": fill if inpaint else None, "rng": _seed_card(rng) if inpaint and fill == "noise" else None,
                      "norm": method, "sathalo": n_halo}
        return CosmicRayResult(cr_mask=crmask, probability=probability, cleaned=cleaned, threshold=threshold,
                               model=self.name, meta=meta, provenance=provenance)


_DETECTORS: dict = {}


def detect_cosmic_rays(image, *, mask=None, model: str = AUTO, threshold: float | None = None,
                       saturation: float | None = None, dilate: int = 0, inpaint: bool = False,
                       fill: str = "biharmonic", rng=None, device=None) -> CosmicRayResult:
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
        (``TELESCOP=HST``, ...), else ``"ground"`` (plain arrays have no header: ``ground``);
        or a model name (``"ground"``, ``"space"``; see ``astroclean models``).
        ``result.meta["model_reason"]`` says why.
    threshold : float in (0, 1), optional
        Probability above which a pixel is flagged; default: the model card's.
    saturation : float, optional
        Pixels at or above this level are treated as bad (overrides SATURATE).
        Flagged groups lying mostly within 3 px of saturated pixels (DQ saturated
        or bleed codes, or this level) are dropped: the steep wings of a saturated
        star are not cosmic rays (``meta["n_saturation_halo"]`` counts them).
    dilate : int
        Grow the mask by this many 3x3 dilations.
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
        chosen, reason = DEFAULT_MODEL, "auto: no header (ground)"
    else:
        chosen, reason = choose_model(model, image)
    key = (chosen, str(device))
    if key not in _DETECTORS:
        _DETECTORS.clear()  # keep at most one loaded model around
        _DETECTORS[key] = CosmicRayDetector(chosen, device=device)
    result = _DETECTORS[key].detect(image, mask=mask, threshold=threshold, saturation=saturation, dilate=dilate,
                                    inpaint=inpaint, fill=fill, rng=rng)
    result.meta["model_reason"] = reason
    return result


def clean_cosmic_rays(image, *, mask=None, model: str = AUTO, threshold: float | None = None,
                      fill: str = "biharmonic", **options) -> np.ndarray:
    """Shortcut: the cleaned image of :func:`detect_cosmic_rays` (input dtype)."""
    return detect_cosmic_rays(image, mask=mask, model=model, threshold=threshold, inpaint=True, fill=fill,
                              **options).cleaned
