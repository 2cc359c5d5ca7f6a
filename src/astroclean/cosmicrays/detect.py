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

import time
from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

from astroclean.errors import AstrocleanValueError
from astroclean.models.registry import check_model_task
from astroclean.image import as_image
from astroclean.inference import Predictor, normalise
from astroclean.models import create_model
from astroclean.cosmicrays.inpaint import fill_masked
from astroclean.tasks import Result

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
        out.append(("CRMASK", self.cr_mask.astype(np.uint8), header))
        if probability:
            out.append(("CRPROB", self.probability.astype(np.float32), header))
        return out


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

    def __init__(self, model: str = DEFAULT_MODEL, *, device=None, tile: int = 1024):
        card = check_model_task(model, "cosmicrays", what="cosmic-ray")
        network = create_model(model, pretrained=card.weights_file is not None)
        self.name = model
        self.card = card
        self.predictor = Predictor(network, device=device, tile=tile)

    def detect(self, image, *, mask=None, threshold: float | None = None, saturation: float | None = None,
               dilate: int = 0, inpaint: bool = False, fill: str = "biharmonic") -> CosmicRayResult:
        """Detect cosmic rays in one image; see :func:`detect_cosmic_rays` for the parameters."""
        threshold = check_threshold(self.card.default_threshold if threshold is None else threshold)
        if dilate < 0 or int(dilate) != dilate:
            raise AstrocleanValueError(f"dilate must be a non-negative integer, got {dilate}")
        start = time.perf_counter()
        img = as_image(image, mask=mask, saturation=saturation)
        x, norm = normalise(img)
        method = norm.method
        del norm  # the sky and noise maps are not needed any more: keep the peak memory down
        probability = self.predictor(x)
        del x
        bad = img.mask
        probability[bad] = 0.0
        crmask = probability >= threshold
        if dilate:
            crmask = ndimage.binary_dilation(crmask, iterations=int(dilate)) & ~bad
        nonfinite = ~np.isfinite(img.data)
        probability[nonfinite] = np.nan
        cleaned = None
        if inpaint:
            filled = fill_masked(img.data, crmask, exclude=bad, method=fill)
            cleaned = _cast_like(filled, img.meta.get("input_dtype", str(img.dtype)))
        meta = {"model_sha256": self.card.sha256, "normalisation": method, "seconds": time.perf_counter() - start,
                "dilate": int(dilate), "fill": fill if inpaint else None, "name": img.name,
                "n_bad": int(bad.sum())}
        provenance = {"task": "cosmicrays", "model": self.name, "model_sha256": self.card.sha256,
                      "threshold": float(threshold), "dilate": int(dilate), "inpaint": bool(inpaint),
                      "fill": fill if inpaint else None, "norm": method}
        return CosmicRayResult(cr_mask=crmask, probability=probability, cleaned=cleaned, threshold=threshold,
                               model=self.name, meta=meta, provenance=provenance)


_DETECTORS: dict = {}


def detect_cosmic_rays(image, *, mask=None, model: str = DEFAULT_MODEL, threshold: float | None = None,
                       saturation: float | None = None, dilate: int = 0, inpaint: bool = False,
                       fill: str = "biharmonic", device=None) -> CosmicRayResult:
    """Find cosmic-ray pixels in a single exposure.

    Parameters
    ----------
    image : array_like (y, x) or Image
        Pixels in any unit (ADU or electrons, with or without sky); the
        caller's array is never modified.
    mask : array_like of bool, optional
        Known bad pixels (True = bad); never reported as cosmic rays and never
        used to fill others. NaN/inf and saturated pixels are added to it.
    model : str
        ``"ground"`` (ground-based CCDs) or ``"space"`` (HST-like); see ``astroclean models``.
    threshold : float in (0, 1), optional
        Probability above which a pixel is flagged; default: the model card's.
    saturation : float, optional
        Pixels at or above this level are treated as bad (overrides SATURATE).
    dilate : int
        Grow the mask by this many 3x3 dilations.
    inpaint : bool
        Also return ``cleaned``, with flagged pixels filled.
    fill : {"biharmonic", "median"}
        Inpainting method: biharmonic (smooth, keeps star profiles; the
        default) or a masked median (faster, but it flattens a star's core
        when a hit lands on it).
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
    key = (model, str(device))
    if key not in _DETECTORS:
        _DETECTORS.clear()  # keep at most one loaded model around
        _DETECTORS[key] = CosmicRayDetector(model, device=device)
    return _DETECTORS[key].detect(image, mask=mask, threshold=threshold, saturation=saturation, dilate=dilate,
                                  inpaint=inpaint, fill=fill)


def clean_cosmic_rays(image, *, mask=None, model: str = DEFAULT_MODEL, threshold: float | None = None,
                      fill: str = "biharmonic", **options) -> np.ndarray:
    """Shortcut: the cleaned image of :func:`detect_cosmic_rays` (input dtype)."""
    return detect_cosmic_rays(image, mask=mask, model=model, threshold=threshold, inpaint=True, fill=fill,
                              **options).cleaned
